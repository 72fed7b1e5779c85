"""Each shelf folder's ``shelf_manifest.json``: the size and SHA-256 of every file, written once and checked on use.

A folder whose files do not match its manifest is rebuilt, never loaded; the
quick check compares sizes, the deep one digests too.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Protocol

from helpers.core.paths import atomic_write_json, relative

MANIFEST = "shelf_manifest.json"


class Entry(Protocol):
    """What the manifest needs of a shelf entry."""

    name: str
    provenance: str

    @property
    def path(self) -> Path: ...


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(entry: Entry, folder: Path) -> None:
    files = {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    atomic_write_json(folder / MANIFEST, {"name": entry.name, "provenance": entry.provenance, "files": files})


def problems(entry: Entry, *, deep: bool = False) -> list[str]:
    """What is wrong with a shelf folder; empty when it is complete.

    The quick check compares sizes with the manifest; ``deep=True`` also
    compares SHA-256 digests, which catches files corrupted in place.
    """
    manifest_path = entry.path / MANIFEST
    if not manifest_path.is_file():
        return [f"{relative(entry.path)} has no {MANIFEST} (never built, or the build was interrupted)"]
    try:
        files = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError) as error:
        return [f"{relative(manifest_path)} is unreadable: {error}"]
    found = []
    for name, expected in files.items():
        path = entry.path / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif path.stat().st_size != expected["bytes"]:
            found.append(f"{name} has {path.stat().st_size} bytes, the manifest says {expected['bytes']}")
        elif deep and sha256(path) != expected["sha256"]:
            found.append(f"{name} does not match its SHA-256 in the manifest")
    return found
