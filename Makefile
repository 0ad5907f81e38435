# f2bx — build, test, benchmark, lint, install.
GO      ?= go
PREFIX  ?= /usr/local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-race bench lint fuzz install deps clean

all: build

deps:
	./scripts/deps.sh

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/f2bx ./cmd/f2bx

## test: everything, including the differential tests against fail2ban
test: deps
	$(GO) test -count=1 ./...

test-race: deps
	$(GO) test -race -count=1 ./...

## bench: benchmarks, figures printed (no timed assertions)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./ini -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./config -run '^$$' -fuzz FuzzParseSeconds -fuzztime $(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

install: build
	install -D -m 0755 bin/f2bx $(DESTDIR)$(PREFIX)/bin/f2bx

clean:
	rm -rf bin
