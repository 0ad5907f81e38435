#!/usr/bin/env bash
# Installs the Debian packages f2bx's build and tests need, when missing.
# Needs root (or sudo) only when something is missing. Go itself must be
# installed already (Go 1.26 or newer).
set -euo pipefail

# command → Debian package
declare -A pkgs=(
  [python3]=python3       # runs fail2ban's own client, the oracle of the tests
  [dpkg-deb]=dpkg          # extracts fail2ban's package
  [apt-get]=apt
  [gcc]=gcc                # cgo (go test -race)
  [make]=make
  [ip]=iproute2            # network-namespace tests (ignoreself, XDP, nftables)
  [clang-14]=clang-14      # rebuilds bpf/xdp.c: the test that the committed .o is current
  [llvm-strip]=llvm-14
)

missing=()
for cmd in "${!pkgs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkgs[$cmd]}")
done
# Hyperscan, the multi-pattern engine of the filter's batch path (a build
# without it is pure Go and slower).
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists libhs 2>/dev/null; then
  missing+=(libhyperscan-dev)
fi
# PCRE2, whose JIT runs the filters' RE2 regexes (Go's regexp without it).
if ! pkg-config --exists libpcre2-8 2>/dev/null; then
  missing+=(libpcre2-dev)
fi
# libbpf's headers for bpf/xdp.c
[ -f /usr/include/bpf/bpf_helpers.h ] || missing+=(libbpf-dev)

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The tests download Debian's fail2ban package with apt-get; that needs the
# package lists.
policy=$(apt-cache policy fail2ban 2>/dev/null || true)
if ! grep -q 'Candidate: [0-9]' <<<"$policy"; then
  echo "deps: apt-get update (no package list knows fail2ban yet)"
  $sudo apt-get update -qq
fi

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is not installed; install Go 1.26 or newer from go.dev/dl" >&2
  exit 1
fi
