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
# on 127.0.0.1 and runs the HTTP backend (probe, generation, timeouts, llm-interactions) against it.
test-server: setup
	test -x $(LLAMA_VENV)/bin/python || $(PYTHON) -m venv $(LLAMA_VENV)
	$(LLAMA_VENV)/bin/python -c "import llama_cpp.server" 2>/dev/null || \
	  $(LLAMA_VENV)/bin/pip install --quiet "llama-cpp-python[server]==0.3.36"
	RECAUG_LLAMA_SERVER_PYTHON=$(LLAMA_VENV)/bin/python $(PY) -m pytest -q -p no:cacheprovider \
	  tests/servers/test_llama_cpp_server.py

lint: setup
	$(VENV)/bin/ruff check recaug ui pages tests benchmarks scripts app.py
	$(VENV)/bin/ruff format --check recaug ui pages tests benchmarks scripts app.py
	$(VENV)/bin/mypy  # recaug/, settings in pyproject.toml

bench: setup
	$(PY) benchmarks/skeleton.py

clean:
	rm -rf $(VENV)
