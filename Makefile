# The two commands: `make demo` (offline: crawl the recorded export, build, serve) and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared/data/samhsa

CITIES ?= Houston, TX;Dallas, TX
DEMO_SOURCE ?= $(SHARED)/findtreatment_export_TX_2023.xlsx
RADIUS ?= 25
HOST ?= 127.0.0.1
PORT ?= 8001
DB ?= data/programs.db
SERVE_CONFIG ?= .
EXPORT_FEED ?= data/feed/findtreatment_export.jsonl
API_FEED ?= data/feed/findtreatment_api.jsonl
SITES_FEED ?= data/feed/provider_sites.jsonl
MAX_PAGES ?= 8
FEED ?= $(EXPORT_FEED)
HSDS_DIR ?= data/hsds
# JOBDIR=data/jobs/api makes a crawl resumable: stop it (Ctrl-C), run the same command again.
JOB = $(if $(JOBDIR),-s JOBDIR=$(JOBDIR))
BENCH_PROGRAMS ?= 100000

# `data` is also a folder: without .PHONY, `make data` would do nothing.
.PHONY: help install demo data run crawl crawl-live build sites serve test hsds bench clean

help:
	@echo "make demo    offline: crawl the recorded Texas export for CITIES, build $(DB), serve on $(HOST):$(PORT)"
	@echo "make data    the same without serving"
	@echo "make run     live: crawl FindTreatment.gov's API for CITIES, build, serve"
	@echo "make crawl | build | serve   the steps;  make test   the offline test suite"
	@echo "make sites   live: read programs' own websites for the care levels they state (then make build)"
	@echo "make hsds    write $(DB) as Open Referral HSDS 3.0 in $(HSDS_DIR): the official tabular package and JSON services"

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# The project itself, editable: its packages import each other by name, no sys.path edits.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

demo: data serve

data: crawl build

crawl: install
	$(BIN)/scrapy safecrawl findtreatment_export --cities "$(CITIES)" -a radius=$(RADIUS) --source "$(DEMO_SOURCE)" --output $(EXPORT_FEED) $(JOB)

crawl-live: install
	$(BIN)/scrapy safecrawl findtreatment_api --cities "$(CITIES)" -a radius=$(RADIUS) --output $(API_FEED) $(JOB)

build: install
	$(BIN)/python -m pipelines.build $(FEED) --db $(DB) $(if $(ALLOW_SHRINK),--allow-shrink) \
		$(if $(ALLOW_REJECTS),--allow-rejects) $(if $(FRESH),--fresh) \
		$(if $(wildcard $(SITES_FEED)),--sites $(SITES_FEED))

# Live: read the websites of the programs in $(DB) for the care levels they state; then `make build`.
sites: install
	$(BIN)/scrapy safecrawl provider_sites -a db=$(DB) -a max_pages=$(MAX_PAGES) --output $(SITES_FEED) $(JOB)

run: install
	$(MAKE) --no-print-directory crawl-live
	$(MAKE) --no-print-directory build FEED=$(API_FEED)
	$(MAKE) --no-print-directory serve

# The project root is Datasette's configuration directory: settings.json (the serving settings,
# written nowhere else), metadata.yml, plugins/, templates/. Change a setting there: Datasette 0.65
# ignores settings.json when given any --setting. SERVE_CONFIG= serves another such directory.
serve: install
	@test -f $(DB) || { echo "no $(DB) yet: run 'make data' first" >&2; exit 1; }
	$(BIN)/datasette inspect $(DB) --inspect-file $(DB).inspect.json
	@echo "Serving the directory at http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/datasette serve $(SERVE_CONFIG) -i $(DB) --inspect-file $(DB).inspect.json -h $(HOST) -p $(PORT)

hsds: install
	$(BIN)/python -m exports.hsds --db $(DB) --out $(HSDS_DIR)

test: install
	$(BIN)/python -m pytest

# National-scale benchmark on synthetic data in /tmp (BENCHMARKS.md); BENCH_PROGRAMS=1000000: memory only.
bench: install
	$(BIN)/python -m bench.run --programs $(BENCH_PROGRAMS)

clean:
	rm -rf data/feed $(DB) $(DB).inspect.json .pytest_cache test-output
