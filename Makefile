# vaultspec: two commands on a fresh machine.
#   make up    deploys stacks/dev.yaml to the local Key Vault twin, smoke-tests it, prints a summary
#   make test  runs the whole test suite (and ruff)
# Both bootstrap .venv themselves; the venv is rebuilt when pyproject.toml or setup.py changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test lint up down schema bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: venv lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The dev stack reads one secret from Pulumi config and one from the environment. On a fresh machine
# `make up` generates random values for them once, into a 0600 file that is not committed, and reuses
# them on every run (so a second `make up` changes nothing). Real stacks take them from the pipeline.
DEV_SECRETS := .vaultspec/dev-secrets.env

$(DEV_SECRETS): | venv
	mkdir -p .vaultspec
	umask 077 && $(BIN)/python -c 'import json, secrets; \
	print("VAULTSPEC_DEV_PARTNER_TOKEN=" + secrets.token_urlsafe(32)); \
	print("PULUMI_CONFIG=" + repr(json.dumps({"vaultspec:dbPassword": secrets.token_urlsafe(32)}))); \
	print("PULUMI_CONFIG_SECRET_KEYS=" + repr(json.dumps(["vaultspec:dbPassword"])))' > $@

up: venv $(DEV_SECRETS)
	set -a && . ./$(DEV_SECRETS) && set +a && $(BIN)/vaultspec up stacks/dev.yaml

down: venv
	$(BIN)/vaultspec down stacks/dev.yaml

schema: venv
	$(BIN)/vaultspec schema > schema/vaultspec.schema.json

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .vaultspec .pytest_cache
