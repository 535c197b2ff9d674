# Gauntlet: `make quickstart` and `make test` work on a fresh Debian machine as root.
SWIFT ?= swift
GAUNTLET := .build/release/gauntlet

.PHONY: deps build quickstart report-check cifar-check slurm-check lint format test bench bench-kernels bench-sweep clean

deps:
	./scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product gauntlet

## Train and test the quickstart models on Fashion-MNIST; prints the table, writes results/quickstart/
## and its report (results/quickstart/report.html, report.md, tables/, figures/).
quickstart: build
	$(GAUNTLET) run experiments/quickstart.yaml
	$(GAUNTLET) report results/quickstart

## Runs the robustness study, reports it, and renders both reports in headless Chromium
## (non-blank, silent console, no network requests). Needs `make quickstart` first.
report-check: build
	$(GAUNTLET) run experiments/robustness-study.yaml --quiet
	$(GAUNTLET) report results/robustness-study
	./scripts/check_report_render.py --self-test results/quickstart/report.html results/robustness-study/report.html

## Runs experiments/cifar10-study.yaml unchanged on small generated data in the CIFAR-10 and
## CIFAR-10-C layouts (scripts/make_cifar_like.py), 1 epoch, and reports it.
CIFAR_CHECK := .build/cifar-check
cifar-check: build
	rm -rf $(CIFAR_CHECK) && mkdir -p $(CIFAR_CHECK)/data
	python3 scripts/make_cifar_like.py $(CIFAR_CHECK)/data/cifar10
	cp experiments/cifar10-study.yaml $(CIFAR_CHECK)/
	$(GAUNTLET) run $(CIFAR_CHECK)/cifar10-study.yaml training.epochs=1 dataset.validation=50 --output $(CIFAR_CHECK)/results --quiet
	$(GAUNTLET) report $(CIFAR_CHECK)/results/cifar10-study
	grep -q "relative mCE" $(CIFAR_CHECK)/results/cifar10-study/report.md

## Starts a real single-node Slurm (installing slurm-wlm and munge if missing), submits
## experiments/slurm-example.yaml with `gauntlet submit --slurm`, checks the merged results and report
## against a local run, --resume and an unsatisfiable dependency, then stops Slurm (scripts/check-slurm.sh).
slurm-check: build
	./scripts/check-slurm.sh $(GAUNTLET)

## swift-format's lint over the Swift sources, configured by .swift-format (the code's own style:
## 4-space indentation, lines up to 160 characters); `make format` rewrites the files to pass it.
# Every Swift file but the generated protobuf code (Sources/OnnxProto).
FORMATTED = Package.swift $(shell find Sources Tests -path Sources/OnnxProto -prune -o -name '*.swift' -print)
lint:
	@echo "swift format lint --strict ($(words $(FORMATTED)) files)"
	@$(SWIFT) format lint --strict $(FORMATTED)

format:
	@echo "swift format format --in-place ($(words $(FORMATTED)) files)"
	@$(SWIFT) format format --in-place $(FORMATTED)

## The whole test suite (debug build): Gauntlet's kernel families checked in C (each natively
## where the CPU runs it, AVX-512 also emulated; the C targets compiled for aarch64), then the
## Swift suite with the CPU's default family, with each other family it runs (AVX2 on an AVX-512
## CPU), and on the portable path (no family: OpenBLAS and Swift loops, as on aarch64).
test: deps
	./scripts/check-kernel-families.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	families=$$(.build/debug/gauntlet-bench --kernel-families) || exit 1; \
	for family in $$(echo "$$families" | tail -n +2); do \
		echo "make test: the suite again with GAUNTLET_KERNELS=$$family"; \
		GAUNTLET_KERNELS=$$family $(SWIFT) test --skip-build || exit 1; \
	done

## Release-mode benchmark: sgemm peak, kernel comparison, and the training, inference, attack and
## MC-dropout throughput of the reference workload's models as fractions of that peak.
bench: deps
	$(SWIFT) build -c release --product gauntlet-bench
	.build/release/gauntlet-bench --experiment experiments/benchmark-workload.yaml

## Release-mode benchmark of the quickstart CNN's convolution kernels one by one, next to their products alone.
bench-kernels: deps
	$(SWIFT) build -c release --product gauntlet-bench
	.build/release/gauntlet-bench --kernels

## Release-mode benchmark of the grid runner: overhead per cell, 1 job against 2 (benchmarks/sweep-*.yaml).
bench-sweep: deps
	$(SWIFT) build -c release --product gauntlet
	$(SWIFT) build -c release --product gauntlet-bench
	.build/release/gauntlet-bench --sweep

clean:
	rm -rf .build
