"""A GGUF file's header, read in a fraction of a second: the scalar metadata, the vocabulary's size, the tensor table.

``gguf.GGUFReader`` builds a numpy view for every element of every array it
meets, so a header with SmolLM2's 49k-token vocabulary took 2 s and Qwen's
152k tokens and merges 7.7 s (AMD EPYC, 2 cores, 2026-12-07). A run reads the
same ten files in several processes (the ladder, the landscape, the memory check,
notebooks 02 and 05), which came to over a minute. This reader walks the same
layout with :mod:`struct`, skipping arrays by their lengths, and takes the
tensor types' block sizes from the ``gguf`` package. No tensor data is read.

The layout (GGUF v2 and v3): ``GGUF``, version (u32), tensor count and
key-value count (u64), then each key (a u64-length string), its value type
(u32) and value, then each tensor's name, dimensions, type and data offset; the
data starts at the next multiple of ``general.alignment`` (32 unless set).
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"GGUF"
STRING, ARRAY = 8, 9
#: Fixed-size value types by their GGUF code: struct format, and whether the kit keeps it as an integer.
FIXED = {0: ("<B", True), 1: ("<b", True), 2: ("<H", True), 3: ("<h", True), 4: ("<I", True), 5: ("<i", True),
         6: ("<f", False), 7: ("<?", False), 10: ("<Q", True), 11: ("<q", True), 12: ("<d", False)}  # fmt: skip
DEFAULT_ALIGNMENT = 32


class GGUFHeaderError(ValueError):
    """A file whose header is not a GGUF v2/v3 header, or ends before its own tables do."""


@dataclass(frozen=True)
class GGUFTensor:
    """One tensor of a GGUF file: its storage type, size, and row count (the vocabulary, for the embedding)."""

    name: str
    type_name: str
    n_elements: int
    n_bytes: int
    rows: int


@dataclass(frozen=True)
class GGUFHeader:
    """What the kit reads from a GGUF header: the scalar metadata it uses, the vocabulary's size and the tensor table."""

    architecture: str
    scalars: dict[str, int]
    vocab_size: int
    tensors: tuple[GGUFTensor, ...]
    #: Where the last tensor's data ends: a complete file is at least this long.
    data_end: int


class _Cursor:
    def __init__(self, buffer: mmap.mmap) -> None:
        self.buffer, self.at = buffer, 0

    def take(self, fmt: str) -> int | float | bool:
        (value,) = struct.unpack_from(fmt, self.buffer, self.at)
        self.at += struct.calcsize(fmt)
        return value

    def string(self) -> bytes:
        length = int(self.take("<Q"))
        if self.at + length > len(self.buffer):
            raise GGUFHeaderError("its header cannot be read (a string runs past the end of the file)")
        self.at += length
        return self.buffer[self.at - length : self.at]

    def skip_array(self) -> int:
        """Skip an array value; return its length."""
        kind, count = int(self.take("<I")), int(self.take("<Q"))
        if kind == STRING:
            for _ in range(count):
                length = int(self.take("<Q"))  # read first: `self.at += self.take(...)` would add to the old position
                self.at += length
        elif kind in FIXED:
            self.at += count * struct.calcsize(FIXED[kind][0])
        else:
            raise GGUFHeaderError(f"an array of value type {kind}, which GGUF v3 does not define")
        return count


def _parse(cursor: _Cursor) -> GGUFHeader:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    if cursor.buffer[:4] != MAGIC:
        raise GGUFHeaderError("it does not start with 'GGUF'")
    cursor.at = 4
    if (version := cursor.take("<I")) not in (2, 3):
        raise GGUFHeaderError(f"GGUF version {version}; this reader knows versions 2 and 3")
    n_tensors, n_keys = int(cursor.take("<Q")), int(cursor.take("<Q"))
    architecture, scalars, vocab_size = "", {}, 0
    for _ in range(n_keys):
        key, kind = cursor.string().decode(), int(cursor.take("<I"))
        if kind == ARRAY:
            count = cursor.skip_array()
            vocab_size = count if key == "tokenizer.ggml.tokens" else vocab_size
        elif kind == STRING:
            value = cursor.string()
            architecture = value.decode() if key == "general.architecture" else architecture
        elif kind in FIXED:
            fmt, integer = FIXED[kind]
            value = cursor.take(fmt)
            if integer:
                scalars[key] = int(value)
        else:
            raise GGUFHeaderError(f"key {key!r} has value type {kind}, which GGUF v3 does not define")
    tensors, offsets = [], []
    for _ in range(n_tensors):
        name = cursor.string().decode()
        dims = [int(cursor.take("<Q")) for _ in range(int(cursor.take("<I")))]
        kind = GGMLQuantizationType(int(cursor.take("<I")))
        block, type_size = GGML_QUANT_SIZES[kind]
        elements = math.prod(dims)
        tensors.append(GGUFTensor(name, kind.name, elements, elements * type_size // block, dims[-1]))
        offsets.append(int(cursor.take("<Q")))
    alignment = scalars.get("general.alignment", DEFAULT_ALIGNMENT)
    data_start = -(-cursor.at // alignment) * alignment
    data_end = max((data_start + offset + t.n_bytes for offset, t in zip(offsets, tensors, strict=True)), default=data_start)
    return GGUFHeader(architecture, scalars, vocab_size, tuple(tensors), data_end)


def read_gguf_header(path: Path | str) -> GGUFHeader:
    """Parse ``path``'s header; :class:`GGUFHeaderError` if it is not a complete GGUF v2/v3 header."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            return _parse(_Cursor(buffer))
    except GGUFHeaderError:
        raise
    except (struct.error, UnicodeDecodeError, ValueError) as error:  # cut short, garbled, or empty (mmap refuses it)
        raise GGUFHeaderError(f"its header cannot be read ({error})") from None
