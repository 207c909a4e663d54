# Berth: the two commands are `make run` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help run test bench e2e web web-deps openapi lint fmt ensure-postgres ensure-chromium clean

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: ensure-postgres web ## Build the dashboard and run Berth on the embedded database (http://127.0.0.1:8080)
	$(CARGO) run -p berth -- serve

test: ## Run every test: formatting, lints, dashboard checks, Rust unit/API/e2e tests
	scripts/test.sh

bench: ## Build in release mode and run every benchmark (20–30 min); one table, results in bench/
	scripts/bench.sh

e2e: web ensure-chromium ## Run only the dashboard's real-browser tests (screenshots in web/e2e/screenshots/)
	$(CARGO) test -p berth-tests --test dashboard

web-deps: ## Install the dashboard's npm packages (from package-lock.json)
	@if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
		cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund; fi

web: web-deps ## Build the dashboard into web/dist
	cd web && npm run build

openapi: ## Regenerate web/openapi.json from the server's code
	$(CARGO) run -q -p berth -- openapi > web/openapi.json

lint: ## rustfmt and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the Rust code
	$(CARGO) fmt --all

ensure-postgres: ## Install PostgreSQL server binaries when missing (needed by the embedded database)
	scripts/ensure-postgres.sh

ensure-chromium: ## Install Debian's Chromium when missing (the dashboard's browser tests drive it)
	scripts/ensure-chromium.sh

clean: ## Remove build output (not data/)
	$(CARGO) clean
	rm -rf web/dist web/node_modules
