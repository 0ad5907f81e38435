//go:build !pcre2 || !cgo

package pcre

import "fmt"

// Available reports whether PCRE2 is built in.
const Available = false

// Regexp is a compiled regex; without PCRE2 there are none.
type Regexp struct{}

// Compile fails without PCRE2.
func Compile(string) (*Regexp, error) {
	return nil, fmt.Errorf("%w: built without PCRE2 (build tag pcre2)", ErrUnsupported)
}

// Find never answers without PCRE2.
func (re *Regexp) Find(string) ([]int, bool) { return nil, false }
