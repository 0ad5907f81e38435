package fields

import "unsafe"

// Arena hands out sets and copies of text from memory it keeps and reuses
// after Reset: what a batch of lines yields costs no allocation once the
// arena has grown to the batch's size. What it handed out is valid until
// Reset; Own copies a set out of it. An Arena is not safe for concurrent
// use.
type Arena struct {
	sets  [][]inlineSet
	nsets int // sets handed out since Reset
	text  [][]byte
	ntext int // chunks of text in use; the last has room left
}

// inlineSet is a set with its room for fields and one-item lists, as New
// allocates it.
type inlineSet struct {
	s Set
	a [InlineRoom]entry
	l [2]string
}

// Chunk sizes: sets in chunks of setChunk, text in chunks of textChunk
// bytes (text longer than a quarter of it is copied to the heap).
const (
	setChunk  = 64
	textChunk = 32 << 10
)

// New returns an empty set with room for n fields, as New does, from the
// arena's memory (a set of more than InlineRoom fields, or from a nil
// arena, comes from the heap).
func (a *Arena) New(n int) *Set {
	if a == nil || n > InlineRoom {
		return New(n)
	}
	c, i := a.nsets/setChunk, a.nsets%setChunk
	if c == len(a.sets) {
		a.sets = append(a.sets, make([]inlineSet, setChunk))
	}
	a.nsets++
	b := &a.sets[c][i]
	b.s.e, b.s.spare = b.a[:0:InlineRoom], b.l[:]
	return &b.s
}

// Text returns a copy of s in the arena's memory.
func (a *Arena) Text(s string) string { return a.Append(s) }

// Append returns the concatenation of parts in the arena's memory.
func (a *Arena) Append(parts ...string) string {
	size := 0
	for _, s := range parts {
		size += len(s)
	}
	if size == 0 {
		return ""
	}
	if size > textChunk/4 {
		b := make([]byte, 0, size)
		for _, s := range parts {
			b = append(b, s...)
		}
		return unsafe.String(unsafe.SliceData(b), size)
	}
	if a.ntext == 0 || cap(a.text[a.ntext-1])-len(a.text[a.ntext-1]) < size {
		if a.ntext == len(a.text) {
			a.text = append(a.text, make([]byte, 0, textChunk))
		}
		a.text[a.ntext] = a.text[a.ntext][:0]
		a.ntext++
	}
	c := &a.text[a.ntext-1]
	n := len(*c)
	for _, s := range parts {
		*c = append(*c, s...)
	}
	return unsafe.String(&(*c)[n], size)
}

// Reset takes back everything the arena handed out. The sets' fields are
// cleared, so that they keep nothing else alive.
func (a *Arena) Reset() {
	for c := 0; c*setChunk < a.nsets; c++ {
		clear(a.sets[c][:min(setChunk, a.nsets-c*setChunk)])
	}
	a.nsets, a.ntext = 0, 0
}

// Own returns a copy of the set that shares no memory with it: its texts
// are copied into one allocation, its lists into new ones; other values
// (boxed, never changed in place) are shared. A set from an Arena is
// owned once copied.
func (f *Set) Own() *Set {
	if f == nil {
		return nil
	}
	size := 0
	for i := range f.e {
		switch e := &f.e[i]; e.kind {
		case kindText:
			size += len(e.s)
		case kindList:
			l, _ := e.list()
			for _, s := range l {
				size += len(s)
			}
		}
	}
	var buf []byte
	if size > 0 {
		buf = make([]byte, 0, size)
	}
	copyText := func(s string) string {
		if s == "" {
			return ""
		}
		n := len(buf)
		buf = append(buf, s...)
		return unsafe.String(&buf[n], len(s))
	}
	o := New(len(f.e))
	o.e = o.e[:len(f.e)]
	for i := range f.e {
		e := f.e[i]
		switch e.kind {
		case kindText:
			e.s = copyText(e.s)
		case kindList:
			l, _ := e.list()
			c := make([]string, len(l))
			for j, s := range l {
				c[j] = copyText(s)
			}
			e = listEntry(e.key(), c)
		}
		o.e[i] = e
	}
	o.has = f.has
	return o
}
