# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PO := $(wildcard locales/*/LC_MESSAGES/bot.po)
MO := $(PO:.po=.mo)
CODE := bot handlers services emulator bench crash mutate

.PHONY: run test lint format messages bench crash clean browser mutate servers

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

locales/%/LC_MESSAGES/bot.mo: locales/%/LC_MESSAGES/bot.po $(STAMP)
	$(BIN)/pybabel compile --domain=bot --directory=locales --locale=$* --statistics 2>&1 | grep -v '^compiling' || true
	@test -f $@

run: $(STAMP) $(MO)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check $(CODE) tests
	$(BIN)/ruff format --check $(CODE) tests
	$(BIN)/mypy bot handlers services emulator mutate
	$(BIN)/lint-imports

# Headless Chromium for the web chat test, from Debian's packages (needs root or sudo once).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			chromium chromium-driver fonts-noto-color-emoji >/dev/null; }

# Redis (and PostgreSQL, for the tests to come) from Debian's packages when missing; the tests
# start private instances on free ports (TEST_REDIS_URL names a running one instead).
servers:
	@command -v redis-server >/dev/null && { command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; } || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			redis-server postgresql >/dev/null; }

test: lint $(MO) browser servers
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest crash -p no:cacheprovider

format: $(STAMP)
	$(BIN)/ruff check --fix $(CODE) tests
	$(BIN)/ruff format $(CODE) tests

# Re-extract texts from the code and merge them into the catalogues (then translate ru).
messages: $(STAMP)
	$(BIN)/pybabel extract --mapping=babel.cfg --keywords=__ --no-location --sort-output \
		--project=qiwi-robokassa-bot --output-file=locales/bot.pot $(CODE)
	$(BIN)/pybabel update --domain=bot --input-file=locales/bot.pot --output-dir=locales \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m bot.i18n_tools fill-english

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo

# Throughput, latency, memory and start-up numbers (not part of `make test`).
bench: $(STAMP) $(MO)
	$(BIN)/python bench/run.py

# kill -9 the real bot process at random points during a burst of payments (about a minute).
# Also the last step of `make test`; this target runs it alone.
crash: $(STAMP) $(MO)
	$(BIN)/python -m pytest crash -p no:cacheprovider

# Mutation testing of the money and trust modules (not part of `make test`; several minutes).
# Modules and their tests: mutate/targets.toml; explained survivors: mutate/accepted.toml.
# One module: make mutate MODULES=services/ledger.py
mutate: $(STAMP) $(MO)
	$(BIN)/python -m mutate $(MODULES)
