"""Tunable numbers of the knowledge base, in one place."""

# Suggestions: how many articles/tickets to show and how many candidates to score.
SUGGESTION_LIMIT = 5
SIMILAR_TICKET_LIMIT = 5
CANDIDATE_LIMIT = 300
# A query is cut to this many characters and this many distinct words before matching.
MAX_QUERY_CHARS = 300
MAX_QUERY_WORDS = 12
MIN_WORD_LENGTH = 2
# Weights of a query word found in an article's title, tags and body.
TITLE_WEIGHT = 3
TAG_WEIGHT = 2
BODY_WEIGHT = 1

# Knowledge gaps report.
GAP_DAYS = 90
GAP_MIN_TICKETS = 5
GAP_WORD_LIMIT = 20
GAP_TITLE_SAMPLE = 20_000
POOR_FEEDBACK_MIN_VOTES = 5
POOR_FEEDBACK_RATIO = 0.5

# Versions and diffs.
DIFF_CONTEXT_LINES = 3
