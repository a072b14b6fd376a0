# Assembly — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
LOCALES := tr fa sv
PO := $(foreach l,$(LOCALES),assembly/translations/$(l)/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
HOST ?= 127.0.0.1
PORT ?= 5000
# In development links in pages, e-mails and printed invitation letters point at the address the
# server listens on (`make run PORT=8000` → http://127.0.0.1:8000), unless BASE_URL is set.
LINK_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
DEV_BASE_URL = http://$(LINK_HOST):$(PORT)
WITH_BASE_URL = BASE_URL="$${ASSEMBLY_BASE_URL:-$${BASE_URL:-$(DEV_BASE_URL)}}"
# The install is quiet; its output goes to this file, shown only when it fails.
INSTALL_LOG := $(VENV)-install.log

AXE := node_modules/axe-core/axe.min.js
NPM := $(shell command -v npm 2>/dev/null)

.PHONY: run test install translations extract update-translations migrate demo mail-worker sms-worker bench screenshots wheel clean

$(BIN)/activate: setup.cfg pyproject.toml
	@echo "Installing Assembly and its dependencies into $(VENV) (log: $(INSTALL_LOG)) …"
	@{ $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --upgrade pip \
	   && $(BIN)/python -m pip install -e '.[test]'; } > $(INSTALL_LOG) 2>&1 \
	 || { cat $(INSTALL_LOG); echo "The install failed; its log is in $(INSTALL_LOG)." >&2; exit 1; }
	@touch $(BIN)/activate

install: $(BIN)/activate

%.mo: %.po $(BIN)/activate
	@$(BIN)/pybabel -q compile -i $< -o $@

translations: $(MO)

migrate: install translations
	@$(FLASK) db upgrade

# The scheduler (opening and closing votes, counting) runs beside the development server and
# stops with it; in production it is a cron job or a service of its own (docs/operations.md).
run: migrate
	@$(WITH_BASE_URL) $(FLASK) demo load --if-empty
	@export $(WITH_BASE_URL); echo "Links, e-mails and printed letters use $$BASE_URL"; \
	$(FLASK) assemblies tick --loop & tick=$$!; trap "kill $$tick 2>/dev/null" EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

mail-worker: install
	@$(WITH_BASE_URL) $(FLASK) mail send --loop

sms-worker: install
	@$(WITH_BASE_URL) $(FLASK) sms send --loop

# axe-core for the accessibility tests, at the version package-lock.json pins (only with Node.js).
$(AXE): package.json package-lock.json
ifdef NPM
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@
else
	@echo "npm not found: the accessibility tests will be skipped (they need axe-core from npm)"
endif

test: install translations $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The screenshot tour in docs/screenshots/ (needs Chromium, like the browser tests).
screenshots: install translations
	$(BIN)/python -m tools.screenshots

# The package for servers (docs/operations.md): templates, static files, migrations and the
# catalogues, which setup.py compiles while building, are inside the wheel.
wheel: install
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation --wheel-dir dist .

extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o assembly/translations/messages.pot --no-location --sort-output --omit-header --no-wrap .

update-translations: extract
	$(BIN)/pybabel update -i assembly/translations/messages.pot -d assembly/translations --no-fuzzy-matching --ignore-obsolete --no-wrap
	rm -f assembly/translations/messages.pot

# Quick sizes; FULL=1 for 10^6 proposals and longer runs; BENCH_POSTGRES_URL adds PostgreSQL.
bench: install translations
	FULL=$(FULL) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(INSTALL_LOG) instance/*.sqlite3* .pytest_cache build dist
