# balise — every target is a one-line alias; CI runs `make test`.
GO ?= go
# The patched toolchain, fetched by the go command from the module proxy on
# first use (machines start with their own Go; see README). Override it on the
# command line: make test GOTOOLCHAIN=go1.27.4
export GOTOOLCHAIN := go1.27.3
# 50,000 inputs per fuzz target keeps `make test` under 25 minutes on two
# slow cores (28 targets; the HTTP ones run searches); `make fuzz
# FUZZTIME=2m` goes further.
FUZZTIME ?= 50000x
SHELL := bash
.SHELLFLAGS := -o pipefail -ec

.PHONY: test build lint unit race fuzz relevance bench deps vulncheck k8s

## test: everything CI checks (installs what the tests need first)
test: deps lint vulncheck race k8s fuzz relevance

build:
	$(GO) build -o bin/balise ./cmd/balise

deps:
	@bash scripts/deps.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -count=1 ./...

# The relevance suite builds an index of the 100k-document shared file: it
# runs on its own, without the race detector (target relevance).
race:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /internal/relevance)

## k8s: the Kubernetes manifests build with kustomize and decode strictly (a module of its own: deploy/k8s)
k8s:
	$(GO) build -o bin/staticcheck honnef.co/go/tools/cmd/staticcheck
	cd deploy/k8s && test -z "$$(gofmt -l .)" && $(GO) vet ./... && ../../bin/staticcheck ./... && $(GO) test -count=1 ./...

## fuzz: a short run of every fuzz target (seeds live in testdata/fuzz/)
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

## relevance: relevance suite and agreement with Addok on the shared data (skipped without ../shared, required in CI)
relevance:
	$(GO) test -count=1 -v ./internal/relevance/ 2>&1 | grep -vE '^=== (RUN|PAUSE|CONT)'

## vulncheck: govulncheck against a pinned local copy of the Go vulnerability database
vulncheck:
	@bash scripts/vulncheck.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
