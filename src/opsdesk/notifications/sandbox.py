"""The only tags and filters a notification template may use.

Templates are written by administrators in the browser and rendered in the worker, so they
get a deliberately small language: conditions, loops and text formatting over the plain
values the desk hands them. Nothing loads other templates or libraries (``include``,
``extends``, ``load``), prints the context (``debug``), reverses URLs, or switches escaping
off (``safe``, ``autoescape off``): values from requesters stay escaped in HTML.
"""

from __future__ import annotations

from django.template import Library, defaultfilters, defaulttags

register = Library()

SAFE_TAGS = (
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "spaceless",
    "templatetag",
    "verbatim",
    "with",
)
SAFE_FILTERS = (
    "add",
    "capfirst",
    "center",
    "cut",
    "date",
    "default",
    "default_if_none",
    "divisibleby",
    "escape",
    "filesizeformat",
    "first",
    "floatformat",
    "force_escape",
    "join",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "ljust",
    "lower",
    "pluralize",
    "rjust",
    "slice",
    "striptags",
    "time",
    "timesince",
    "timeuntil",
    "title",
    "truncatechars",
    "truncatewords",
    "upper",
    "urlencode",
    "wordcount",
    "wordwrap",
    "yesno",
)

for _name in SAFE_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
for _name in SAFE_FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]
