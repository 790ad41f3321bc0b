# The targets beyond the policy's own build and checks: the workflow lint, the browser playground
# and its test, fuzzing, benchmarks and the load test. Included by the Makefile.

PLAYGROUND := build/playground

.PHONY: workflow-lint playground playground-build browser-test fuzz fuzz-smoke bench load

## workflow-lint: actionlint and zizmor on every workflow; fails on any finding.
workflow-lint: | $(VENV)/bin/zizmor
	$(VENV)/bin/actionlint .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --no-progress .github/workflows/

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

## browser-test: the built page in headless Chromium: examples, a typed map with a bad line, typed
## images, and every e2e request pasted in (playground/tests/browser.mjs). SCREENSHOT=docs/playground.png
## also saves a picture of the page.
browser-test: playground-build chromium | $(PLAYWRIGHT)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "SKIPPED browser-test: no chromium at $(CHROMIUM) (install Debian's chromium, or set CHROMIUM)"; \
	else \
		PLAYWRIGHT_CORE=$(PLAYWRIGHT) node playground/tests/browser.mjs $(PLAYGROUND) $(SCREENSHOT); \
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
$(FLOORS): $(wildcard floors/*/src/*.rs floors/*/Cargo.toml) Cargo.lock .cargo/config.toml | wasm-target
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
	$(call annotate,floors/metadata.yml,$@,build/floors/prefix.wasm)
load: annotated-policy.wasm build/floors/prefix-annotated.wasm
	@test -n "$(POLICY_SERVER)" || { echo "SKIPPED load: no policy-server"; exit 0; }
	mkdir -p build/bench
	python3 bench/load.py $(POLICY_SERVER) annotated-policy.wasm build/floors/prefix-annotated.wasm \
		$(LOAD_SECONDS) $(LOAD_CLIENTS) | tee build/bench/load.md

