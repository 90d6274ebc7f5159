# Two commands, each idempotent, each doing its own set-up:
#   make demo   - the full review of the bundled example organisation
#   make test   - lint, type-check and the whole test suite (notebooks and browser included)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stratlab-installed

.PHONY: demo test test-fast lint setup clean bench notebooks

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,db]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (stratlab)" >/dev/null
	$(BIN)/python -m compileall -q src >/dev/null  # review kernels import stratlab from bytecode
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/stratlab demo -o build/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks/*.py
	$(BIN)/ruff format --check src tests benchmarks notebooks/*.py
	$(BIN)/mypy
	$(BIN)/mypy --config-file tests/mypy.ini
	$(BIN)/lint-imports

# the tutorials' sources are notebooks/NN_*.py (jupytext percent); this writes the .ipynb
notebooks: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.py

# the unit tests only (no kernels, browsers, fuzzing): under a minute
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not kernel and not browser and not signals" tests

test: lint
	$(BIN)/python -m pytest -n 2 -q -m "not signals" tests
	$(BIN)/python -m pytest -q -p no:randomly -m signals tests
	$(BIN)/python -m pytest -q --nbval-lax -p no:randomly notebooks

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
