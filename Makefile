# procmine — two commands on a fresh machine:
#   make demo   install, analyse the bundled sample, write the report
#   make test   install, run the whole test suite
# Both create .venv (uv, pinned by requirements.lock) and, when run as root on Debian,
# install the system programs the toolkit drives: Graphviz and Noto fonts (maps with
# Vietnamese labels); for the tests also PostgreSQL (the database tests start a throw-away
# server) and Java (the Spark tests).

PYTHON  ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-stamp

.PHONY: demo test lint format bench system-deps test-deps install lock clean

demo: install system-deps
	$(BIN)/procmine demo --out reports/demo

test: install test-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	uv venv -q --allow-existing -p $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) uv pip install -q -c requirements.lock -e ".[dev]"
	@touch $@

# System programs: installed only when missing, only as root, only where apt-get exists. The
# demo needs Graphviz and Noto fonts (maps with Vietnamese labels); the tests also PostgreSQL
# (a throw-away server, read through ADBC and, by Spark, through Debian's JDBC driver) and Java
# (Spark runs every figure to compare it with DuckDB).
APT_MISSING = if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get install -y -q $$missing >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null)); \
	  else echo "note: missing system packages:$$missing (the tests that need them skip)"; fi; \
	fi

system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	[ -d /usr/share/fonts/truetype/noto ] || missing="$$missing fonts-noto-core"; \
	[ -d /usr/share/fonts/truetype/liberation2 ] || missing="$$missing fonts-liberation2"; \
	ldconfig -p | grep -q libpangoft2-1.0 || missing="$$missing libpangoft2-1.0-0"; \
	$(APT_MISSING)

test-deps: system-deps
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	[ -f /usr/share/java/postgresql.jar ] || missing="$$missing libpostgresql-jdbc-java"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	$(APT_MISSING)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install
	$(BIN)/python benchmarks/bench_load.py

lock:
	uv pip compile -q pyproject.toml --extra dev --extra notebooks --extra postgres --extra spark -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reports/demo
