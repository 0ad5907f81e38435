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

// FindInto never answers without PCRE2.
func (re *Regexp) FindInto(string, []int) ([]int, bool) { return nil, false }

// FindGroups never answers without PCRE2.
func (re *Regexp) FindGroups(string, []int) ([]int, bool) { return nil, false }

// FindGroupsInto never answers without PCRE2.
func (re *Regexp) FindGroupsInto(string, []int, []int) ([]int, bool) { return nil, false }

// CompileNative fails without PCRE2.
func CompileNative(string, bool) (*Regexp, error) { return Compile("") }

// Groups is 0 without PCRE2.
func (re *Regexp) Groups() int { return 0 }

// GroupNumber is -1 without PCRE2.
func (re *Regexp) GroupNumber(string) int { return -1 }

// After is what FindAfter found; without PCRE2, nothing.
type After struct {
	Head, Rest []int
	Start, End int
	RestOK     bool
}

// FindAfter never answers without PCRE2.
func FindAfter(_, _ *Regexp, _ string, _ int, _, _ []int) (After, bool) { return After{}, false }

// Batch is FindAfter over many lines; without PCRE2 it searches none.
type Batch struct{}

// NewBatch returns a Batch that searches no line.
func NewBatch(*Regexp, []*Regexp) *Batch { return &Batch{} }

// Reset does nothing without PCRE2.
func (b *Batch) Reset() {}

// Add adds no line without PCRE2.
func (b *Batch) Add(string, int, int) (int, bool) { return 0, false }

// Regex is -1 without PCRE2.
func (b *Batch) Regex(int) int { return -1 }

// Run does nothing without PCRE2.
func (b *Batch) Run([]byte) {}

// Result never answers without PCRE2.
func (b *Batch) Result(int, []int, []int) (After, bool) { return After{}, false }

// Found never answers without PCRE2.
func (b *Batch) Found(int, []int) ([]int, bool) { return nil, false }
