# The two commands: `make demo` (offline: crawl the recorded export, build, serve) and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL_VENV := .venv-model
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
# What a listing crawl covers: STATES="TX;MA" (whole states; "all" for every one), else
# CITIES_FILE= (one "City, ST" a line), else CITIES.
STATES ?=
CITIES_FILE ?=
SCOPE = $(if $(STATES),-a states="$(STATES)",$(if $(CITIES_FILE),-a cities_file="$(CITIES_FILE)",-a cities="$(CITIES)"))
# ALLOW_SHRINK=1: accept a crawl the crawl monitors refuse (fewer items than the last good run...)
# and a build that shrinks the database.
OVERRIDE = $(if $(ALLOW_SHRINK),-s CRAWL_MONITORS_OVERRIDE=1)
# Crawls shared by N worker processes on one Redis (make crawl-workers; README, "Crawling the
# whole country"). REDIS_URL= shares a Redis others can reach; without it one is started here.
N ?= 2
SPIDER ?= findtreatment_api
REDIS_URL ?=
SPIDER_ARGS = $(if $(filter provider_sites,$(SPIDER)),-a db=$(DB) -a max_pages=$(MAX_PAGES),$(SCOPE) -a radius=$(RADIUS))
SPIDER_FEED = $(if $(filter provider_sites,$(SPIDER)),$(SITES_FEED),$(API_FEED))
CRAWL_ID ?= $(SPIDER):$(basename $(notdir $(SPIDER_FEED)))
BENCH_PROGRAMS ?= 100000

# `data` is also a folder: without .PHONY, `make data` would do nothing.
.PHONY: help install demo data run crawl crawl-live crawl-workers crawl-worker national build sites serve test hsds bench model model-env clean

help:
	@echo "make demo    offline: crawl the recorded Texas export for CITIES, build $(DB), serve on $(HOST):$(PORT)"
	@echo "make data    the same without serving"
	@echo "make run     live: crawl FindTreatment.gov's API for CITIES, build, serve"
	@echo "make crawl | build | serve   the steps;  make test   the offline test suite"
	@echo "make sites   live: read programs' own websites for the care levels they state (then make build)"
	@echo "make crawl-workers N=4   live: one crawl by N workers sharing a Redis frontier (SPIDER=provider_sites for websites)"
	@echo "make national N=4        live: every state by N workers, then build"
	@echo "  scopes: CITIES=\"Houston, TX;Dallas, TX\"  STATES=\"TX;MA\"  CITIES_FILE=cities.txt"
	@echo "make hsds    write $(DB) as Open Referral HSDS 3.0 in $(HSDS_DIR): the official tabular package and JSON services"
	@echo "make model   train the website page model (data/site_level_model.json) on the labelled pages not held out"

install: $(VENV)/.installed node_modules/.package-lock.json

# axe-core from the npm registry, pinned in package-lock.json, for the browser tests' accessibility
# checks (tests/test_accessibility.py). Serving needs none of it, so without npm it only says so.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility tests need it (apt-get install npm)" >&2; fi

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@# The project itself, editable: its packages import each other by name, no sys.path edits.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

demo: data serve

data: crawl build

crawl: install
	$(BIN)/scrapy safecrawl findtreatment_export $(SCOPE) -a radius=$(RADIUS) --source "$(DEMO_SOURCE)" --output $(EXPORT_FEED) $(JOB) $(OVERRIDE)

crawl-live: install
	$(BIN)/scrapy safecrawl findtreatment_api $(SCOPE) -a radius=$(RADIUS) --output $(API_FEED) $(JOB) $(OVERRIDE)

# N workers here share one frontier on Redis (started here unless REDIS_URL= names one); the crawl
# is judged once they all stop. Ctrl-C stops it; the same command resumes it.
crawl-workers: install
	$(BIN)/scrapy workers $(SPIDER) --workers $(N) $(if $(REDIS_URL),--redis $(REDIS_URL)) --crawl-id "$(CRAWL_ID)" \
		$(SPIDER_ARGS) --output $(SPIDER_FEED) $(OVERRIDE)

# Another machine joins a crawl: N more workers on the same REDIS_URL and CRAWL_ID (the machine
# that ran make crawl-workers judges and publishes the crawl).
crawl-worker: install
	@test -n "$(REDIS_URL)" || { echo "give REDIS_URL= (and CRAWL_ID=) of the crawl to join" >&2; exit 1; }
	for i in $$(seq $(N)); do $(BIN)/scrapy crawl $(SPIDER) $(SPIDER_ARGS) \
		-s REDIS_URL=$(REDIS_URL) -s CRAWL_ID="$(CRAWL_ID)" & done; wait

# Every state, by N workers, then the build.
national: install
	$(MAKE) --no-print-directory crawl-workers SPIDER=findtreatment_api STATES=all
	$(MAKE) --no-print-directory build FEED=$(API_FEED)

build: install
	$(BIN)/python -m pipelines.build $(FEED) --db $(DB) $(if $(ALLOW_SHRINK),--allow-shrink) \
		$(if $(ALLOW_REJECTS),--allow-rejects) $(if $(FRESH),--fresh) \
		$(if $(wildcard $(SITES_FEED)),--sites $(SITES_FEED))

# Live: read the websites of the programs in $(DB) for the care levels they state; then `make build`.
sites: install
	$(BIN)/scrapy safecrawl provider_sites -a db=$(DB) -a max_pages=$(MAX_PAGES) --output $(SITES_FEED) $(JOB) $(OVERRIDE)

run: install
	$(MAKE) --no-print-directory crawl-live
	$(MAKE) --no-print-directory build FEED=$(API_FEED)
	$(MAKE) --no-print-directory serve

# The project root is Datasette's configuration directory: settings.json (the serving settings,
# written nowhere else), metadata.yml, plugins/, templates/. Change a setting there: Datasette 0.65
# ignores settings.json when given any --setting. SERVE_CONFIG= serves another such directory.
# WORKERS processes (uvicorn's, one per core) serve behind one port, each under a MEMORY_MB
# address-space ceiling; uvicorn restarts a worker that dies. A rebuild of $(DB) is served as soon
# as it is renamed into place (plugins/live_swap.py): no restart. common/serve_command.py says more.
WORKERS ?= 2
MEMORY_MB ?= 2048
TEST_WORKERS ?= 2
serve: install
	$(BIN)/python -m common.serve_command --db $(DB) --config $(SERVE_CONFIG) --host $(HOST) --port $(PORT) \
		--workers $(WORKERS) --memory-mb $(MEMORY_MB)

hsds: install
	$(BIN)/python -m exports.hsds --db $(DB) --out $(HSDS_DIR)

# Two test processes (pytest-xdist), a test file each at a time: the suite is mostly CPU-bound
# (chromium, builds, servers) and CI's machine has two cores. TEST_WORKERS=0 runs it in one process.
# model-env: tests/test_site_model.py trains the page model again to check the stored one.
test: install model-env
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# National-scale benchmark on synthetic data in /tmp (BENCHMARKS.md); BENCH_PROGRAMS=1000000: memory only.
bench: install
	$(BIN)/python -m bench.run --programs $(BENCH_PROGRAMS)

# The page model beside the website rules (pipelines.site_model), learned from the labelled pages
# in tests/fixtures/sites that are not held out; tests/test_site_model.py checks the stored one.
# scikit-learn fits it in an environment of its own: with numpy installed beside Datasette, its
# vendored pint would load numpy into every served worker.
model: install model-env
	$(BIN)/python -m bench.train_site_model --python $(MODEL_VENV)/bin/python

model-env: $(MODEL_VENV)/.installed

$(MODEL_VENV)/.installed: requirements-model.lock
	@test -x $(MODEL_VENV)/bin/python || $(PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-model.lock
	@touch $@

clean:
	rm -rf data/feed $(DB) $(DB).inspect.json .pytest_cache test-output
