"""python -m perftrack: the perftrack command."""

import sys

from perftrack.cli import main

sys.exit(main())
