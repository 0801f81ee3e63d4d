# Fileshare: `make dev` brings up the local stack and serves the API + web page; `make test` runs
# every test. Both install what they need on a fresh machine (Debian, root) by themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.13 that actually runs (a pyenv shim on PATH may exist without a selected version).
PY313 ?= $(shell for p in $$(ls -d /root/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV) \
	$$(command -v python3.13); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' \
	>/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
PYTHON := $(VENV)/bin/python
MANAGE := $(PYTHON) localstack/manage.py
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
VENV_STAMP := $(VENV)/.installed-$(REQ_HASH)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

# Debian's docker-compose validates localstack/compose.yml without an engine (`make compose-check`).
COMPOSE_DEB_VERSION := 1.29.2-3

.PHONY: help venv up dev test test-restart bench-restart test-unit down status logs reset lint compose-check openapi bench fuzz web screenshots trace test-big-upload iam-report

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^[^:]*:([a-z-]+):.*## /\1\t/; s/^([a-z-]+):.*## /\1\t/'

$(VENV_STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PY313)" || { echo "Python 3.13 not found (looked for python3.13 and /root/.pyenv/versions/3.13*)"; exit 1; }
	@test -x $(PYTHON) || $(PY313) -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(VENV_STAMP) ## create .venv with the runtime and dev dependencies

up: venv ## install (first time), start and provision the six local services and Zipkin (traces); idempotent
	$(MANAGE) up

# The web page's browser code: npm ci (package-lock.json pins every package) and one esbuild bundle,
# served by the local gateway from web/dist (git-ignored; built, never fetched from a CDN).
WEB_LOCK_HASH := $(shell sha256sum web/package-lock.json 2>/dev/null | cut -c1-12)
WEB_STAMP := web/node_modules/.installed-$(WEB_LOCK_HASH)
WEB_BUNDLE := web/dist/app.js

$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: apt-get install -y nodejs npm"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@rm -f web/node_modules/.installed-*; touch $@

$(WEB_BUNDLE): $(WEB_STAMP) $(wildcard web/src/*.js)
	web/node_modules/.bin/esbuild web/src/app.js --bundle --format=iife --target=es2020 --minify \
		--sourcemap --legal-comments=linked --log-level=warning --outfile=$@

web: $(WEB_BUNDLE) ## install the page's npm packages (npm ci) and bundle web/src into web/dist

screenshots: up web ## save screenshots of every view at desktop and phone width under .local/screenshots/
	$(PYTHON) -m pytest -q -p no:randomly tests/browser/test_screenshots.py

test-big-upload: up web ## the 1 GiB browser upload (reload + dropped connection), with its throughput vs a raw S3 PUT
	FILESHARE_BIG_UPLOAD=1 $(PYTHON) -m pytest -q -s -p no:randomly --timeout=3600 tests/browser/test_resume_browser.py -k 1gib

dev: up web ## bring up the stack and serve the API and web page on http://localhost:8080
	$(PYTHON) localstack/serve.py

# Every AWS call a function makes is checked against its synthesized role (lambdarun.iam; FILESHARE_IAM=off
# turns it off); the run's usage table is printed after pytest (`make iam-report` prints it again).
test: up web ## run every test (unit, integration on the real local stack, infra, browser), then the restart test
	$(MANAGE) apt chromium
	rm -rf .local/iam/usage
	$(PYTHON) -m pytest
	$(PYTHON) localstack/lambdarun/iam/report.py --markdown
	$(MAKE) --no-print-directory test-restart

# Last, on its own: it stops and restarts every service (SIGTERM, then SIGKILL) and checks nothing
# was lost (tests/restart; a plain `pytest` leaves it out, see tests/conftest.py).
test-restart: up ## stop every service (SIGTERM, then SIGKILL), start again, check the user's data is all there
	FILESHARE_STACK_RESTART=1 $(PYTHON) -m pytest -p no:randomly tests/restart

DURATION ?= 600
fuzz: up ## schemathesis for DURATION seconds (default 600) with a random seed (tests/contract)
	FUZZ_SEED=$${FUZZ_SEED:-random} FUZZ_DURATION=$(DURATION) FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-100000} \
		$(PYTHON) -m pytest tests/contract -s -o timeout=$$(( $(DURATION) + 900 ))

test-unit: venv ## only the tests that need no local service
	$(PYTHON) -m pytest tests/unit tests/infra

down: venv ## stop every local service (leaves no process behind)
	$(MANAGE) down

status: venv ## one line per service: state, URL, pid, memory
	$(MANAGE) status

logs: venv ## tail of each service's log (make logs S=kafka for one)
	$(MANAGE) logs $(S)

reset: venv ## stop everything and delete all local data and state (downloads are kept)
	$(MANAGE) reset

lint: venv compose-check ## ruff, mypy and the compose file
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy .

compose-check: venv ## validate localstack/compose.yml with docker-compose config (no Docker engine needed)
	@dpkg-query -W -f='$${Version}' docker-compose 2>/dev/null | grep -qx '$(COMPOSE_DEB_VERSION)' || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		docker-compose=$(COMPOSE_DEB_VERSION); }
	$(PYTHON) localstack/compose_check.py localstack/compose.yml

openapi: venv ## regenerate functions/meta/openapi.json from the API functions' code
	PYTHONPATH=layers/shared/python:localstack:. $(PYTHON) -m infra.openapi

trace: venv ## one file's timeline from the local logs, then its trace's link in the local Zipkin (make trace FILE=<file_id>)
	@test -n "$(FILE)" || { echo "usage: make trace FILE=<file_id>"; exit 2; }
	$(PYTHON) localstack/lambdarun/trace.py $(FILE)

bench-restart: up ## time `make down` and `make up` with FILES (default 1000) files stored (stops the stack)
	$(PYTHON) tests/bench/restart.py --files $${FILES:-1000} $(ARGS)

iam-report: venv ## per function: AWS actions the last runs used against those its role grants (.local/iam/usage)
	$(PYTHON) localstack/lambdarun/iam/report.py $(ARGS)

bench: up ## measure latency, throughput and cold starts on the real local stack (ARGS=--quick for ~1 min)
	$(PYTHON) tests/bench/run.py $(ARGS)

-include infra/synth.mk
