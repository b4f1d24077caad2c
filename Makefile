# Thin wrappers; `make test` is exactly what CI runs.
CARGO ?= cargo
FIXTURES := $(sort $(wildcard fixtures/events/*.json))

.PHONY: run test lint unit build fixtures fixtures-check fuzz fuzz-ci bench bench-check services services-stop

## Replay the bundled fixtures: the waterfall on stdout, OTLP/JSON in target/replay.otlp.jsonl, stats on stderr.
run:
	$(CARGO) build --bin logship
	./target/debug/logship replay $(FIXTURES) --view waterfall --output target/replay.otlp.jsonl --stats
	@echo "OTLP/JSON requests written to target/replay.otlp.jsonl"

## Everything CI checks.
test: lint unit fixtures-check

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --all-features -- -D warnings

## Unit, integration, property and golden tests, with the real receivers they need started and stopped around them.
unit:
	.ci/services.sh run $(CARGO) test --all-targets --all-features

## Start the end-to-end test services (rotel) in the background; `eval "$$(make -s services)"` exports their settings.
services:
	@.ci/services.sh start

services-stop:
	@.ci/services.sh stop

## The shipper Lambda's binary (the `lambda` feature brings lambda_runtime and the AWS SDK).
build:
	$(CARGO) build --release --features lambda --bin shipper

## Regenerate the fixtures (deterministic); fixtures-check fails if the committed ones drifted.
fixtures:
	python3 fixtures/generate.py

fixtures-check:
	python3 fixtures/generate.py --check

## Benchmarks in release mode: per stage, end to end, and the floor (base64 + gunzip + JSON) to read them against.
bench:
	$(CARGO) bench --bench pipeline

## Proves the bench builds and runs: each case once, untimed (`make unit` does this too).
bench-check:
	$(CARGO) test --bench pipeline

FUZZ_SECONDS ?= 600

## Fuzz every target for FUZZ_SECONDS each (corpora persist in fuzz/corpus); see fuzz/README.md.
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

## Install cargo-fuzz if missing, build, replay fuzz/regressions, then 60 s per target; non-zero on a finding.
fuzz-ci:
	fuzz/run.sh 60
