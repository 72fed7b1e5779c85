"""``python -m helpers.shelf build|status``: build what is missing from the offline shelf, or only report."""

from helpers.shelf.status import main

raise SystemExit(main())
