# kringen.mcp_server — the two commands a new user needs: `make up` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
SDK2_VENV := $(CURDIR)/.venv-sdk2
FUZZ_VENV := $(CURDIR)/.venv-fuzz
ANSIBLE_VENV := $(CURDIR)/.venv-ansible
COLLECTION_LINK := $(CURDIR)/.cache/collections/ansible_collections/kringen/mcp_server
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(PATH)

.PHONY: help test test-app test-collection run bench fuzz venv sdk2-venv fuzz-venv ansible-venv collection-link ferretdb \
        keycloak \
        render lint sanity bench-abuse bench-deploy bench-procs soak publish docker-build-publish docker-publish k8s-deploy clean \
        up down test-cluster cluster-up cluster-down cluster-status

help:
	@echo "make up        deploy the whole stack (local cluster when no other is configured)"
	@echo "make test      every test: app, collection, and the stack end to end on a real cluster"
	@echo "make run       run the MCP server on 127.0.0.1:8080 with a local FerretDB"
	@echo "make bench     benchmarks (bench/)"
	@echo "make bench-abuse  one attacking client against the server: RSS growth, another client's /health latency (BENCH_BASELINE=app/src of another checkout: side by side)"
	@echo "make soak      soak test: 2,000 WebSocket sessions + 50 HTTP clients for 10 minutes (SOAK_MINUTES, SOAK_WS, SOAK_HTTP)"
	@echo "make fuzz      the fuzzers, 100000 inputs each (FUZZ_ARGS='--seed N --inputs N --only core')"

venv: $(VENV)/.installed
$(VENV)/.installed: app/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e 'app[test,fast]'
	touch $@

# The SDK 2.x client cannot share a virtualenv with mcp 1.x (the last line with the WebSocket client).
sdk2-venv: $(SDK2_VENV)/.installed
$(SDK2_VENV)/.installed: app/tests/sdk2/requirements.txt
	bash hack/cached-venv.sh $(SDK2_VENV) app/tests/sdk2/requirements.txt $(PYTHON)

# atheris for the fuzzers (app/tests/fuzz): the app's own dependencies come from .venv.
fuzz-venv: $(FUZZ_VENV)/.installed
$(FUZZ_VENV)/.installed: app/tests/fuzz/requirements.txt
	bash hack/cached-venv.sh $(FUZZ_VENV) app/tests/fuzz/requirements.txt $(PYTHON)

# Ansible, ansible-lint, molecule and the kubernetes.core/community.docker collections (from PyPI's `ansible`).
ansible-venv: $(ANSIBLE_VENV)/.installed
$(ANSIBLE_VENV)/.installed: tests/requirements.txt
	bash hack/cached-venv.sh $(ANSIBLE_VENV) tests/requirements.txt $(PYTHON)

# Makes this checkout the collection kringen.mcp_server for ansible.cfg's collections_path.
collection-link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../../.. $(COLLECTION_LINK)

ferretdb:
	@bash hack/build/ferretdb.sh >/dev/null

# Keycloak, the identity provider of the app's OAuth tests (from Maven Central; runs on a Java 21+ it finds).
keycloak:
	@bash hack/build/keycloak.sh >/dev/null

# The cluster's setup runs beside the app's and the collection's tests (hack/test.sh says why).
test: venv sdk2-venv fuzz-venv ansible-venv collection-link ferretdb
	bash hack/test.sh

test-app: venv sdk2-venv fuzz-venv ferretdb keycloak
	cd app && MCP_SDK2_PYTHON=$(SDK2_VENV)/bin/python MCP_FUZZ_VENV=$(FUZZ_VENV) $(PY) -m pytest $(PYTEST_ARGS)

fuzz: venv fuzz-venv ferretdb
	cd app/tests && MCP_FUZZ_VENV=$(FUZZ_VENV) $(PY) -m fuzz.run $(FUZZ_ARGS)

test-collection: venv ansible-venv collection-link ferretdb
	MCP_APP_PYTHON=$(PY) $(ANSIBLE_VENV)/bin/python -m pytest tests/collection $(PYTEST_ARGS)

ANSIBLE_PLAYBOOK := $(ANSIBLE_VENV)/bin/ansible-playbook
INVENTORY ?= inventories/example/hosts.yml

render: ansible-venv collection-link
	$(ANSIBLE_PLAYBOOK) -i $(INVENTORY) playbooks/render.yml

lint: ansible-venv collection-link
	$(ANSIBLE_VENV)/bin/ansible-lint

# The seed's targets, now driven by the playbooks.
docker-build-publish: ansible-venv collection-link
	$(ANSIBLE_PLAYBOOK) -i $(INVENTORY) playbooks/publish.yml -e image_strategy=build -e image_push=false

docker-publish: ansible-venv collection-link
	$(ANSIBLE_PLAYBOOK) -i $(INVENTORY) playbooks/publish.yml -e image_strategy=build

publish: docker-publish

k8s-deploy: ansible-venv collection-link
	$(ANSIBLE_PLAYBOOK) -i $(INVENTORY) playbooks/deploy.yml

# The local single-node Kubernetes (hack/localcluster): built from the Go module proxy and Debian packages.
cluster-up:
	bash hack/localcluster/up.sh
cluster-down:
	bash hack/localcluster/down.sh
cluster-status:
	bash hack/localcluster/status.sh

# The main job: deploy the whole stack (to KUBECONFIG's cluster when it answers, else the local one).
up: venv ansible-venv collection-link
	bash hack/up.sh

down: ansible-venv collection-link
	bash hack/down.sh

# molecule test: local cluster up, deploy.yml, idempotence, verify (tests/cluster), undeploy; then the
# local cluster is stopped again (its state and images stay cached, so the next run is fast).
test-cluster: venv sdk2-venv ansible-venv collection-link
	bash hack/localcluster/down.sh   # clears what a killed earlier run left (processes, mounts, rules)
	bash hack/localcluster/up.sh >/dev/null   # here, not only in molecule's create, so its progress shows
	PATH=$(ANSIBLE_VENV)/bin:$$PATH MCP_SDK2_PYTHON=$(SDK2_VENV)/bin/python $(ANSIBLE_VENV)/bin/molecule test
	bash hack/localcluster/down.sh

bench: venv sdk2-venv ferretdb
	bash bench/run.sh
	$(MAKE) --no-print-directory bench-abuse
	$(MAKE) --no-print-directory bench-procs
	$(MAKE) --no-print-directory bench-deploy

# One server process against two on one port (MCP_PROCESSES=2), nothing pinned (bench/processes.sh).
bench-abuse: venv ferretdb
	cd bench && $(PY) abuse.py $(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE))

bench-procs: venv ferretdb
	bash bench/processes.sh

# One server process under 2,000 WebSocket sessions and 50 HTTP clients calling tools for SOAK_MINUTES
# (bench/soak.sh; not part of `make test`): fails on any error, RSS growth >= 5 % or a process that died.
SOAK_MINUTES ?= 10
SOAK_WS ?= 2000
SOAK_HTTP ?= 50
soak: venv ferretdb
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_WS=$(SOAK_WS) SOAK_HTTP=$(SOAK_HTTP) bash bench/soak.sh

# deploy.yml against kubectl apply of the same manifests, on the local cluster (bench/deploy.py).
bench-deploy: venv ansible-venv collection-link
	KUBECONFIG="$$(bash hack/localcluster/up.sh | tail -1)" $(PY) bench/deploy.py

run: venv ferretdb
	bash hack/run-local.sh

clean:
	rm -rf $(VENV) $(SDK2_VENV) $(FUZZ_VENV) $(ANSIBLE_VENV) .cache/collections rendered
