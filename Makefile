# okr-report: `make demo` sets everything up and renders the demo; `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_QUARTER ?= FY2017-18-Q4
SIZE ?= 2k
# test workers: one per core
TEST_WORKERS ?= $(shell nproc)
# Debian packages the product needs: Pango/HarfBuzz for WeasyPrint, a CJK font, poppler for PDF checks,
# Chromium for the index page's browser tests.
DEB_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils chromium

.PHONY: demo test lint system-deps clean bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

system-deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v apt-get >/dev/null 2>&1; then \
	    echo "okr-report needs these system packages:$$missing"; \
	    echo "install them with: sudo apt-get install$$missing"; exit 1; \
	  else \
	    echo "please install Pango, HarfBuzz (with hb-subset), a CJK font (Noto Sans CJK), poppler-utils and Chromium"; \
	  fi; \
	fi

demo: system-deps $(BIN)/.installed
	$(BIN)/okr-report run --workspace data/demo --quarter $(DEMO_QUARTER)

test: system-deps $(BIN)/.installed
	$(BIN)/ruff check flows transforms tests
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

bench: system-deps $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py --size $(SIZE)

lint: $(BIN)/.installed
	$(BIN)/ruff check flows transforms tests benchmarks

clean:
	rm -rf $(VENV) data/demo/out
