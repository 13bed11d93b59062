# ServiceCoin developer entry points. `make test` and `make demo` set everything up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help abis audit audit-static audit-coverage audit-stateful bench demo setup test test-oracle test-integration test-contracts test-contracts-ganache test-toolchain gas clean

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON_BOOT ?= python3
# The venv first (it holds brownie and, after setup, the chains), then the npm binaries.
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

PY_STAMP := $(VENV)/.python-deps
NPM_STAMP := node_modules/.npm-deps

help:
	@echo "make setup   - create .venv, install Python and npm packages, put solc and the chains in place"
	@echo "make demo    - setup if needed, then deploy on an embedded local chain, reward customers, redeem"
	@echo "make test    - setup if needed, then the whole suite (contracts on Anvil and on Ganache)"
	@echo "make gas     - measure gas per operation and write snapshots/gas.json"
	@echo "make bench   - gas and throughput against naive baselines: bench/REPORT.md"
	@echo "make audit   - the auditor's checks: slither and ERC-20/2612 conformance (own venv .venv-audit),"
	@echo "               coverage of every contract branch, the long stateful profile on Anvil and Ganache"

# eth-brownie is built from its source distribution, pure Python: the published mypyc wheel
# breaks the state_machine fixture and --coverage (see ../shared/TOOLCHAIN.md).
$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON_BOOT) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel setuptools
	BROWNIE_NOCOMPILE=1 $(BIN)/python -m pip install --quiet --no-binary eth-brownie -e '.[dev]'
	touch $@

# `npm install` with the committed lockfile rather than `npm ci`: the registry reachable here
# does not serve Anvil's other-platform optional packages, so the lockfile cannot list them
# and `npm ci` refuses it as out of sync. The lockfile still pins every installed version.
$(NPM_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NPM_STAMP)
	$(BIN)/python tools/setup_toolchain.py

test: setup test-toolchain test-oracle test-integration test-contracts test-contracts-ganache

test-toolchain: setup
	$(BIN)/python -m pytest -q -p no:pytest-brownie tests/toolchain

test-oracle: setup
	$(BIN)/python -m pytest -q -p no:pytest-brownie tests/oracle

# The oracle end to end on Anvil: webhooks over HTTP, batches over JSON-RPC, kills and restarts.
test-integration: setup
	$(BIN)/brownie test tests/integration
	$(BIN)/brownie test tests/integration/test_stuck_transactions.py --network ganache-cli

test-contracts: setup
	$(BIN)/brownie test tests/contracts

test-contracts-ganache: setup
	$(BIN)/brownie test tests/contracts --network ganache-cli

abis: setup
	$(BIN)/brownie compile
	$(BIN)/python tools/export_abis.py

gas: setup
	$(BIN)/python tools/run_script.py gas_snapshot

# Gas and throughput against naive baselines; writes bench/results.json, REPORT.md and a plot.
bench: setup
	$(BIN)/python tools/run_script.py bench --free-port --gas-limit 30000000

# The auditor's suite (docs/invariants.md). Slither pins its own web3 and eth-abi, so it lives
# in its own virtualenv, created here when missing (tools/audit/requirements.txt).
AUDIT_VENV := .venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.audit-deps

$(AUDIT_STAMP): tools/audit/requirements.txt
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON_BOOT) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tools/audit/requirements.txt
	touch $@

audit: audit-static audit-coverage audit-stateful

# slither (no unresolved High/Medium finding) and slither-check-erc, through the project's solc.
audit-static: setup $(AUDIT_STAMP)
	$(BIN)/python tools/audit/static_analysis.py

# Every contract test with brownie's coverage (on Anvil with steps tracing, the network
# audit-coverage: see tools/audit/coverage_network.py); fails below the branch-coverage goal.
audit-coverage: setup
	$(BIN)/python tools/audit/coverage_network.py
	$(BIN)/brownie test tests/contracts --coverage --network audit-coverage
	$(BIN)/python tools/audit/coverage_summary.py

# The stateful property suite's long profile, on both chains.
audit-stateful: setup
	SERVICECOIN_AUDIT=1 $(BIN)/brownie test tests/contracts/stateful
	SERVICECOIN_AUDIT=1 $(BIN)/brownie test tests/contracts/stateful --network ganache-cli

clean:
	rm -rf build reports .hypothesis

demo: setup
	$(BIN)/python tools/run_script.py demo --free-port
