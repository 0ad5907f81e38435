package filter

import (
	"fmt"
	"math/rand/v2"
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

// Random sets, gets, unsets and expiries leave the cache as a model of
// its rules (a list in insertion order) says: its index finds every
// entry, and no other.
func TestMLFIDCacheAgreesWithModel(t *testing.T) {
	now := time.Unix(1000, 0)
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 50 {
		max := 1 + r.IntN(12)
		c := newMLFIDCache(max, func() time.Time { return now })
		type entry struct {
			k       string
			expires time.Time
		}
		var model []entry // oldest first
		index := func(k string) int {
			return slices.IndexFunc(model, func(e entry) bool { return e.k == k })
		}
		for step := range 400 {
			k := fmt.Sprint("host sshd[", r.IntN(3*max), "]: ")
			switch r.IntN(5) {
			case 0, 1:
				if len(model) >= max {
					for len(model) > 0 {
						alive := model[0].expires.After(now)
						model = model[1:]
						if alive && len(model) < max {
							break
						}
					}
				}
				if i := index(k); i >= 0 {
					model[i].expires = now.Add(5 * time.Minute)
				} else {
					model = append(model, entry{k, now.Add(5 * time.Minute)})
				}
				c.set(k, fields.New(0))
			case 2:
				got := c.get(k) != nil
				i := index(k)
				want := i >= 0 && model[i].expires.After(now)
				if i >= 0 && !want {
					model = slices.Delete(model, i, i+1)
				}
				if got != want {
					t.Fatalf("round %d step %d: get(%q) %v, want %v", round, step, k, got, want)
				}
			case 3:
				if i := index(k); i >= 0 {
					model = slices.Delete(model, i, i+1)
				}
				c.unset(k)
			case 4:
				now = now.Add(time.Duration(r.IntN(90)) * time.Second)
			}
			var want []string
			for _, e := range model {
				want = append(want, e.k)
			}
			if got := c.keys(); !slices.Equal(got, want) || len(c.items) != len(want) {
				t.Fatalf("round %d step %d: keys %q (%d indexed), want %q", round, step, got, len(c.items), want)
			}
			for _, e := range model {
				if _, ok := c.items[e.k]; !ok {
					t.Fatalf("round %d step %d: %q not in the index", round, step, e.k)
				}
			}
		}
	}
}
