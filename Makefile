# Two entry points on a fresh clone with only Python 3.11+:
#   make run    set up .venv and run the main job
#   make test   set up .venv and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# make run needs only the package; make test (and lint, bench) also the extras the tests exercise
EXTRAS ?= dev,dask,tuning,dashboard

.PHONY: setup setup-run browser run test lint bench clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed-run: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@ $(VENV)/.installed-run

setup-run: $(VENV)/.installed-run

setup: $(VENV)/.installed

run: setup-run
	$(VENV)/bin/negotiation batch

# The dashboard's end-to-end test drives Debian's chromium (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium is not installed: the browser test will be skipped"

test: lint browser
	$(PY) -m pytest -q

# ruff, then the architecture contract (pyproject.toml [tool.importlinter]: stages import only downward)
lint: setup
	$(VENV)/bin/ruff check negotiation tests benchmarks docs/scripts
	$(VENV)/bin/ruff format --check negotiation tests benchmarks docs/scripts
	$(VENV)/bin/lint-imports --no-cache

bench: setup
	$(PY) benchmarks/bench.py

clean:
	rm -rf $(VENV) results .pytest_cache .hypothesis
