# Thin wrappers; `make test` is exactly what CI runs.
CARGO ?= cargo
# Command-line variables (ARCH=arm64) stay here: make passes them to every make below, and ISA-L's own build (run by
# cargo for isal-sys) has an ARCH of its own.
MAKEOVERRIDES :=
FIXTURES := $(sort $(wildcard fixtures/events/*.json))

.PHONY: run test lint unit build fixtures fixtures-check fuzz fuzz-ci bench bench-check bench-startup services \
  services-stop c-tools

## Replay the bundled fixtures: the waterfall on stdout, OTLP/JSON in target/replay.otlp.jsonl, stats on stderr.
run: c-tools
	$(CARGO) build --bin logship
	./target/debug/logship replay $(FIXTURES) --view waterfall --output target/replay.otlp.jsonl --stats
	@echo "OTLP/JSON requests written to target/replay.otlp.jsonl"

## Everything CI checks.
test: lint unit fixtures-check

lint: template-lint c-tools
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --all-features -- -D warnings

## Unit, integration, property and golden tests, with the real receivers they need started and stopped around them.
unit: c-tools
	.ci/services.sh run $(CARGO) test --all-targets --all-features

## Start the end-to-end test services (rotel) in the background; `eval "$$(make -s services)"` exports their settings.
services:
	@.ci/services.sh start

services-stop:
	@.ci/services.sh stop

## The Lambda functions' bootstraps, target/lambda/{shipper,subscriber}/bootstrap (feature `lambda`), built by
## cargo-lambda (with zig, for Lambda's glibc) for ARCH=arm64 (default) or ARCH=x86-64.
build: lambda-tools c-tools
	@$(if $(filter --arm64,$(LAMBDA_ARCH_FLAG)),! command -v rustup >/dev/null || rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true;)
	@$(LAMBDA_TOOLS_ENV); set -x; \
	$(CARGO) lambda build --release --features lambda --bin shipper --bin subscriber $(LAMBDA_ARCH_FLAG)

## Regenerate the fixtures (deterministic); fixtures-check fails if the committed ones drifted.
fixtures:
	python3 fixtures/generate.py

fixtures-check:
	python3 fixtures/generate.py --check

## Release builds for timing live apart, so a bench never waits on (or invalidates) the debug build's target dir.
PERF_TARGET ?= target/perf

## Benchmarks in release mode: divan per stage, end to end and the floor (base64 + gunzip + JSON), then
## `logship bench`: events/s with and without logs, efficiency against the floor, bytes, allocations, peak RSS.
bench: c-tools
	$(CARGO) bench --bench pipeline
	CARGO_TARGET_DIR=$(PERF_TARGET) $(CARGO) build --release --bin logship
	$(PERF_TARGET)/release/logship bench

## Proves the benches build and run: each divan case once, untimed, and `logship bench --quick` on the debug build.
bench-check: c-tools
	$(CARGO) test --bench pipeline
	$(CARGO) build --bin logship
	./target/debug/logship bench --quick

## The shipper's start-up to "ready for the first event" (`shipper --check`), against spawning `true`; hyperfine's
## view too when it is installed (Debian package `hyperfine`). The first build compiles the AWS SDK: minutes.
bench-startup: c-tools
	CARGO_TARGET_DIR=$(PERF_TARGET) $(CARGO) build --release --features lambda --bin shipper --bin logship
	$(PERF_TARGET)/release/logship bench --startup $(PERF_TARGET)/release/shipper --startup-only
	if command -v hyperfine >/dev/null; then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
	  hyperfine -N --warmup 5 --runs 100 '$(PERF_TARGET)/release/shipper --check' true; fi

## ISA-L (the request bodies' gzip) builds from source: autoconf, automake, libtool and, on x86-64, nasm. Installed
## from Debian's packages when missing (as root, or through sudo); elsewhere the message names what to install.
c-tools:
	@missing=""; for t in autoreconf:autoconf automake:automake libtoolize:libtool; do \
	  command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	case "$$(uname -m)" in x86_64|amd64) command -v nasm >/dev/null || missing="$$missing nasm";; esac; \
	[ -z "$$missing" ] && exit 0; \
	command -v apt-get >/dev/null || { echo "ISA-L's build needs:$$missing; install them and run make again" >&2; exit 1; }; \
	echo "installing$$missing from Debian's packages (ISA-L's build needs them)"; \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends$$missing >/dev/null

FUZZ_SECONDS ?= 600

## Fuzz every target for FUZZ_SECONDS each (corpora persist in fuzz/corpus); see fuzz/README.md.
fuzz: c-tools
	fuzz/run.sh $(FUZZ_SECONDS)

## Install cargo-fuzz if missing, build, replay fuzz/regressions, then 60 s per target; non-zero on a finding.
fuzz-ci: c-tools
	fuzz/run.sh 60

# ---------------------------------------------------------------------------------------------------------------------
# Deployment (template.yaml, AWS SAM). README.md, "Deploy", walks through it.

.PHONY: lambda-tools template-lint deploy redrive redrive-stop

ARCH ?= arm64
STACK ?= logship
PIP_CARGO_LAMBDA ?= cargo-lambda==1.9.2
CARGO_LAMBDA_TARGET := $(CURDIR)/.ci/state/cargo-lambda
# cargo-lambda's flag and the template's Architecture value for ARCH.
LAMBDA_ARCH_FLAG = $(if $(filter arm64 aarch64,$(ARCH)),--arm64,$(if $(filter x86-64 x86_64,$(ARCH)),--x86-64,$(error ARCH must be arm64 or x86-64, not "$(ARCH)")))
SAM_ARCH = $(if $(filter --arm64,$(LAMBDA_ARCH_FLAG)),arm64,x86_64)
# Where cargo-lambda (and the zig it runs through `python3 -m ziglang`) may be: on PATH, in the interpreter's scripts
# directory (not always on PATH), in the --target fallback, or in the copy .ci/services.sh installs for its emulator.
# Its C compiler for both Lambda targets goes through .ci/zig-cc.sh (ISA-L's build needs one fix there).
LAMBDA_TOOLS_ENV = export CC_x86_64_unknown_linux_gnu="$(CURDIR)/.ci/zig-cc.sh" CC_aarch64_unknown_linux_gnu="$(CURDIR)/.ci/zig-cc.sh" PATH="$(CARGO_LAMBDA_TARGET)/bin:$(CURDIR)/.ci/state/cargo-lambda-python/bin:$$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null):$$PATH" PYTHONPATH="$(CARGO_LAMBDA_TARGET):$(CURDIR)/.ci/state/cargo-lambda-python$${PYTHONPATH:+:$$PYTHONPATH}"
# The SAM CLI on PATH, else the pinned copy .ci/template-lint.sh installs.
SAM ?= $(if $(shell command -v sam 2>/dev/null),sam,PYTHONPATH="$(CURDIR)/.ci/state/template-lint-python$${PYTHONPATH:+:$$PYTHONPATH}" python3 -m samcli)
GUIDED ?= --guided
stack_output = aws cloudformation describe-stacks --stack-name "$(STACK)" --output text --query "Stacks[0].Outputs[?OutputKey=='$(1)'].OutputValue"

## cargo-lambda from PyPI (it brings zig) if it is not on PATH: into the interpreter, or where that is refused, into
## .ci/state/cargo-lambda (the pattern of .ci/services.sh).
lambda-tools:
	@$(LAMBDA_TOOLS_ENV); command -v cargo-lambda >/dev/null && exit 0; \
	echo "installing $(PIP_CARGO_LAMBDA)"; mkdir -p .ci/state; \
	export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore; \
	python3 -m pip install --quiet "$(PIP_CARGO_LAMBDA)" 2>.ci/state/cargo-lambda-pip.err || { \
	  echo "pip install into the interpreter failed ($$(grep -m1 . .ci/state/cargo-lambda-pip.err)); installing into .ci/state/cargo-lambda"; \
	  rm -rf "$(CARGO_LAMBDA_TARGET)"; python3 -m pip install --quiet --target "$(CARGO_LAMBDA_TARGET)" "$(PIP_CARGO_LAMBDA)"; }; \
	rm -f .ci/state/cargo-lambda-pip.err; \
	command -v cargo-lambda >/dev/null || { echo "cargo-lambda not found after installing $(PIP_CARGO_LAMBDA)" >&2; exit 1; }

## Lint template.yaml: cfn-lint and `sam validate --lint`, pinned, installed if missing, no AWS credentials used.
template-lint:
	.ci/template-lint.sh

## Build with SAM (cargo-lambda, for ARCH) and deploy stack STACK (default logship), asking for its parameters and
## saving the answers in samconfig.toml; `make deploy GUIDED=` deploys again with the saved answers, asking nothing.
## Give the Architecture prompt the build's value. SAM passes no cargo features: Cargo.toml's
## [package.metadata.lambda.build] gives cargo-lambda the `lambda` feature.
deploy: lambda-tools c-tools
	@command -v sam >/dev/null || .ci/template-lint.sh install
	$(LAMBDA_TOOLS_ENV); $(SAM) build --template-file template.yaml \
	  --build-dir target/sam/build --cache-dir target/sam/cache --parameter-overrides Architecture=$(SAM_ARCH)
	@echo "Built for Architecture=$(SAM_ARCH): give that answer to the Architecture prompt."
	$(SAM) deploy $(GUIDED) --template-file target/sam/build/template.yaml --config-file "$(CURDIR)/samconfig.toml" \
	  --stack-name "$(STACK)"
	@deployed="$$(aws lambda get-function-configuration --function-name "$(STACK)-shipper" --output text \
	  --query 'Architectures[0]' 2>/dev/null)"; \
	if [ -n "$$deployed" ] && [ "$$deployed" != "$(SAM_ARCH)" ]; then \
	  echo "warning: the stack runs $$deployed but the code was built for $(SAM_ARCH): make deploy ARCH=$$deployed" >&2; \
	fi

## Replay the dead-letter queue into the shipper: enables the (normally disabled) event source mapping from the queue.
## Run `make redrive-stop` once the queue is empty (both counts 0 for a few minutes).
redrive:
	@uuid="$$($(call stack_output,RedriveMappingId))"; \
	if [ -z "$$uuid" ] || [ "$$uuid" = None ]; then echo "stack $(STACK) has no RedriveMappingId output" >&2; exit 1; fi; \
	aws lambda update-event-source-mapping --uuid "$$uuid" --enabled --output text --query '[UUID, State]'; \
	url="$$($(call stack_output,DeadLetterQueueUrl))"; \
	echo "dead-letter queue (visible, in flight):"; \
	aws sqs get-queue-attributes --queue-url "$$url" --output text \
	  --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
	  --query '[Attributes.ApproximateNumberOfMessages, Attributes.ApproximateNumberOfMessagesNotVisible]'; \
	echo "redriving; run 'make redrive-stop STACK=$(STACK)' when both stay at 0"

## Disable the redrive mapping again (messages the shipper could not read stay in the queue).
redrive-stop:
	@uuid="$$($(call stack_output,RedriveMappingId))"; \
	if [ -z "$$uuid" ] || [ "$$uuid" = None ]; then echo "stack $(STACK) has no RedriveMappingId output" >&2; exit 1; fi; \
	aws lambda update-event-source-mapping --uuid "$$uuid" --no-enabled --output text --query '[UUID, State]'; \
	url="$$($(call stack_output,DeadLetterQueueUrl))"; \
	echo "dead-letter queue (visible, in flight):"; \
	aws sqs get-queue-attributes --queue-url "$$url" --output text \
	  --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
	  --query '[Attributes.ApproximateNumberOfMessages, Attributes.ApproximateNumberOfMessagesNotVisible]'
