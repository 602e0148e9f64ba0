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
	@helm=$$(hack/tools helm) && for values in charts/ripple/ci/*-values.yaml; do \
		"$$helm" lint --strict --quiet charts/ripple --values "$$values" || exit 1; done && \
		echo "helm lint --strict: charts/ripple clean with every ci/*-values.yaml"

.PHONY: unit
unit: venv ## pure unit tests: no cluster, no helm, no processes
	$(PYTEST) tests/unit -q

.PHONY: chart-test
chart-test: venv ## the chart rendered by helm with every ci/*-values.yaml (builds helm once)
	$(PYTEST) tests/chart -q

.PHONY: test
# The cluster comes up (cold: builds Kubernetes, Chaos Mesh, Prometheus) in the background
# while lint and the tiers that need no cluster run; the cluster fixture waits for it
# (`hack/cluster wait`). Its output: $(RIPPLE_CACHE)/logs/cluster-up.log.
# RIPPLE_CLUSTER=kind runs them on hack/kind (three nodes; not every test passes there yet).
TIERS = tests/unit tests/chart tests/integration tests/cluster tests/operator tests/e2e
CLUSTER_SCRIPT = hack/$(if $(filter kind,$(RIPPLE_CLUSTER)),kind,cluster)
test: venv ## everything: lint, unit, chart, integration, cluster, operator and end-to-end tests
	@mkdir -p $(RIPPLE_CACHE)/logs && $(CLUSTER_SCRIPT) up >$(RIPPLE_CACHE)/logs/cluster-up.log 2>&1 </dev/null & \
		echo "make test: $(CLUSTER_SCRIPT) up started in the background (log: $(RIPPLE_CACHE)/logs/cluster-up.log)"
	$(MAKE) lint
	$(PYTEST) $(TIERS) -q -m "not bench" -p no:cacheprovider

.PHONY: bench
bench: venv ## benchmarks that print numbers
	$(PYTEST) tests/bench -q -s -m bench -p no:cacheprovider

# --- packaging: image, chart, demo ---------------------------------------------------
.PHONY: image
image: ## build ripple:dev from local base images (hack/images); load it into the cluster (RIPPLE_CLUSTER) if up
	@hack/docker
	@hack/images ripple ripple:dev >/dev/null
	@if $(CLUSTER_SCRIPT) status >/dev/null 2>&1; then \
		$(CLUSTER_SCRIPT) load ripple:dev; \
	else echo "make image: $(CLUSTER_SCRIPT)'s cluster not running, ripple:dev not loaded"; fi

.PHONY: chart-crds
chart-crds: ## copy crds/ into charts/ripple/crds/ (a chart test checks they are byte-identical)
	@mkdir -p charts/ripple/crds
	cp crds/chaosscenarios.ripple.dev.yaml charts/ripple/crds/chaosscenarios.ripple.dev.yaml

.PHONY: demo
demo: ## the whole story: cluster, image, chart, the three scenarios, their verdicts
	@hack/demo

# ---- local cluster (hack/cluster) -----------------------------------------------------
.PHONY: cluster-up cluster-down
cluster-up: ## start the local Kubernetes cluster (builds it once into ~/.cache/ripple)
	hack/cluster up

cluster-down: ## stop the local cluster and remove its state (logs are kept)
	hack/cluster down
