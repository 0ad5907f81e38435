// Package bpf holds f2bx's XDP program (xdp.c) and the Go bindings bpf2go
// generates for it. The generated .go and .o files are committed, so a
// build needs no clang; `make generate` rebuilds them.
package bpf

//go:generate go tool bpf2go -cc clang-14 -strip llvm-strip -target bpfel,bpfeb -go-package bpf -output-stem xdp Xdp xdp.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -Werror
