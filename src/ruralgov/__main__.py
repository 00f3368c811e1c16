"""`python -m ruralgov …` is the `ruralgov` command."""

import sys

from ruralgov.app.cli import main

sys.exit(main())
