"""``python -m helpers.evals``: see :mod:`helpers.evals.cli`."""

from helpers.evals.cli import main

raise SystemExit(main())
