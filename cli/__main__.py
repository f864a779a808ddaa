"""`python -m cli` runs the `uplift` command (tests start it this way in a child process)."""

import sys

from cli.main import main

sys.exit(main())
