"""``python -m llmgym ...``: the same command line as ``llmgym ...``."""

import sys

from llmgym.cli import main

sys.exit(main())
