# Two commands for a newcomer: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run manage test bench lint install assets browser migrations messages lock clean

# The virtual environment, reinstalled when a requirements file changes.
# Every package, dependencies of dependencies too, is pinned with its files' hashes: pip installs
# exactly what was tested, or stops.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) assets

# npm: the machine's own, or else Node.js from PyPI inside .venv.
NPM := $(shell command -v npm 2>/dev/null)
ifeq ($(NPM),)
NPM := $(BIN)/npm
NPM_DEP := $(BIN)/npm
endif

$(BIN)/npm: $(STAMP) requirements-node.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-node.txt

# USWDS from the npm registry, at the version in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json $(NPM_DEP)
	$(NPM) ci --no-audit --no-fund --loglevel=error

assets: node_modules/.package-lock.json

# Chromium for the browser tests, from Debian's packages.
browser:
	@bash scripts/ensure-browser.sh

run: install
	$(BIN)/python -m portal.devservices run

# A manage.py command on `make run`'s data, e.g. make manage CMD="run_autopay --date 2026-11-20"
manage: install
	$(BIN)/python -m portal.devservices manage $(CMD)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: install browser lint
	$(BIN)/python -m portal.devservices exec -- $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m portal.devservices exec -- $(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks at 100,000 accounts (not part of `make test`); results in bench/results/.
$(VENV)/.bench: $(STAMP) requirements-bench.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bench.txt
	touch $(VENV)/.bench

bench: install $(VENV)/.bench
	$(BIN)/python -m portal.devservices exec -- $(BIN)/python -m bench.run $(BENCH_ARGS)

# The Spanish catalog: collect new messages into locale/es/LC_MESSAGES/django.po, translate the
# empty ones there, then run this again to compile django.mo (both are committed).
messages: $(STAMP)
	DJANGO_SETTINGS_MODULE=portal.settings.test DATABASE_URL=postgres://unused/unused $(BIN)/python manage.py makemessages -l es --no-location --no-obsolete -i ".venv/*" -i "node_modules/*" -i "bench/*" -i "*/tests/*" -i "staticfiles/*" -i "private-media/*"
	DJANGO_SETTINGS_MODULE=portal.settings.test DATABASE_URL=postgres://unused/unused $(BIN)/python manage.py compilemessages -l es --ignore ".venv" --ignore "node_modules"

migrations: $(STAMP)
	$(BIN)/python -m portal.devservices exec -- $(BIN)/python manage.py makemigrations

# After changing a requirements-*.in file (the packages we ask for), pin everything they need,
# with hashes, into the matching .txt file. Versions already pinned stay unless the change needs
# another; `make lock LOCK_ARGS=--upgrade` moves everything to the newest releases.
LOCK_VENV := .venv-lock
lock:
	test -x $(LOCK_VENV)/bin/python || $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2
	for name in requirements requirements-dev requirements-bench requirements-node; do \
		$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
			--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) --output-file $$name.txt $$name.in || exit 1; \
	done

clean:
	rm -rf $(VENV) $(LOCK_VENV) node_modules staticfiles .pytest_cache .ruff_cache
