"""`python -m imgopt.entrypoints.cli`: the same as the `imgopt` command."""

import sys

from imgopt.entrypoints.cli.main import main

sys.exit(main())
