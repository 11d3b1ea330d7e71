# shopkeep — `make demo` builds the demo shop end to end and serves the dashboards; `make test` runs every test.
# Both bootstrap .venv from nothing (Python 3.11, pip and make are all they assume).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint install chromium postgresql clean

demo: $(INSTALLED) $(MANIFEST)
	$(BIN)/shopkeep demo

test: $(INSTALLED) $(MANIFEST) chromium postgresql
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: $(INSTALLED) $(MANIFEST) chromium postgresql
	$(BIN)/python -m bench
	$(BIN)/python -m bench.replenishment_replay
	$(BIN)/python -m bench.dashboard_queries
	$(BIN)/python -m bench.page_speed
	$(BIN)/python -m bench.promotion_lift
	$(BIN)/python -m bench.return_hotspots
	$(BIN)/python -m bench.file_import --rows 2000000
	$(BIN)/python -m bench.stock_sync
	$(BIN)/python -m bench.pulls
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.lake

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "shopkeep needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv installs the same pinned versions as pip in ~8 s instead of ~38 (parallel downloads, no per-package
	# index round trips); it is itself one wheel from PyPI, installed by the venv's pip
	$(BIN)/python -m pip install --quiet uv==0.13.10
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e ".[test]"
	# statsforecast (and fugue, which it imports) declare pandas<3; the models we call run on numpy (see pyproject)
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python --no-deps statsforecast==2.1.1 fugue==0.9.7
	# ...but compiled once here, on both cores: where PYTHONDONTWRITEBYTECODE is set (as on this machine) nothing
	# would ever be cached, and every process (dbt, Dagster runs, Streamlit, sandboxes) would compile its imports
	# again (a dbt build: ~3 s of its ~23). Files that are not Python 3 (a few packages ship test fixtures) are skipped.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib/python3.11/site-packages >/dev/null || true
	touch $@

$(MANIFEST): $(INSTALLED) $(DBT_SOURCES)
	$(BIN)/shopkeep prepare

# Debian's Chromium is the real browser for the dashboard tests (Playwright's own download can't be used here),
# with a CJK font so the Chinese interface renders (and screenshots show text, not boxes).
chromium:
	@{ command -v chromium >/dev/null && fc-list :lang=zh | grep -q .; } || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; }

# Debian's PostgreSQL server programs: the DuckLake tests start a throwaway cluster of their own (sandbox/lake_servers.py)
# as the lake's catalog; the package's own cluster is not used.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

clean:
	rm -rf .shopkeep dbt_project/target test-artifacts
