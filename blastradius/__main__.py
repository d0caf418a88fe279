"""``python -m blastradius`` runs the command line."""

import sys

from blastradius.cli import main

sys.exit(main())
