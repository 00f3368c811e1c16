"""`python -m ruralgov …` is the `ruralgov` command."""

import sys

from .cli import main

sys.exit(main())
