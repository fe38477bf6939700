# The two commands of the README contract: `make run` and `make test`, both from a fresh clone.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint samples clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/soetl run

test: $(STAMP)
	bash .ci/system-deps.sh
	$(PY) -m ruff check --no-cache .
	$(PY) -m pytest -q -n 2 --dist loadfile --durations=25

lint: $(STAMP)
	$(PY) -m ruff check --no-cache .

# Re-typeset the replica PDFs and their ground truth (needs LibreOffice and fonts-noto-cjk: samples/README.md).
samples: $(STAMP)
	$(PY) -m pip install --quiet -e '.[samples,test]'
	$(PY) -m samples.build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
