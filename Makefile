# `make test` and `make demo` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo bench clean

$(STAMP): requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest --cov --cov-report=term

demo: $(STAMP)
	PYTHONPATH=AnonymizeOnSave:Testing $(PY) demo.py

bench: $(STAMP)
	PYTHONPATH=AnonymizeOnSave:Testing $(PY) bench/benchmark.py
	PYTHONPATH=AnonymizeOnSave:Testing $(PY) bench/benchFiles.py
	PYTHONPATH=AnonymizeOnSave:Testing $(PY) bench/benchSpellings.py
	$(PY) -m pip install --quiet --disable-pip-version-check dicognito==0.19.0  # compared with, for the bench only
	PYTHONPATH=AnonymizeOnSave:Testing $(PY) bench/benchDicom.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
