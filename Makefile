# f2bx — build, test, benchmark, lint, install.
GO      ?= go
PREFIX  ?= /usr/local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Hyperscan (Debian's libhyperscan-dev 5.4) and PCRE2's JIT (libpcre2-dev) when
# pkg-config finds them; a pure-Go build otherwise.
TAGS    ?= $(shell pkg-config --exists libhs 2>/dev/null && echo "hyperscan hyperscan_v54") $(shell pkg-config --exists libpcre2-8 2>/dev/null && echo pcre2)
GOTAGS  := -tags '$(TAGS)'

## generate: rebuild bpf/xdp.c with clang (the output is committed)
generate: deps
	cd bpf && $(GO) generate ./

## run: build and start the daemon in the foreground (root; the configuration
## f2bx finds: /etc/f2bx, /etc/fail2ban, else the embedded defaults)
run: build
	./bin/f2bx start -f

.PHONY: run generate all build test test-race bench bench-enforce bench-follow bench-ingest bench-flood bench-jail bench-regex lint fuzz install deps clean

all: build

deps:
	./scripts/deps.sh

build: deps
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
	$(MAKE) bench-ingest

## bench-enforce: CPU per dropped packet, XDP against nftables, and ban insert rates (root; namespaces)
bench-enforce:
	$(GO) run ./tests/bench/enforce

## bench-jail: failure table, jail, scheduler and restore, on 1 and 2 cores
bench-jail:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1,2 ./jail/...

## bench-regex: f2bx's own and fail2ban's filters for sshd, nginx-http-auth and postfix, fail2ban-regex in the same run
bench-regex: deps
	$(GO) test $(GOTAGS) -count=1 -run TestFail2banSamples ./tests/compat >/dev/null
	$(GO) run $(GOTAGS) ./tests/bench/regexbench -lines 1000000

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
	$(GO) test $(GOTAGS) ./filter -run '^$$' -fuzz FuzzBatchMatchesLineByLine -fuzztime $(FUZZTIME)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet $(GOTAGS) ./...

## install: the binary, the systemd unit, an /etc/f2bx skeleton and /var/lib/f2bx
## (FAIL2BAN_CLIENT=1 also links fail2ban-client to f2bx)
UNITDIR ?= /lib/systemd/system
install: build
	install -D -m 0755 bin/f2bx $(DESTDIR)$(PREFIX)/bin/f2bx
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's#@PREFIX@#$(PREFIX)#g' dist/f2bx.service > $(DESTDIR)$(UNITDIR)/f2bx.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/f2bx.service
	@# /etc/f2bx takes precedence over /etc/fail2ban: no skeleton where fail2ban's
	@# configuration is in use (f2bx reads it as is; f2bx migrate converts it).
	if [ -e $(DESTDIR)/etc/fail2ban/jail.conf ] && [ ! -e $(DESTDIR)/etc/f2bx ]; then \
		echo "f2bx will read /etc/fail2ban; no /etc/f2bx skeleton installed"; \
	else \
		install -d -m 0755 $(DESTDIR)/etc/f2bx/jails.d $(DESTDIR)/etc/f2bx/filters.d; \
		test -e $(DESTDIR)/etc/f2bx/f2bx.toml || install -m 0644 dist/f2bx.toml $(DESTDIR)/etc/f2bx/f2bx.toml; \
	fi
	install -d -m 0700 $(DESTDIR)/var/lib/f2bx
	if [ "$(FAIL2BAN_CLIENT)" = 1 ]; then ln -sf f2bx $(DESTDIR)$(PREFIX)/bin/fail2ban-client; fi

clean:
	rm -rf bin

## bench-ingest: the daemon following a file and a ring at rising rates: lines/s kept up with, lag, ban latency (root)
bench-ingest: deps
	$(GO) run $(GOTAGS) ./tests/bench/ingest

## bench-flood: f2bx against fail2ban under a UDP flood in network namespaces (root, < 10 min): summary table, JSON and plots in .cache/flood
bench-flood: deps
	command -v nft >/dev/null || apt-get install -y nftables
	/usr/bin/python3 -c 'import pyinotify' 2>/dev/null || apt-get install -y python3-pyinotify
	$(GO) build $(GOTAGS) -o .cache/flood/f2bx ./cmd/f2bx
	$(GO) run ./tests/bench/flood -f2bx .cache/flood/f2bx -out .cache/flood

## bench-follow: log follower lines/s, io_uring against pread and nxadm/tail, on 1 and 1,000 files
bench-follow:
	$(GO) run ./tests/bench/follow
