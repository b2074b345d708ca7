"""`python -m fakehub --port 0 --repo org/name=DIR ...`: serve repos until SIGTERM (benchmarks)."""

import sys

from fakehub.cli import main

sys.exit(main())
