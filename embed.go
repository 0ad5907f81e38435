// Package f2bx holds the configuration embedded in the f2bx binary: the
// jails.d and filters.d folders of this repository.
package f2bx

import "embed"

// Defaults is the embedded configuration layer (jails.d/*.toml and
// filters.d/*.toml).
//
//go:embed jails.d filters.d
var Defaults embed.FS
