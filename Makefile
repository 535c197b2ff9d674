# Gauntlet: `make quickstart` and `make test` work on a fresh Debian machine as root.
SWIFT ?= swift
GAUNTLET := .build/release/gauntlet

.PHONY: deps build quickstart test bench clean

deps:
	./scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product gauntlet

## Train and test the quickstart models on Fashion-MNIST; prints the table, writes results/quickstart/.
quickstart: build
	$(GAUNTLET) run experiments/quickstart.yaml

## The whole test suite (debug build).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Release-mode benchmark: sgemm peak, kernel comparison, training throughput of both models.
bench: deps
	$(SWIFT) build -c release --product gauntlet-bench
	.build/release/gauntlet-bench

clean:
	rm -rf .build
