# vaultspec: two commands on a fresh machine.
#   make up    deploys stacks/dev.yaml to the local Key Vault twin with the real Pulumi engine, smoke-tests it
#   make test  runs the whole test suite (and ruff), end-to-end tests on the real engine included
# Both bootstrap what they need: .venv (exactly requirements.lock, hashes checked; rebuilt when it changes)
# and the Pulumi CLI with its language hosts, built from Go modules at the version pyproject.toml pins.
#   make lock  re-resolves requirements.lock from pyproject.toml (commit both)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
TOOLS  := .vaultspec/tools/bin
# The one place the Pulumi version lives: pyproject's exact `pulumi==X.Y.Z` pin.
PULUMI_VERSION := $(shell sed -n 's/^ *"pulumi==\([0-9.]*\)".*/\1/p' pyproject.toml)

LOCK   := requirements.lock

.PHONY: venv lock pulumi sdks test lint up down schema bench clean

venv: $(STAMP)

# Every dependency at the version and hash the lock records; then vaultspec itself, editable, adding nothing.
$(STAMP): pyproject.toml setup.py $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --universal --python-version 3.11 -o $(LOCK)

# The Pulumi CLI and its Python, Node.js and Go language hosts, from the Go module proxy (never release
# binaries); a pulumi already on PATH at or above the pin is used instead. Idempotent: a no-op when built.
pulumi:
	@test -n "$(PULUMI_VERSION)" || { echo "pyproject.toml pins no pulumi==X.Y.Z" >&2; exit 1; }
	tools/pulumi/build.sh $(PULUMI_VERSION) $(TOOLS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The component library's TypeScript and Go SDKs, generated from components/schema.json into
# examples/{typescript,go}/sdks (not committed), and both examples built against them: npm ci, tsc --strict,
# go vet, go build. Cached by their inputs (.vaultspec/sdks): a no-op when nothing changed.
sdks: venv pulumi
	$(BIN)/python -m vaultspec.sdks build

test: venv lint pulumi sdks
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The dev stack reads one secret from Pulumi config and one from the environment. On a fresh machine
# `make up` generates random values for them once, into a 0600 file that is not committed: the config
# secret is handed to the stack once (`--secret`, kept encrypted in Pulumi.dev.yaml by Pulumi), the
# environment one is exported on every run. Real stacks take them from the pipeline.
DEV_SECRETS := .vaultspec/dev-secrets.env

$(DEV_SECRETS): | venv
	mkdir -p .vaultspec
	umask 077 && $(BIN)/python -c 'import secrets; \
	print("VAULTSPEC_DEV_PARTNER_TOKEN=" + secrets.token_urlsafe(32)); \
	print("VAULTSPEC_DEV_DB_PASSWORD=" + secrets.token_urlsafe(32))' > $@

up: venv pulumi $(DEV_SECRETS)
	set -a && . ./$(DEV_SECRETS) && set +a && $(BIN)/vaultspec up stacks/dev.yaml --secret-from-env dbPassword=VAULTSPEC_DEV_DB_PASSWORD

down: venv pulumi
	$(BIN)/vaultspec down stacks/dev.yaml

# Both generated schemas: the spec's JSON Schema, and the component package's schema the SDKs come from.
schema: venv
	$(BIN)/vaultspec schema > schema/vaultspec.schema.json
	$(BIN)/python -m vaultspec.sdks schema

bench: venv pulumi
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .vaultspec .pytest_cache
