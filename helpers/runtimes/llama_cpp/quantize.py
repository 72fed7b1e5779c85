"""The quantization ladder: one model at seven GGUF precisions, built with llama.cpp's own tools and measured.

The deployment guide's table (Q2_K to F16, Q4_K_M recommended) is made real for
SmolLM2-135M-Instruct, in the guide's own steps:

1. **convert**: llama.cpp's ``convert_hf_to_gguf.py`` (from the llama-cpp-python
   source distribution on PyPI) turns the Transformers folder into an F16 GGUF;
2. **quantize**: ``llama_model_quantize`` (llama.cpp's quantizer, through
   llama-cpp-python) writes Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q3_K_M and Q2_K from it;
3. **run**: every level is measured in a fresh process (``helpers.measured.ladder``).

The source folder comes from :func:`helpers.shelf.models.resolve`. **Offline it is the
shelf's fp32 folder, itself dequantised from a Q4_1 file**, so the top of the
ladder holds Q4_1's information and the ladder shows how quality falls from
that baseline. Online (Colab) the same code converts the hub's original bf16
weights.

The files go on the shelf like every other model there: built in a staging
folder, given a manifest of sizes and SHA-256 digests, renamed into place, and
built once (``make ladder``).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from helpers.catalogue.gguf_header import GGUFHeaderError, read_gguf_header
from helpers.core.i18n import N_
from helpers.core.names import SMOLLM2
from helpers.core.paths import CACHE, SHELF, relative
from helpers.core.quiet import quiet_libraries
from helpers.fits.roofline import gguf_tensors
from helpers.runtimes.llama_cpp.build import require_avx2
from helpers.shelf import builds as shelf_builds
from helpers.shelf import models
from helpers.shelf.models import ShelfEntry

#: The guide's ladder, highest precision first; the first is the reference for quality.
LEVELS = ("F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")
REFERENCE = LEVELS[0]
#: Each level's name in the estimator's table of bytes per parameter.
ESTIMATOR_DTYPE = {"F16": "fp16", "Q8_0": "q8_0", "Q6_K": "q6_k", "Q5_K_M": "q5_k_m", "Q4_K_M": "q4_k_m",
                   "Q3_K_M": "q3_k_m", "Q2_K": "q2_k"}  # fmt: skip
STEM = "SmolLM2-135M-Instruct"
#: The sum of the levels' bits per weight, with room for the converter's temporary files: disk needed ≈ this × parameters / 8.
LADDER_BITS_WITH_MARGIN = 1.3 * (16 + 8.5 + 6.6 + 5.7 + 4.9 + 4.0 + 3.2)
GGUF_MAGIC = b"GGUF"


class QuantizationError(RuntimeError):
    """The ladder cannot be built or a file cannot be used; the message says what to do."""


def gguf_name(level: str) -> str:
    return f"{STEM}.{level}.gguf"


# --------------------------------------------------------------------------- checks before any work


def supported_levels() -> tuple[str, ...]:
    """The ladder levels the installed llama.cpp can write (it names each file type ``LLAMA_FTYPE_MOSTLY_<LEVEL>``)."""
    import llama_cpp

    return tuple(level for level in LEVELS if hasattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{level}"))


def check_level(level: str) -> str:
    """The level, upper-cased, if this kit and the installed llama.cpp both support it."""
    wanted = level.upper()
    supported = supported_levels()
    if wanted not in supported:
        import llama_cpp

        raise QuantizationError(
            f"Quantization level {level!r} is not available: the ladder has {', '.join(LEVELS)}, and the installed "
            f"llama-cpp-python {llama_cpp.__version__} can write {', '.join(supported) or 'none of them'}. "
            "Pick one of those, or install a llama-cpp-python that knows the level."
        )
    return wanted


def check_gguf(path: Path | str) -> Path:
    """Refuse a file that is not a complete GGUF: wrong magic, an unreadable header, or tensor data cut short."""
    path = Path(path)
    advice = f"Delete {relative(path)} and rebuild it (`make ladder` for the ladder, `make run` for the shelf)."
    if not path.is_file():
        raise QuantizationError(f"{relative(path)} does not exist. {advice}")
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise QuantizationError(f"{relative(path)} is not a GGUF file (it does not start with 'GGUF'). {advice}")
    try:
        end = read_gguf_header(path).data_end
    except GGUFHeaderError as error:
        raise QuantizationError(f"{relative(path)} is corrupt or truncated: {error}. {advice}") from None
    if end > path.stat().st_size:
        raise QuantizationError(
            f"{relative(path)} is truncated: its tensors need {end:,} bytes, the file has {path.stat().st_size:,}. {advice}"
        )
    return path


def check_disk(needed_bytes: int, where: Path = SHELF) -> None:
    """Refuse to start a build that would fill the disk halfway through."""
    probe = where if where.exists() else where.parent
    free = shutil.disk_usage(probe).free
    if free < needed_bytes:
        raise QuantizationError(
            f"The ladder needs about {needed_bytes / 1e6:,.0f} MB free under {relative(where)}; "
            f"{free / 1e6:,.0f} MB are free. Free some space (for example `rm -rf .vllm-cache`) and run `make ladder` again. "
            "Nothing on the shelf was changed."
        )


def ladder_bytes_needed(parameters: int) -> int:
    return int(parameters * LADDER_BITS_WITH_MARGIN / 8)


# --------------------------------------------------------------------------- convert and quantize


def source_folder(name: str = SMOLLM2) -> Path:
    """A Transformers folder for ``name``: the shelf copy offline, the hub's snapshot online."""
    resolved = models.resolve(name)
    if Path(resolved).is_dir():
        return Path(resolved)
    quiet_libraries()
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(resolved, allow_patterns=["*.json", "*.safetensors", "*.jinja", "tokenizer*"]))


def _converter(into: Path) -> Path:
    """Unpack llama.cpp's converter (script, model classes, its own gguf-py) from the llama-cpp-python sdist."""
    prefix = "vendor/llama.cpp/"
    wanted = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
    with tarfile.open(shelf_builds.llama_cpp_sdist()) as tar:
        for member in tar.getmembers():
            inner = member.name.split("/", 1)[-1]
            if member.isfile() and inner.startswith(prefix) and inner[len(prefix) :].startswith(wanted):
                target = into / inner[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
    return into / "convert_hf_to_gguf.py"


def convert_to_f16(folder: Path, out: Path) -> Path:
    """Step 1 of the guide: ``convert_hf_to_gguf.py FOLDER --outfile OUT --outtype f16``."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="llama-convert.") as tools:
        script = _converter(Path(tools))
        env = {**os.environ, "PYTHONPATH": str(Path(tools) / "gguf-py"), "HF_HUB_OFFLINE": "1"}
        command = [sys.executable, str(script), str(folder), "--outfile", str(out), "--outtype", "f16"]
        result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise QuantizationError(
            f"llama.cpp's converter failed on {relative(folder)} (exit {result.returncode}): {result.stderr.strip()[-600:]}"
        )
    return check_gguf(out)


def quantize(source: Path, out: Path, level: str) -> Path:
    """Step 2 of the guide: llama.cpp's quantizer, ``llama-quantize SOURCE OUT LEVEL``, through llama-cpp-python."""
    import llama_cpp

    level = check_level(level)
    check_gguf(source)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{level}")
    params.nthread = os.cpu_count() or 1
    status = llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(), ctypes.byref(params))
    if status != 0:
        raise QuantizationError(f"llama.cpp could not quantize {relative(source)} to {level} (status {status}).")
    return check_gguf(out)


def _build_ladder(staging: Path) -> None:
    """Convert once to F16, then quantize every lower level from that F16 file."""
    from helpers.catalogue.models import shape_from_config_file
    from helpers.fits.estimator import parameter_count

    require_avx2()
    folder = source_folder()
    check_disk(ladder_bytes_needed(parameter_count(shape_from_config_file(folder / "config.json"))))
    reference = convert_to_f16(folder, staging / gguf_name(REFERENCE))
    for level in LEVELS[1:]:
        quantize(reference, staging / gguf_name(level), level)


LADDER = ShelfEntry(
    f"{SMOLLM2} quantization ladder",
    f"{STEM}-ladder",
    N_(
        "F16 from llama.cpp's convert_hf_to_gguf.py on the Transformers folder models.resolve gives (offline: the shelf's "
        "fp32 folder, dequantised from Q4_1), the other levels from llama.cpp's quantizer"
    ),
    _build_ladder,
)


def weight_types(path: Path | str) -> dict[str, float]:
    """The share of a file's parameters stored in each tensor type, largest first.

    K-quant blocks hold 256 weights per row, and SmolLM2's rows are 576 wide, so
    llama.cpp stores most of its matrices in a fallback type (Q5_0, Q4_0, Q8_0);
    a level's name says less about a small model than this breakdown does.
    """
    counts: dict[str, int] = {}
    for tensor in gguf_tensors(str(path)):
        counts[tensor.type_name] = counts.get(tensor.type_name, 0) + tensor.n_elements
    total = sum(counts.values())
    return {name: round(count / total, 3) for name, count in sorted(counts.items(), key=lambda item: -item[1])}


def ladder_files() -> dict[str, Path]:
    """Every level's GGUF, building the ladder onto the shelf first if it is missing or damaged."""
    folder = models.ensure(LADDER)
    return {level: folder / gguf_name(level) for level in LEVELS}
