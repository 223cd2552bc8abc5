"""Top stage, dashboard (Mesa SolaraViz): tune parameters, watch one run, see deal probabilities.

May import any stage below the commands. Needs the ``dashboard`` extra (``pip install .[dashboard]``).
The library never imports this package; ``negotiation dashboard`` starts it.
:mod:`negotiation.dashboard.state` holds the testable logic and imports nothing from Solara;
:mod:`negotiation.dashboard.app` is the Solara page.
"""
