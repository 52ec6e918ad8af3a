# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 9550
HOST   ?= 127.0.0.1
DATA   ?= .modelarts-sim
BIN     = $(VENV)/bin

.PHONY: run test venv test-venv bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

test-venv: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

run: venv
	$(BIN)/modelarts-sim serve --host $(HOST) --port $(PORT) --data-dir $(DATA)

test: test-venv
	$(BIN)/python -m pytest

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(DATA) *.egg-info
