# procmine — two commands on a fresh machine:
#   make demo   install, analyse the bundled sample, write the report
#   make test   install, run the whole test suite
# Both create .venv (uv, pinned by requirements.lock) and, when run as root on Debian,
# install the system programs the toolkit drives: Graphviz and Noto fonts (maps with
# Vietnamese labels), PostgreSQL (the database tests start a throw-away server).

PYTHON  ?= python3
VENV    ?= .venv
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-stamp

.PHONY: demo test lint format bench system-deps install lock clean

demo: install system-deps
	$(BIN)/procmine demo --out reports/demo

test: install system-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	uv venv -q --allow-existing -p $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) uv pip install -q -c requirements.lock -e ".[dev]"
	@touch $@

# System programs: installed only when missing, only as root, only where apt-get exists.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -d /usr/share/fonts/truetype/noto ] || missing="$$missing fonts-noto-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get install -y -q $$missing >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null)); \
	  else echo "note: missing system packages:$$missing (needed for the maps and the database tests)"; fi; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install
	$(BIN)/python benchmarks/bench_load.py

lock:
	uv pip compile -q pyproject.toml --extra dev --extra notebooks --extra postgres -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reports/demo
