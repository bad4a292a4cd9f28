# `make test` from a fresh clone sets everything up and runs every suite.
# Each setup step leaves a stamp, so a second run reinstalls nothing that is unchanged.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.stamps
# The collection as Ansible expects to find it: ansible_collections/<namespace>/<name>.
DEV_COLLECTIONS := .collections
VERSION := $(shell sed -n 's/^version:[[:space:]]*//p' galaxy.yml | tr -d "'\"")
TARBALL := build/sre-runbooks-$(VERSION).tar.gz
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup deps test lint sanity unit integration k8s test-real molecule rules docs build install demo clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP)/python $(STAMP)/system $(DEV_COLLECTIONS)/ansible_collections/sre/runbooks ## install everything the tests need

$(STAMP)/venv:
	@python=$$(tools/find-python); echo "creating $(VENV) with $$python"; \
	  "$$python" -m venv $(VENV)
	@mkdir -p $(STAMP) && touch $@

# Exact pins from requirements.txt; the launcher and the sandbox (sandbox/) in editable mode.
$(STAMP)/python: $(STAMP)/venv requirements.txt pyproject.toml sandbox/pyproject.toml
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . -e sandbox
	@touch $@

# Real Prometheus and Alertmanager from Debian, installed only when a binary is missing.
$(STAMP)/system: tools/install-system-packages | $(STAMP)/venv
	tools/install-system-packages
	@touch $@

$(DEV_COLLECTIONS)/ansible_collections/sre/runbooks:
	mkdir -p $(@D)
	ln -sfn ../../.. $@

deps: setup ## alias of setup

test: setup lint rules unit integration k8s molecule sanity build ## every suite: lint, rules, unit, integration, k8s, molecule, sanity, build
	@echo "make test: all suites passed"

lint: setup ## ruff, yamllint, ansible-lint (production profile)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint

rules: setup ## promtool check and unit tests of the alerting rules
	$(PY) -m pytest -q tests/rules

unit: setup ## unit tests
	$(PY) -m pytest -q tests/unit

# Integration and sandbox tests mostly wait on servers, so they run in parallel workers, each
# with its own servers.
integration: setup ## integration tests on real Prometheus and Alertmanager
	$(PY) -m pytest -q -n 2 tests/integration

k8s: setup ## Kubernetes-facing tests on the sandbox (or SRE_RUNBOOKS_TEST_KUBECONFIG's cluster)
	$(PY) -m pytest -q -n 4 tests/sandbox

# The same k8s-marked tests against a real cluster; what it cannot serve (logs, exec, metrics,
# storage, the simulated applications) is detected and skipped with the reason.
test-real: setup ## the k8s tests against the cluster in SRE_RUNBOOKS_TEST_KUBECONFIG
	@if [ -z "$${SRE_RUNBOOKS_TEST_KUBECONFIG:-}" ]; then \
	  echo "make test-real: SRE_RUNBOOKS_TEST_KUBECONFIG is not set; set it to the kubeconfig of the cluster to test, e.g. SRE_RUNBOOKS_TEST_KUBECONFIG=~/.kube/config make test-real" >&2; \
	  exit 2; \
	fi
	@test -r "$$SRE_RUNBOOKS_TEST_KUBECONFIG" || { \
	  echo "make test-real: SRE_RUNBOOKS_TEST_KUBECONFIG=$$SRE_RUNBOOKS_TEST_KUBECONFIG is not a readable file" >&2; exit 2; }
	$(PY) -m pytest -q -n 2 -m k8s tests/sandbox

# One sandbox per pytest worker, reset between its scenarios; they wait on Prometheus much of the
# time, so three run at once (faster than two on two cores, docs/testing.md).
molecule: setup ## each alert role's molecule scenario, on a sandbox per worker reset between scenarios
	$(PY) -m pytest -q -n 3 tests/molecule

sanity: setup ## ansible-test sanity on a copy of the collection
	tools/run-sanity

bench: setup ## benchmarks: roles against the seeds' shell commands, the launcher against ansible-playbook
	$(PY) bench/roles.py
	$(PY) bench/launcher.py

docs: setup ## regenerate docs/alerts.md from the alerting rules
	$(PY) -m sre_runbooks.rules

# What users install: the collection tarball, the launcher's and the sandbox's wheels.
build: setup ## build the collection tarball and the launcher's and sandbox's wheels into build/
	tools/build-dists build

install: build ## install the tarball into ~/.ansible/collections
	$(BIN)/ansible-galaxy collection install --force $(TARBALL)

clean: ## remove build output (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache $(DEV_COLLECTIONS)

demo: setup ## sandbox up, fire HighErrorRate, remediate it by name with `runbook run`, show the report
	$(BIN)/runbook sandbox up
	$(BIN)/runbook sandbox inject HighErrorRate --wait
	$(BIN)/runbook run HighErrorRate --yes
	@echo "The sandbox keeps running: 'runbook sandbox status', 'runbook sandbox down'."
