# One entry point per job. Every target sets up what it needs first (a .venv with requirements.txt and, for the
# JavaScript notebook, node_modules from package-lock.json plus its Jupyter kernel registered in the .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := $(VENV)/.node-installed

.PHONY: run test lab serve record bench clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11, 5))' 2>/dev/null || { echo "Python 3.11.5 or newer is needed (the pinned packages require it); found: $$($(PYTHON) --version 2>&1). Run with PYTHON=python3.12 make ... or similar."; exit 1; }
	@command -v curl >/dev/null || { echo "curl not found: notebook 02 and the client tests call it (apt install curl, brew install curl)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==26.3
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# Node.js 20.12+ with npm: the packages pinned in package-lock.json, and the "jslab" kernelspec in the .venv
$(NODE_STAMP): package.json package-lock.json scripts/jslab_kernel.js $(STAMP)
	@command -v npm >/dev/null || { echo "npm not found: notebooks/06_javascript_rest.ipynb needs Node.js 20.12+ with npm (https://nodejs.org)"; exit 1; }
	npm ci --no-audit --no-fund
	node scripts/jslab_kernel.js --install $(VENV)
	touch $(NODE_STAMP)

## run: execute every notebook (offline against the replay server unless AZURE_INFERENCE_ENDPOINT is set)
run: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/run_notebooks.py

## test: the whole test suite: unit and client tests, then every notebook under nbval, on both cores
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## lab: JupyterLab with the replay server running behind it and the kernels' environment set
lab: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/lab.py

## serve: the replay server alone, in the foreground (prints one endpoint line per deployment)
serve: $(STAMP)
	$(BIN)/python -m helpers.mock serve --port 8000

## record: re-record every notebook's traffic against the live endpoints in AZURE_INFERENCE_* variables
record: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/run_notebooks.py --record

## bench: benchmarks; results go to bench/results/ and the README quotes them
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf build $(VENV) node_modules
