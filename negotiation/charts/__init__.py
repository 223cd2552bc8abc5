"""Stage 6, charts: summary tables and digests in, matplotlib figures and the HTML report out.

Chart functions draw on the Axes they are given and never re-run a model. Also the pictures of one
traced run (concession curves, utility space) and the report of a batch folder. May import the
statistics stage and every stage below it.
"""
