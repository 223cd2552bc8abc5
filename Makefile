# Two entry points on a fresh clone with only Python 3.11+:
#   make run    set up .venv and run the main job
#   make test   set up .venv and run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# make run needs only the package; make test (and lint, bench) also the extras the tests exercise
EXTRAS ?= dev,dask,tuning,dashboard

# make test also runs the suite on the newest Python 3.13 or 3.12 newer than $(PYTHON), found on the
# PATH or installed by pyenv, in its own venv: Python 3.11 gets Mesa 3.3, Python 3.12+ the newest
# Mesa 3.x. `make test NEW_PYTHON=` skips it; `NEW_PYTHON=/path/to/python3.12` picks one.
NEW_PYTHON_VERSIONS := 3.13 3.12
ifeq ($(origin NEW_PYTHON),undefined)
NEW_PYTHON := $(shell base=$$($(PYTHON) -c 'import sys; print(sys.version_info[1])' 2>/dev/null || echo 0); \
	for v in $(NEW_PYTHON_VERSIONS); do [ "$${v#3.}" -gt "$$base" ] || continue; \
		for p in $$(command -v python$$v) \
			$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$$v.*/bin/python 2>/dev/null | sort -V -r); do \
			"$$p" -c 'import sys' >/dev/null 2>&1 && { echo "$$p"; exit 0; }; \
		done; \
	done)
endif
NEW_VERSION := $(if $(NEW_PYTHON),$(shell $(NEW_PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'))
NEW_VENV := $(VENV)-$(NEW_VERSION)

.PHONY: setup setup-run setup-new browser run test test-new lint bench clean

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

ifneq ($(NEW_PYTHON),)
$(NEW_VENV)/.installed: pyproject.toml
	$(NEW_PYTHON) -m venv $(NEW_VENV)
	$(NEW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NEW_VENV)/bin/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

setup-new: $(NEW_VENV)/.installed
else
setup-new:
endif

run: setup-run
	$(VENV)/bin/negotiation batch

# The dashboard's end-to-end test drives Debian's chromium (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium is not installed: the browser test will be skipped"

# The newer Python first, so that the last line is a test runner's summary either way.
test: lint browser test-new
	@$(PY) -c 'import sys, mesa; print(f"== tests on Python {sys.version.split()[0]}, Mesa {mesa.__version__}")'
	$(PY) -m pytest -q

test-new: setup-new
ifeq ($(NEW_PYTHON),)
	@echo "make test: no Python 3.12+ newer than $(PYTHON) on the PATH or in pyenv: skipping the run on the newest Mesa"
else
	@$(NEW_VENV)/bin/python -c 'import sys, mesa; print(f"== tests on Python {sys.version.split()[0]}, Mesa {mesa.__version__}")'
	$(NEW_VENV)/bin/python -m pytest -q
endif

# ruff, then the architecture contract (pyproject.toml [tool.importlinter]: stages import only downward)
lint: setup
	$(VENV)/bin/ruff check negotiation tests benchmarks docs/scripts
	$(VENV)/bin/ruff format --check negotiation tests benchmarks docs/scripts
	$(VENV)/bin/lint-imports --no-cache

# the NegMAS comparison (benchmark H) makes its own .venv-peers on first use (pip install negmas)
bench: setup
	$(PY) benchmarks/bench.py

clean:
	rm -rf $(VENV) $(VENV)-3.* $(VENV)-peers results .pytest_cache .hypothesis
