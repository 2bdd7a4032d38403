"""Folding away what a reply quotes: the new part is shown, the quoted rest and the signature
are kept behind "show quoted text".

Recognised: Gmail and Apple Mail ("On … wrote:", also broken over two lines), Outlook
("-----Original Message-----", and the "From: … Sent: …" block), German and French clients'
equivalents, a trailing block of "> " lines, and the "-- " signature delimiter. Inline replies
(answers between quoted lines) are kept whole: cutting them would lose the answers.
"""

from __future__ import annotations

import re

ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.{1,300}\swrote:|Am\s.{1,300}\sschrieb.{0,200}:|Le\s.{1,300}\sa\s+écrit\s*:|"
    r"El\s.{1,300}\sescribió:|Op\s.{1,300}\sgeschreven:)\s*$",
    re.IGNORECASE,
)
ORIGINAL = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Reply message)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De)\s*:\*?\s+\S", re.IGNORECASE)
OUTLOOK_NEXT = re.compile(r"^\s*\*?(?:Sent|Date|Gesendet|Envoyé|To|An|À)\s*:", re.IGNORECASE)
SIGNATURE = re.compile(r"^-- ?$")


def split_quoted(text: str) -> tuple[str, str]:
    """(new part, folded rest). Without anything to fold, the rest is ""."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    cut = _cut_line(lines)
    if cut is None:
        return text.strip(), ""
    new, rest = "\n".join(lines[:cut]).strip(), "\n".join(lines[cut:]).strip()
    if not new:
        # Nothing written above the quote (a bare forward, a top-quoted reply): show it all.
        return text.strip(), ""
    return new, rest


def _cut_line(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if SIGNATURE.match(line) or ORIGINAL.match(line):
            return index
        if ATTRIBUTION.match(line):
            return index
        # Gmail breaks a long attribution: "On Mon, 3 Jun 2024 at 10:00, Ann Example <" / "ann@x> wrote:"
        if (
            index + 1 < len(lines)
            and re.match(r"^\s*On\s", line, re.I)
            and ATTRIBUTION.match(f"{line} {lines[index + 1]}")
        ):
            return index
        if OUTLOOK_FROM.match(line) and any(
            OUTLOOK_NEXT.match(following) for following in lines[index + 1 : index + 4]
        ):
            return index
        if line.startswith(">") and _only_quotes_follow(lines[index:]):
            return index
    return None


def _only_quotes_follow(lines: list[str]) -> bool:
    for line in lines:
        if SIGNATURE.match(line):
            return True
        if line.strip() and not line.startswith(">"):
            return False
    return True
