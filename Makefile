# One entry point per job. Every target sets up what it needs first (a .venv with requirements.txt).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lab serve record bench clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

## run: execute every notebook (offline against the replay server unless AZURE_INFERENCE_ENDPOINT is set)
run: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py

## test: the whole test suite: unit and client tests, then every notebook under nbval, on both cores
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## lab: JupyterLab with the replay server running behind it and the kernels' environment set
lab: $(STAMP)
	$(BIN)/python scripts/lab.py

## serve: the replay server alone, in the foreground (prints one endpoint line per deployment)
serve: $(STAMP)
	$(BIN)/python -m helpers.mock serve --port 8000

## record: re-record every notebook's traffic against the live endpoints in AZURE_INFERENCE_* variables
record: $(STAMP)
	$(BIN)/python scripts/run_notebooks.py --record

## bench: benchmarks; results go to bench/results/ and the README quotes them
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf build $(VENV)
