"""One clock for every timestamp the kit writes.

Records carry UTC timestamps. Under regeneration, ``SOURCE_DATE_EPOCH`` (the
reproducible-builds convention) fixes the clock, so committed outputs do not
change merely because they were rerun.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    """The current UTC time, or ``SOURCE_DATE_EPOCH`` when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc)


def timestamp(timespec: str = "seconds") -> str:
    """``now()`` as ISO 8601, e.g. ``2026-11-23T11:44:33+00:00``."""
    return now().isoformat(timespec=timespec)


def stamp() -> str:
    """``now()`` as a compact, sortable file-name stamp, e.g. ``20261123T114433000000Z``."""
    return now().strftime("%Y%m%dT%H%M%S%fZ")
