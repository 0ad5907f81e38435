package fields

import (
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// An arena's texts are copies, and after Reset it hands out the same
// memory again: a batch's failures cost nothing once it has grown.
func TestArenaReusesItsMemory(t *testing.T) {
	var a Arena
	line := []byte("2026-11-23 08:41:01 Invalid request from 10.0.0.1")
	s := a.Text(string(line))
	line[0] = 'X'
	if s[0] != '2' {
		t.Fatal("Text shares the caller's memory")
	}
	if got := a.Append("a", "", "bc", "\n"); got != "abc\n" {
		t.Fatalf("Append %q", got)
	}
	f := a.New(3)
	f.SetText("ip4", s[len(s)-8:])
	f.SetList("matches", f.OneList(s))
	a.Reset()
	if f.Len() != 0 {
		t.Errorf("Reset left the set's fields: %v", f)
	}
	s2 := a.Text("other")
	g := a.New(3)
	if unsafe.StringData(s2) != unsafe.StringData(s) || g != f {
		t.Error("Reset did not reuse the arena's memory")
	}
	if !strings.HasPrefix(s, "other") {
		t.Errorf("the old text is not the arena's to reuse: %q", s)
	}
	if got := testing.AllocsPerRun(50, func() {
		a.Reset()
		for range 100 {
			f := a.New(4)
			f.SetText("ip4", a.Text("192.0.2.1"))
			f.SetList("matches", f.OneList(a.Append("x ", "y")))
		}
	}); got != 0 {
		t.Errorf("a batch after the first costs %v allocations", got)
	}
	// Text too long for a chunk's share comes from the heap.
	long := strings.Repeat("x", textChunk)
	if l := a.Text(long); l != long || unsafe.StringData(l) == unsafe.StringData(long) {
		t.Error("long text not copied")
	}
	var nilArena *Arena
	if h := nilArena.New(2); h == nil || h.Len() != 0 {
		t.Error("a nil arena's set is not an empty heap set")
	}
}

// Own copies a set out of an arena: reusing the arena changes nothing in
// the copy, and the copy equals the set it was made from.
func TestOwnSharesNoMemory(t *testing.T) {
	var a Arena
	line := a.Text("Nov 23 host sshd[1]: Failed password for root from 192.0.2.7 port 22")
	f := a.New(6)
	f.SetText("user", line[41:45])
	f.SetText("ip4", line[51:60])
	f.Set("ip6", nil)
	f.Set("count", 2)
	f.SetList("matches", f.OneList(line))
	f.SetList("users", []string{"root", line[41:45]})
	f.Set("empty", []string{})
	want := f.String()
	o := f.Own()
	if o.String() != want || !slices.Equal(keysOf(o), keysOf(f)) {
		t.Fatalf("Own: %v, want %v", o, want)
	}
	a.Reset()
	a.Text(strings.Repeat("#", len(line)))
	if o.String() != want {
		t.Errorf("the copy changed with the arena: %v, want %v", o, want)
	}
	if o.Str("user") != "root" || o.Strings("matches")[0][:3] != "Nov" || o.Get("count") != 2 || !o.Has("ip6") {
		t.Errorf("Own lost values: %v", o)
	}
	var none *Set
	if none.Own() != nil {
		t.Error("Own of nil is not nil")
	}
}

func keysOf(f *Set) []string {
	var ks []string
	for k := range f.All() {
		ks = append(ks, k)
	}
	return ks
}
