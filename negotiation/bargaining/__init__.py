"""Stage 2, bargaining: the vectorised negotiation core. Pure numpy: no Mesa, no files.

Takes a Scenario and compiles it to arrays; gives preferences, concession strategies, the
alternating-offers protocol over many runs at once, outcomes and their analysis (Pareto frontier,
Nash point). May import ``negotiation.scenario`` and the foundation modules only.
"""
