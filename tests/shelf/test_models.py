"""The offline shelf: real tokenizer, real loading, and repair of broken folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.core.names import SMOLLM2, SMOLLM2_GGUF, TINY_GPT2
from helpers.shelf import models
from helpers.shelf.models import ShelfEntry, ShelfError

SEPARATOR = "\n__ggml_vocab_test__\n"  # llama.cpp writes one after every text, the last included


def reference_cases() -> list[tuple[str, list[int]]]:
    folder = models.SHELF_ENTRIES[TINY_GPT2].path / "vocab_reference"
    texts = (folder / "ggml-vocab-gpt-2.gguf.inp").read_text(encoding="utf-8").removesuffix(SEPARATOR).split(SEPARATOR)
    ids = (folder / "ggml-vocab-gpt-2.gguf.out").read_text(encoding="utf-8").splitlines()
    return [(text, [int(i) for i in line.split()]) for text, line in zip(texts, ids, strict=True)]


@pytest.mark.slow
def test_tiny_gpt2_tokenizer_matches_every_reference_encoding():
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(models.SHELF_ENTRIES[TINY_GPT2].path)
    cases = reference_cases()
    assert len(cases) == 46 and ("", []) in cases  # 46 texts, the empty string among them
    assert [tokenizer.encode(text) for text, _ in cases] == [expected for _, expected in cases]


@pytest.mark.slow
def test_tiny_gpt2_has_the_shape_of_sshleifer_tiny_gpt2():
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(models.SHELF_ENTRIES[TINY_GPT2].path)
    config = model.config
    assert (config.vocab_size, config.n_positions, config.n_embd, config.n_layer, config.n_head) == (50257, 1024, 2, 2, 2)
    assert sum(p.numel() for p in model.parameters()) == 102_714


def test_offline_resolve_uses_the_shelf_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = models.resolve(TINY_GPT2)
    assert Path(path) == models.SHELF_ENTRIES[TINY_GPT2].path
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith(
        "Offline: loading sshleifer/tiny-gpt2 from the shelf copy in .shelf/tiny-gpt2"
    )


def test_local_folder_is_used_as_is(tmp_path):
    assert models.resolve(str(tmp_path)) == str(tmp_path)


def test_unknown_name_offline_lists_the_shelf(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ShelfError) as error:
        models.resolve("meta-llama/Llama-3.1-8B-Instruct")
    message = str(error.value)
    assert "meta-llama/Llama-3.1-8B-Instruct" in message
    for name in models.SHELF_ENTRIES:
        assert name in message


@pytest.fixture
def builds() -> list[Path]:
    """The staging folders the toy entry was built in, one per build."""
    return []


@pytest.fixture
def toy_entry(tmp_path, monkeypatch, builds) -> ShelfEntry:
    """A shelf entry whose build writes two small files, on a temporary shelf."""
    monkeypatch.setattr(models, "SHELF", tmp_path / "shelf")

    def build(staging: Path) -> None:
        builds.append(staging)
        (staging / "config.json").write_text('{"a": 1}')
        (staging / "weights.bin").write_bytes(b"\x01" * 64)

    return ShelfEntry("toy/model", "toy", "built for a test", build)


def test_build_then_nothing_to_do(toy_entry, builds):
    models.ensure(toy_entry)
    models.ensure(toy_entry, deep=True)
    assert len(builds) == 1
    assert models.problems(toy_entry, deep=True) == []


def test_truncated_file_is_rebuilt_not_loaded(toy_entry, builds):
    folder = models.ensure(toy_entry)
    (folder / "weights.bin").write_bytes(b"\x01" * 10)
    assert "weights.bin has 10 bytes" in models.problems(toy_entry)[0]
    models.ensure(toy_entry)
    assert (folder / "weights.bin").read_bytes() == b"\x01" * 64
    assert len(builds) == 2


def test_corrupt_file_of_the_same_size_is_caught_by_the_deep_check(toy_entry):
    folder = models.ensure(toy_entry)
    (folder / "weights.bin").write_bytes(b"\x02" * 64)
    assert models.problems(toy_entry) == []
    assert "SHA-256" in models.problems(toy_entry, deep=True)[0]
    models.ensure(toy_entry, deep=True)
    assert (folder / "weights.bin").read_bytes() == b"\x01" * 64


def test_interrupted_build_leaves_no_folder_and_keeps_the_old_one(toy_entry):
    folder = models.ensure(toy_entry)
    (folder / "weights.bin").unlink()
    good_config = (folder / "config.json").read_text()

    def crash(staging: Path) -> None:
        (staging / "config.json").write_text("half")
        raise KeyboardInterrupt

    broken = ShelfEntry(toy_entry.name, toy_entry.folder, toy_entry.provenance, crash)
    with pytest.raises(KeyboardInterrupt):
        models.ensure(broken)
    assert (folder / "config.json").read_text() == good_config
    assert [p.name for p in folder.parent.iterdir()] == ["toy"]


def test_missing_shelf_model_says_how_to_build_it(toy_entry, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setitem(models.SHELF_ENTRIES, toy_entry.name, toy_entry)
    with pytest.raises(ShelfError, match="make run"):
        models.resolve(toy_entry.name)


def test_offline_smollm2_folder_is_known_to_be_the_gguf_dequantised(monkeypatch):
    """So notebook 02 can say that Transformers and llama.cpp ran the same weights, and only when it is true."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.converted_from(models.resolve(SMOLLM2)) is models.SHELF_ENTRIES[SMOLLM2_GGUF]
    assert models.gguf_file().parent == models.SHELF_ENTRIES[SMOLLM2_GGUF].path
    assert models.converted_from(models.resolve(TINY_GPT2)) is None
    assert models.converted_from(SMOLLM2) is None  # a hub id (online): the original weights
