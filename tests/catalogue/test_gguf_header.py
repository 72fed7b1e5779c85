"""The fast GGUF header reader against gguf's own GGUFReader, on files gguf writes and on the shelf's real models."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.catalogue.gguf_header import GGUFHeaderError, read_gguf_header
from helpers.core.names import QWEN_SIBLING, SMOLLM2
from helpers.shelf.models import gguf_for
from helpers.shelf.status import missing_for


def what_gguf_reads(path) -> tuple:
    """The same fields through ``gguf.GGUFReader`` (its own ``GGUF.*`` pseudo-fields left out)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))
    scalars = {
        key: int(field.parts[field.data[0]][0])
        for key, field in reader.fields.items()
        if not key.startswith("GGUF.") and len(field.types) == 1 and field.types[0].name.startswith(("UINT", "INT"))
    }
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    tensors = tuple((t.name, t.tensor_type.name, int(t.n_elements), int(t.n_bytes), int(t.shape[-1])) for t in reader.tensors)
    end = max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
    return (
        bytes(reader.fields["general.architecture"].parts[-1]).decode(),
        scalars,
        len(tokens.data) if tokens else 0,
        tensors,
        end,
    )


def what_the_kit_reads(path) -> tuple:
    header = read_gguf_header(path)
    tensors = tuple((t.name, t.type_name, t.n_elements, t.n_bytes, t.rows) for t in header.tensors)
    return header.architecture, header.scalars, header.vocab_size, tensors, header.data_end


def written(path, *, alignment: int | None = None):
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    if alignment:
        writer.add_custom_alignment(alignment)
    writer.add_block_count(2)
    writer.add_token_list(["<s>", "hello", "wörld", ""])
    writer.add_array("some.floats", [0.5, 1.5])
    writer.add_tensor("token_embd.weight", np.ones((4, 8), dtype=np.float16))
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("alignment", [None, 64])
def test_a_file_gguf_writes_reads_the_same_as_gguf_reads_it(tmp_path, alignment):
    path = written(tmp_path / "tiny.gguf", alignment=alignment)
    assert what_the_kit_reads(path) == what_gguf_reads(path)
    assert read_gguf_header(path).vocab_size == 4 and read_gguf_header(path).data_end <= path.stat().st_size


@pytest.mark.parametrize("model", [SMOLLM2, pytest.param(QWEN_SIBLING, marks=pytest.mark.slow)])
def test_the_shelf_models_read_the_same_as_gguf_reads_them(model):
    if why := missing_for(model):
        pytest.skip(why)
    path = gguf_for(model)[1]
    assert what_the_kit_reads(path) == what_gguf_reads(path)


@pytest.mark.parametrize("keep", [0, 3, 40, 200])
def test_a_header_cut_short_or_not_gguf_is_a_clear_error(tmp_path, keep):
    whole = written(tmp_path / "whole.gguf").read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[:keep])
    with pytest.raises(GGUFHeaderError, match="does not start with 'GGUF'|header cannot be read"):
        read_gguf_header(cut)


def test_another_gguf_version_is_named(tmp_path):
    whole = bytearray(written(tmp_path / "whole.gguf").read_bytes())
    whole[4:8] = (1).to_bytes(4, "little")
    (tmp_path / "v1.gguf").write_bytes(whole)
    with pytest.raises(GGUFHeaderError, match="GGUF version 1; this reader knows versions 2 and 3"):
        read_gguf_header(tmp_path / "v1.gguf")
