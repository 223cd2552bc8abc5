"""Stage 5, statistics: a results folder (or table) in, summary tables out, in bounded memory.

Results are streamed once into a :class:`~negotiation.stats.digest.ResultsDigest`; deal
probabilities with intervals, issue moves, agreed terms and time to deal are computed from it, by
one implementation (:mod:`negotiation.stats.summary`) whether the results come as a DataFrame or a
folder. May import the batch stage (to read folders) and the stages below it.
"""

from negotiation.stats.digest import ResultsDigest, as_digest, read_digest
from negotiation.stats.summary import (
    agreed_terms,
    deal_probability,
    issue_movement,
    issue_table,
    summarise,
    summary_table,
    time_to_deal,
)

__all__ = [
    "ResultsDigest",
    "agreed_terms",
    "as_digest",
    "deal_probability",
    "issue_movement",
    "issue_table",
    "read_digest",
    "summarise",
    "summary_table",
    "time_to_deal",
]
