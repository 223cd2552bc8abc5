"""Negotiators: the decisions at a seat, behind one small interface (propose, respond, hooks).

``interface`` (the vocabulary: offers, responses, utility functions, the read-only state a negotiator
sees), ``reference`` (every built-in strategy as a plain-Python negotiator), ``registry`` (kinds
found through the ``negotiation.negotiators`` entry-point group), ``mechanism`` (the per-run path:
alternating offers asked of negotiators), ``negmas_adapter`` (NegMAS negotiators, optional extra).
"""
