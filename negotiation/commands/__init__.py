"""Sub-commands of the ``negotiation`` command line, one module each."""
