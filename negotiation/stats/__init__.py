"""Stage 5, statistics: a results folder (or table) in, summary tables out, in bounded memory.

Results are streamed once into a :class:`~negotiation.stats.digest.ResultsDigest`; deal
probabilities with intervals, issue moves, agreed terms and time to deal are computed from it. May
import the batch stage (to read folders) and the stages below it.
"""
