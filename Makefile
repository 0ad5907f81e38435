# f2bx — build, test, benchmark, lint, install.
GO      ?= go
PREFIX  ?= /usr/local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Hyperscan (Debian's libhyperscan-dev 5.4) when pkg-config finds it; a pure-Go
# build otherwise.
TAGS    ?= $(shell pkg-config --exists libhs 2>/dev/null && echo "hyperscan hyperscan_v54")
GOTAGS  := -tags '$(TAGS)'

## generate: rebuild bpf/xdp.c with clang (the output is committed)
generate: deps
	cd bpf && $(GO) generate ./

.PHONY: generate all build test test-race bench bench-enforce bench-follow bench-jail bench-regex lint fuzz install deps clean

all: build

deps:
	./scripts/deps.sh

build:
	$(GO) build $(GOTAGS) -ldflags '$(LDFLAGS)' -o bin/f2bx ./cmd/f2bx

## test: everything, including the differential tests against fail2ban
test: deps
	$(GO) test $(GOTAGS) -count=1 ./...

test-race: deps
	$(GO) test $(GOTAGS) -race -count=1 ./...

## bench: Go benchmarks, then the filter against fail2ban-regex (figures printed, no timed assertions)
bench: deps
	GOMAXPROCS=1 $(GO) test $(GOTAGS) -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v /jail)
	$(MAKE) bench-jail
	$(MAKE) bench-regex
	$(MAKE) bench-enforce
	$(MAKE) bench-follow

## bench-enforce: CPU per dropped packet, XDP against nftables, and ban insert rates (root; namespaces)
bench-enforce:
	$(GO) run ./tests/bench/enforce

## bench-jail: failure table, jail, scheduler and restore, on 1 and 2 cores
bench-jail:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1,2 ./jail/...

## bench-regex: the filter on 1M-line sshd logs, fail2ban-regex in the same run
bench-regex: deps
	$(GO) test $(GOTAGS) -count=1 -run TestFail2banSamples ./tests/compat >/dev/null
	$(GO) run $(GOTAGS) ./tests/bench/regexbench

## fuzz: each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./ini -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./config -run '^$$' -fuzz FuzzParseSeconds -fuzztime $(FUZZTIME)
	$(GO) test ./filter/pyre -run '^$$' -fuzz FuzzTranslate -fuzztime $(FUZZTIME)
	$(GO) test ./filter/date -run '^$$' -fuzz FuzzTemplatesRE2 -fuzztime $(FUZZTIME)
	$(GO) test ./filter/date -run '^$$' -fuzz FuzzSyslogMatcher -fuzztime $(FUZZTIME)
	$(GO) test ./filter/date -run '^$$' -fuzz FuzzDatePattern -fuzztime $(FUZZTIME)
	$(GO) test ./filter -run '^$$' -fuzz FuzzProcessLine -fuzztime $(FUZZTIME)
	$(GO) test $(GOTAGS) ./filter -run '^$$' -fuzz FuzzHyperscanSuperset -fuzztime $(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet $(GOTAGS) ./...

install: build
	install -D -m 0755 bin/f2bx $(DESTDIR)$(PREFIX)/bin/f2bx

clean:
	rm -rf bin

## bench-follow: log follower lines/s, io_uring against pread and nxadm/tail, on 1 and 1,000 files
bench-follow:
	$(GO) run ./tests/bench/follow
