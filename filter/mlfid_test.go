package filter

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/f2bx/f2bx/filter/fields"
)

// keys lists the cache's entries, oldest first.
func (c *mlfidCache) keys() []string {
	var out []string
	for i := c.head; i >= 0; i = c.nodes[i].next {
		out = append(out, c.nodes[i].key)
	}
	return out
}

func TestMLFIDCacheRules(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newMLFIDCache(3, func() time.Time { return now })
	set := func(k string) { c.set(k, fields.New(0)) }
	for _, k := range []string{"a", "b", "c"} {
		set(k)
	}
	set("b") // full: the oldest (a) goes first, then b updates in place
	if got := c.keys(); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("after updating b in a full cache: %v, want [b c]", got)
	}
	set("d")
	set("e") // full: b, the oldest, goes
	if got := c.keys(); !slices.Equal(got, []string{"c", "d", "e"}) {
		t.Errorf("keys %v, want [c d e]", got)
	}
	if c.get("a") != nil || c.get("b") != nil || c.get("c") == nil {
		t.Error("a and b should be gone, c kept")
	}
	// Expired entries all go when the cache is full; a fresh one stops the
	// sweep.
	c = newMLFIDCache(3, func() time.Time { return now })
	set = func(k string) { c.set(k, fields.New(0)) }
	set("old1")
	set("old2")
	now = now.Add(4 * time.Minute)
	set("new")
	now = now.Add(2 * time.Minute) // old1, old2 expired; new is not
	if c.get("old1") != nil {
		t.Error("an expired session is still there")
	}
	set("x") // 2 entries (old2, new): not full
	set("y") // full: old2 (expired) goes, then new (alive) goes and the sweep stops
	if got := c.keys(); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("keys %v, want [x y]", got)
	}
	c.unset("x")
	c.unset("absent")
	if got := c.keys(); !slices.Equal(got, []string{"y"}) || len(c.items) != 1 {
		t.Errorf("after unset: %v, %d items", got, len(c.items))
	}
	// Slots are reused: a long run of sessions keeps the list short.
	for i := range 1000 {
		set(fmt.Sprint(i))
	}
	if len(c.nodes) > 4 || len(c.items) != 3 {
		t.Errorf("%d slots for %d sessions", len(c.nodes), len(c.items))
	}
}
