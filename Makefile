# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv and install the project on first use.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: demo test lint typecheck definitions check bench clean

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(VENV_STAMP)

demo: $(VENV_STAMP)
	$(PY) -m localcloud.demo

# The workflow tests fail the run when a state, Choice branch, Catch or Retry edge is never reached.
test: $(VENV_STAMP) lint typecheck check
	PYFLOWS_COVERAGE_GATE=1 $(PY) -m pytest

lint: $(VENV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV_STAMP)
	$(PY) -m mypy workflows tasks localcloud console infra deploy.py

definitions: $(VENV_STAMP)
	$(PY) -m workflows build

check: $(VENV_STAMP)
	$(PY) -m workflows check

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-output
