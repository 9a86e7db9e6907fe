# kringen.mcp_server — the two commands a new user needs: `make up` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
SDK2_VENV := $(CURDIR)/.venv-sdk2
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help test test-app run bench venv sdk2-venv ferretdb clean

help:
	@echo "make up        deploy the whole stack (local cluster when no other is configured)"
	@echo "make test      every test: app, collection, local cluster end to end"
	@echo "make run       run the MCP server on 127.0.0.1:8080 with a local FerretDB"
	@echo "make bench     benchmarks (bench/)"

venv: $(VENV)/.installed
$(VENV)/.installed: app/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e 'app[test,fast]'
	touch $@

# The SDK 2.x client cannot share a virtualenv with mcp 1.x (the last line with the WebSocket client).
sdk2-venv: $(SDK2_VENV)/.installed
$(SDK2_VENV)/.installed: app/tests/sdk2/requirements.txt
	$(PYTHON) -m venv $(SDK2_VENV)
	$(SDK2_VENV)/bin/pip install -q -r app/tests/sdk2/requirements.txt
	touch $@

ferretdb:
	@bash hack/build/ferretdb.sh >/dev/null

test: test-app

test-app: venv sdk2-venv ferretdb
	cd app && MCP_SDK2_PYTHON=$(SDK2_VENV)/bin/python $(PY) -m pytest $(PYTEST_ARGS)

run: venv ferretdb
	bash hack/run-local.sh

clean:
	rm -rf $(VENV) $(SDK2_VENV)
