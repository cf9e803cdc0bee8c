# balise — every target is a one-line alias; CI runs `make test`.
GO ?= go
FUZZTIME ?= 10s

.PHONY: test build lint unit race fuzz relevance bench deps

## test: everything CI checks (installs what the tests need first)
test: deps lint race fuzz relevance

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

race:
	$(GO) test -race -count=1 ./...

## fuzz: a short run of every fuzz target (seeds live in testdata/fuzz/)
fuzz:
	@bash scripts/fuzz.sh $(FUZZTIME)

## relevance: the relevance suite over the shared BAN/BANO file (skipped without ../shared)
relevance:
	$(GO) test -count=1 -run 'TestRelevance' -v ./internal/relevance/ 2>&1 | grep -E '^(=== RUN|--- |\s+relevance|ok|FAIL|PASS)' || true
	$(GO) test -count=1 -run 'TestRelevance' ./internal/relevance/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
