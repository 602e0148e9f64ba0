# ripple — every install step lives here or under hack/.
SHELL := /bin/bash
.DEFAULT_GOAL := help
TOP := $(CURDIR)
VENV = $(shell hack/venv)
PY = $(VENV)/bin/python
PYTEST = $(VENV)/bin/pytest
export RIPPLE_CACHE ?= $(HOME)/.cache/ripple

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: venv
venv: ## create the Python environment (outside the repo)
	@hack/venv >/dev/null

.PHONY: lint
lint: venv ## ruff, mypy --strict, import contracts, helm lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	@if [ -d charts/ripple ]; then hack/tools helm >/dev/null && "$$(hack/tools bindir)/helm" lint charts/ripple; fi

.PHONY: unit
unit: venv ## pure unit tests
	$(PYTEST) tests/unit -q

.PHONY: test
test: venv ## everything: lint, unit, integration, cluster, operator and end-to-end tests
	$(MAKE) lint
	$(PYTEST) tests -q -m "not bench" -p no:cacheprovider

.PHONY: bench
bench: venv ## benchmarks that print numbers
	$(PYTEST) tests/bench -q -s -m bench -p no:cacheprovider
