"""``python -m sre_runbooks`` is the ``runbook`` command."""

import sys

from sre_runbooks.cli import main

sys.exit(main())
