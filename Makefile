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

.PHONY: setup setup-run setup-new browser run test test-base test-new lint bench clean

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

# Both interpreters' suites run at the same time (one process each, so two cores are used), each into
# its own log; the newer Python's log is printed first, so the last line is Python 3.11's summary.
TEST_LOGS := $(VENV)/test-logs
# e.g. make test PYTEST_ARGS="tests/test_protocol.py -x" runs a part of the suite on both interpreters
PYTEST_ARGS ?=

test: lint browser setup-new
	@mkdir -p $(TEST_LOGS); rm -f $(TEST_LOGS)/*.log; new=0; \
	if [ -n "$(NEW_PYTHON)" ]; then \
		$(MAKE) --no-print-directory test-new > $(TEST_LOGS)/new.log 2>&1 & new=$$!; \
	else \
		echo "make test: no Python 3.12+ newer than $(PYTHON) on the PATH or in pyenv: skipping the run on the newest Mesa"; \
	fi; \
	$(MAKE) --no-print-directory test-base > $(TEST_LOGS)/base.log 2>&1; base_status=$$?; \
	new_status=0; if [ "$$new" != 0 ]; then wait $$new; new_status=$$?; cat $(TEST_LOGS)/new.log; fi; \
	cat $(TEST_LOGS)/base.log; \
	[ $$base_status = 0 ] && [ $$new_status = 0 ]

test-base: setup
	@$(PY) -c 'import sys, mesa; print(f"== tests on Python {sys.version.split()[0]}, Mesa {mesa.__version__}")'
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-new: setup-new
ifeq ($(NEW_PYTHON),)
	@echo "make test: no Python 3.12+ newer than $(PYTHON) on the PATH or in pyenv: skipping the run on the newest Mesa"
else
	@$(NEW_VENV)/bin/python -c 'import sys, mesa; print(f"== tests on Python {sys.version.split()[0]}, Mesa {mesa.__version__}")'
	$(NEW_VENV)/bin/python -m pytest -q $(PYTEST_ARGS)
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
