# Yidi Claims Intake: two commands do everything on a fresh machine.
#   make demo   - install what is missing, then run the main job over sample_docs/
#   make test   - install what is missing, then lint, type-check and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
PY        := $(VENV)/bin/python
UV        := $(VENV)/bin/uv
STATE_DIR ?= .state
STAMP     := $(VENV)/.installed
APT_STAMP := $(STATE_DIR)/.apt-installed
APT_PACKAGES := fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai fonts-arphic-uming libheif1 postgresql chromium

export INTAKE_STATE_DIR := $(abspath $(STATE_DIR))
export PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK := True
export DO_NOT_TRACK := 1

.PHONY: help setup apt venv demo test lint typecheck pytest bench eval eval-real load samples clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: apt venv ## install system packages and the virtualenv (idempotent)

apt: $(APT_STAMP)
$(APT_STAMP): Makefile
	@mkdir -p $(STATE_DIR)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@touch $@

venv: $(STAMP)
$(STAMP): pyproject.toml overrides.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@test -x $(UV) || $(PY) -m pip install -q uv==0.13.9
	$(UV) pip install -q -p $(PY) --override overrides.txt -e '.[dev]'
	@touch $@

demo: setup ## run the main job on the embedded default (OCR summary of sample_docs/)
	$(VENV)/bin/intake demo sample_docs --serve

test: setup lint typecheck pytest ## lint, type-check and run every test (real OCR models)

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy

TEST_LOG := $(abspath $(STATE_DIR))/test-run.log

pytest:
	rm -f $(TEST_LOG)
	INTAKE_LOG_FILE=$(TEST_LOG) $(VENV)/bin/pytest
	$(VENV)/bin/python tests/logscan.py $(TEST_LOG)  # no unmasked ID number in any log line

bench: setup ## print OCR speed, memory and accuracy per backend over sample_docs/
	$(PY) bench/ocr.py sample_docs

REALDOCS ?= ../shared/realdocs

eval: setup ## extraction accuracy over the labelled sample documents
	$(VENV)/bin/intake eval sample_docs

eval-real: setup ## extraction accuracy over the real documents in ../shared/realdocs (fresh OCR)
	@test -d $(REALDOCS) || { echo "no $(REALDOCS): the real-document set sits beside the repo"; exit 2; }
	$(VENV)/bin/intake eval $(REALDOCS) --misses

load: setup ## load test: 500 claims through S3, the flows and the OCR pool (claims/min, p95, RSS)
	$(PY) bench/load.py --claims 500 --photo-share 0.1

samples: setup ## regenerate the labelled sample documents (deterministic)
	$(PY) sample_docs/generate.py

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) $(STATE_DIR)
