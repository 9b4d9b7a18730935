# The two commands a newcomer needs: `make run` and `make test`. Both set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0
# OpenMP threads sleep instead of spinning while waiting: torch stays fast when other processes share the cores.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: run test setup browser lint bench clean test-server
# A real third-party OpenAI-compatible server for `make test-server` (compiles llama.cpp: 5-15 min the first time).
LLAMA_VENV ?= $(HOME)/.cache/recaug/llama-venv

# The pinned set, the packages that carry offline data/models (--no-deps), then recaug itself, editable, so that
# `import recaug` and the `recaug` command work from any folder.
$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium for the browser test..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	  || { echo "Could not install chromium (need root and Debian's packages)"; exit 1; }; }

run: setup
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 \
	  --server.port $(PORT) --browser.gatherUsageStats false

# The llama.cpp server tests need a compiled server: they run in `make test-server`, not here.
test: setup browser lint
	$(PY) -m pytest -q -p no:cacheprovider tests --ignore=tests/servers/test_llama_cpp_server.py; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# Not part of `make test`: installs llama-cpp-python[server] into its own venv, serves the packaged SmolLM2 GGUF
# on 127.0.0.1 and runs the HTTP backend (probe, scoring mode, generation, budget, llm-interactions) against it.
# The build is portable x86-64-v3 (AVX2/FMA/F16C) with AMX off: `-march=native` enables AMX kernels on CPUs that
# advertise it through cpuid, and a VM that does not enable AMX kills them with SIGILL (`tilezero`) at the first
# request. The stamp records the flags, so a venv built with other flags is rebuilt instead of reused.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
LLAMA_STAMP := $(LLAMA_VENV)/.recaug-build
test-server: setup
	@echo "CPU: $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	@echo "CPU features: $$(grep -m1 -o -w -E 'avx|avx2|fma|f16c|avx512f|avx512_vnni|avx512_bf16|amx_tile|amx_int8|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
	@echo "llama.cpp build flags: $(LLAMA_CMAKE_ARGS)"
	test -x $(LLAMA_VENV)/bin/python || $(PYTHON) -m venv $(LLAMA_VENV)
	@if [ "$$(cat $(LLAMA_STAMP) 2>/dev/null)" != "$(LLAMA_CMAKE_ARGS)" ]; then \
	  echo "Building llama-cpp-python (5-15 min)..."; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLAMA_VENV)/bin/pip install --quiet --no-cache-dir --force-reinstall \
	    "llama-cpp-python[server]==0.3.36" && echo "$(LLAMA_CMAKE_ARGS)" > $(LLAMA_STAMP); fi
	RECAUG_LLAMA_SERVER_PYTHON=$(LLAMA_VENV)/bin/python $(PY) -m pytest -q -p no:cacheprovider -rA \
	  tests/servers/test_llama_cpp_server.py

lint: setup
	$(VENV)/bin/ruff check recaug ui pages tests benchmarks scripts app.py
	$(VENV)/bin/ruff format --check recaug ui pages tests benchmarks scripts app.py
	$(VENV)/bin/mypy  # recaug/, settings in pyproject.toml

bench: setup
	$(PY) benchmarks/skeleton.py

clean:
	rm -rf $(VENV)
