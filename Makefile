# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv and install the project on first use.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: demo test venv lint typecheck definitions check bench clean

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(VENV_STAMP)

# The virtualenv alone, for working in it (`make demo` and `make test` make it too).
venv: $(VENV_STAMP)

DEMO := demo-$(shell date +%Y%m%d-%H%M%S)
# The local environment's port and console (environments.toml's, or PYFLOWS_ENDPOINT's and
# PYFLOWS_CONSOLE's), for the hints: read once, when demo first names it (the venv is there by then).
# A bad PYFLOWS_ENDPOINT is left to deploy.py, the recipe's first command, to say in one line.
LOCAL = $(eval LOCAL := $(shell $(PY) -c 'import infra, infra.localstart as l; e = infra.load("local"); print(l.endpoint_port(e), e.console)' 2>/dev/null))$(LOCAL)

# Deploy everything into the local cloud (started in the background when none answers on
# 127.0.0.1:4566, or PYFLOWS_ENDPOINT), run the lottery end to end, then say how to look at what happened.
demo: $(VENV_STAMP)
	@echo "== Deploying every workflow into the local cloud"
	$(PY) deploy.py --env local
	@echo "== Running the lottery: draw 2 winners among the seeded employees"
	@$(PY) -m workflows start lottery --input '{"winners": 2}' --name $(DEMO) --wait || { \
	  echo "== The draw failed: see where and why with  $(PY) -m workflows history $(DEMO)"; \
	  echo "   (once every employee has won, clear the past winners: $(PY) deploy.py --env local --seed-only && make demo)"; \
	  exit 1; }
	@echo "== Inspect it"
	@echo "  states run, with input and output:  $(PY) -m workflows history $(DEMO)"
	@echo "  the execution graph as SVG:         $(PY) -m workflows graph $(DEMO) --out lottery.svg"
	@echo "  the web console:                    $(PY) -m console --env local   (then $(word 2,$(LOCAL)))"
	@echo "  stop the local cloud:               $(PY) -m localcloud --stop --port $(word 1,$(LOCAL))"

# The workflow tests fail the run when a state, Choice branch, Catch or Retry edge is never reached.
# A test file to a worker, one worker a core: a file's tests share its fixtures and run in order;
# the files in collection order, those with a slow test first (tests/conftest.py).
test: $(VENV_STAMP) lint typecheck check
	PYFLOWS_COVERAGE_GATE=1 $(PY) -m pytest -n auto --dist loadfile --no-loadscope-reorder

lint: $(VENV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV_STAMP)
	$(PY) -m mypy workflows tasks localcloud console infra deploy.py
	$(PY) -m mypy bench  # apart: its deploy.py would clash with the top-level one

definitions: $(VENV_STAMP)
	$(PY) -m workflows build

check: $(VENV_STAMP)
	$(PY) -m workflows check

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-output
