// Package fields holds what a filter found for one failure: the groups its
// regexes captured and what merging adds ("matches", "users", ...) — the
// data dict of fail2ban's ticket, with Python's values (None, str, lists,
// tuples, ints). A failure has a handful of fields, so a Set is a short
// list searched in order, not a map, and holds text without boxing it.
package fields

import (
	"fmt"
	"iter"
	"slices"
	"unsafe"
)

// Set is a failure's fields. A nil *Set is empty; a Set is shared by the
// failures of one multi-line session, as fail2ban shares its dict.
type Set struct {
	e []entry
	// has has keyBit set for every key in e (and perhaps for keys deleted
	// since): a lookup of a key whose bit is clear misses at once.
	has uint64
	// spare is room for one-item lists (OneList) allocated with the set.
	spare []string
}

// keyBit is k's bit in Set.has, from its length and its first and last
// bytes; the factors give the usual fields (user, ip4, ip6, dns, fid,
// mlfid, matches, users, nofail, mlf*, ...) bits of their own.
func keyBit(k string) uint64 {
	if k == "" {
		return 1
	}
	return 1 << ((uint(len(k))*6 + uint(k[0]) + uint(k[len(k)-1])*22) & 63)
}

// put sets e, in place of the entry with its key or appended.
func (f *Set) put(e entry) {
	k := e.key()
	if i := f.find(k); i >= 0 {
		f.e[i] = e
		return
	}
	f.e = append(f.e, e)
	f.has |= keyBit(k)
}

// entry is one field in 32 bytes: its key, its kind, and s: the text
// (kindText), a list's data and length (kindList: a list kept without
// boxing it in an interface, which would cost an allocation each time
// "matches" or "users" is set), or a pointer to any other value, boxed
// (kindValue). Python's None is kindNone.
type entry struct {
	k    *byte  // the key's bytes
	kn   uint32 // the key's length
	kind uint32
	s    string
}

// Kinds of entries.
const (
	kindNone = iota
	kindText
	kindList
	kindValue
)

func newEntry(k string, kind uint32, s string) entry {
	return entry{k: unsafe.StringData(k), kn: uint32(len(k)), kind: kind, s: s}
}

func (e *entry) key() string { return unsafe.String(e.k, e.kn) }

func (e *entry) text() bool { return e.kind == kindText }

// boxed returns v's entry text: a pointer to a copy of v.
func boxed(v any) string {
	p := new(any)
	*p = v
	return unsafe.String((*byte)(unsafe.Pointer(p)), 1)
}

// boxedValue is the value of a kindValue entry.
func (e *entry) boxedValue() any { return *(*any)(unsafe.Pointer(unsafe.StringData(e.s))) }

// list returns the entry's list when it holds one.
func (e *entry) list() ([]string, bool) {
	switch e.kind {
	case kindList:
		return unsafe.Slice((*string)(unsafe.Pointer(unsafe.StringData(e.s))), len(e.s)), true
	case kindValue:
		s, ok := e.boxedValue().([]string)
		return s, ok
	}
	return nil, false
}

// listEntry is an entry holding l, unboxed unless it is empty (an empty
// list keeps its identity: nil or not).
func listEntry(k string, l []string) entry {
	if len(l) == 0 {
		return newEntry(k, kindValue, boxed(l))
	}
	return newEntry(k, kindList, unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(l))), len(l)))
}

// New returns an empty set with room for n fields: up to InlineRoom in
// the same allocation as the set.
func New(n int) *Set {
	if n > InlineRoom {
		return &Set{e: make([]entry, 0, n)}
	}
	b := new(struct {
		s Set
		a [InlineRoom]entry
		l [2]string
	})
	b.s.e, b.s.spare = b.a[:0:InlineRoom], b.l[:]
	return &b.s
}

// OneList returns the list of s, without room to grow in place (an
// append makes a new list, never touching its neighbour): in room
// allocated with the set (New) while it lasts, enough for a session's
// first user and matched line.
func (f *Set) OneList(s string) []string {
	if f == nil || len(f.spare) == 0 {
		return []string{s}
	}
	l := f.spare[:1:1]
	f.spare = f.spare[1:]
	l[0] = s
	return l
}

// InlineRoom is the fields a set holds in its own allocation (New): a
// failregex's groups, its prefregex's and what merging adds, for most
// filters.
const InlineRoom = 8

// Of returns a set of m's fields.
func Of(m map[string]any) *Set {
	f := New(len(m))
	for k, v := range m {
		f.Set(k, v)
	}
	return f
}

func (f *Set) find(k string) int {
	if f == nil || f.has&keyBit(k) == 0 {
		return -1
	}
	for i := range f.e {
		if e := &f.e[i]; int(e.kn) == len(k) && e.key() == k {
			return i
		}
	}
	return -1
}

// Len is the number of fields.
func (f *Set) Len() int {
	if f == nil {
		return 0
	}
	return len(f.e)
}

// Lookup returns field k's value and whether the set has it.
func (f *Set) Lookup(k string) (any, bool) {
	i := f.find(k)
	if i < 0 {
		return nil, false
	}
	return f.e[i].value(), true
}

// Get returns field k's value; nil when absent or None.
func (f *Set) Get(k string) any {
	v, _ := f.Lookup(k)
	return v
}

// Has reports whether the set has field k (even None).
func (f *Set) Has(k string) bool { return f.find(k) >= 0 }

// Text returns field k when it is text.
func (f *Set) Text(k string) (string, bool) {
	i := f.find(k)
	if i < 0 || !f.e[i].text() {
		return "", false
	}
	return f.e[i].s, true
}

// Str returns field k's text ("" unless it is text).
func (f *Set) Str(k string) string {
	s, _ := f.Text(k)
	return s
}

// Strings returns a list field (nil unless it is one).
func (f *Set) Strings(k string) []string {
	i := f.find(k)
	if i < 0 {
		return nil
	}
	s, _ := f.e[i].list()
	return s
}

// Truthy reports whether field k is true as Python tests it: present, not
// None, not empty, not zero.
func (f *Set) Truthy(k string) bool {
	i := f.find(k)
	if i < 0 {
		return false
	}
	switch e := &f.e[i]; e.kind {
	case kindText, kindList:
		return e.s != ""
	case kindValue:
		return Truthy(e.boxedValue())
	}
	return false
}

// Truthy reports whether v is true as Python tests it.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case []string:
		return len(x) > 0
	case bool:
		return x
	case int:
		return x != 0
	}
	return true
}

// SetText sets field k to text s.
func (f *Set) SetText(k, s string) { f.put(newEntry(k, kindText, s)) }

// Set sets field k to v (text is kept as text; nil is None).
func (f *Set) Set(k string, v any) {
	switch x := v.(type) {
	case string:
		f.SetText(k, x)
		return
	case []string:
		f.SetList(k, x)
		return
	}
	if v == nil {
		f.put(newEntry(k, kindNone, ""))
		return
	}
	f.put(newEntry(k, kindValue, boxed(v)))
}

// SetList sets field k to list l (which the set shares; do not change
// it). Unlike Set, it boxes nothing.
func (f *Set) SetList(k string, l []string) { f.put(listEntry(k, l)) }

// Delete removes field k.
func (f *Set) Delete(k string) {
	if i := f.find(k); i >= 0 {
		f.e = slices.Delete(f.e, i, i+1)
		f.has = 0
		for j := range f.e {
			f.has |= keyBit(f.e[j].key())
		}
	}
}

// All yields the fields in the order they were first set.
func (f *Set) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if f == nil {
			return
		}
		for i := range f.e {
			if !yield(f.e[i].key(), f.e[i].value()) {
				return
			}
		}
	}
}

// Clone returns a copy of the set (the values are shared).
func (f *Set) Clone() *Set {
	if f == nil {
		return nil
	}
	return &Set{e: slices.Clone(f.e), has: f.has}
}

// Map returns the fields as a map.
func (f *Set) Map() map[string]any {
	if f == nil {
		return nil
	}
	m := make(map[string]any, len(f.e))
	for i := range f.e {
		m[f.e[i].key()] = f.e[i].value()
	}
	return m
}

func (e *entry) value() any {
	switch e.kind {
	case kindText:
		return e.s
	case kindList:
		l, _ := e.list()
		return l
	case kindValue:
		return e.boxedValue()
	}
	return nil
}

// Copy sets field to to field from's value (None when absent).
func (f *Set) Copy(to, from string) {
	i := f.find(from)
	if i < 0 {
		f.Set(to, nil)
		return
	}
	e := f.e[i]
	e.k, e.kn = unsafe.StringData(to), uint32(len(to))
	f.put(e)
}

// Update sets the fields of src that are not None, as a multi-line
// session takes in a new match's fields.
func (f *Set) Update(src *Set) {
	if src == nil {
		return
	}
	for _, e := range src.e {
		if e.kind != kindNone {
			f.put(e)
		}
	}
}

// String prints the fields as fmt prints a map (keys sorted), so that
// equal sets print alike.
func (f *Set) String() string { return fmt.Sprint(f.Map()) }

// Layout is a list of distinct keys known before their values (the groups
// of a regex): Build makes a set of them without looking each one up.
type Layout struct {
	keys []string
	has  uint64
}

// NewLayout returns the layout of keys, which must be distinct.
func NewLayout(keys []string) *Layout {
	l := &Layout{keys: slices.Clone(keys)}
	for _, k := range keys {
		l.has |= keyBit(k)
	}
	return l
}

// Build returns a new set, from arena a (nil: the heap), with room for n
// fields (as New; at least the layout's) holding the layout's keys in
// order: value(i) gives key i's text, or false for None. It equals
// setting each key in turn.
func (l *Layout) Build(a *Arena, n int, value func(i int) (string, bool)) *Set {
	f := a.New(max(n, len(l.keys)))
	f.e = f.e[:len(l.keys)]
	for i, k := range l.keys {
		if s, ok := value(i); ok {
			f.e[i] = newEntry(k, kindText, s)
		} else {
			f.e[i] = newEntry(k, kindNone, "")
		}
	}
	f.has = l.has
	return f
}
