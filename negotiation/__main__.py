"""``python -m negotiation``: the same as the ``negotiation`` command."""

import sys

from negotiation.commands.main import main

sys.exit(main())
