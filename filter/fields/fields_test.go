package fields

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestSetActsAsADict(t *testing.T) {
	f := New(2)
	f.SetText("user", "root")
	f.Set("ip6", nil)
	f.Set("matches", []string{"a"})
	f.Set("nofail", 1)
	f.Set("user", "admin") // replaces, keeps its place
	if got := f.Len(); got != 4 {
		t.Fatalf("Len %d, want 4", got)
	}
	if v, ok := f.Lookup("ip6"); !ok || v != nil {
		t.Errorf("ip6: %v %v, want None present", v, ok)
	}
	if f.Has("ip4") || f.Get("ip4") != nil {
		t.Error("ip4 is absent")
	}
	if s, ok := f.Text("user"); !ok || s != "admin" {
		t.Errorf("user %q %v", s, ok)
	}
	if _, ok := f.Text("nofail"); ok {
		t.Error("nofail is no text")
	}
	if got := f.Strings("matches"); len(got) != 1 || got[0] != "a" {
		t.Errorf("matches %v", got)
	}
	for k, want := range map[string]bool{"user": true, "ip6": false, "matches": true, "nofail": true, "none": false} {
		if f.Truthy(k) != want {
			t.Errorf("Truthy(%s) = %v", k, !want)
		}
	}
	var keys []string
	for k := range f.All() {
		keys = append(keys, k)
	}
	if want := []string{"user", "ip6", "matches", "nofail"}; !slices.Equal(keys, want) {
		t.Errorf("order %v, want %v", keys, want)
	}
	c := f.Clone()
	f.Delete("ip6")
	f.Delete("absent")
	if f.Has("ip6") || f.Len() != 3 || !c.Has("ip6") || c.Len() != 4 {
		t.Errorf("Delete: %v, clone %v", f.Map(), c.Map())
	}
	if m := c.Map(); !reflect.DeepEqual(m, map[string]any{"user": "admin", "ip6": nil, "matches": []string{"a"}, "nofail": 1}) {
		t.Errorf("Map %v", m)
	}
	if Of(map[string]any{"user": "x"}).Str("user") != "x" {
		t.Error("Of keeps text as text")
	}
}

func TestNilSetIsEmpty(t *testing.T) {
	var f *Set
	if f.Len() != 0 || f.Has("x") || f.Get("x") != nil || f.Str("x") != "" || f.Truthy("x") || f.Map() != nil || f.Clone() != nil {
		t.Error("a nil set has fields")
	}
	for range f.All() {
		t.Error("a nil set yields fields")
	}
}

func TestStringIgnoresOrder(t *testing.T) {
	a, b := New(2), New(2)
	a.SetText("user", "x")
	a.Set("ip6", nil)
	b.Set("ip6", nil)
	b.SetText("user", "x")
	if a.String() != b.String() || a.String() != "map[ip6:<nil> user:x]" {
		t.Errorf("%s vs %s", a, b)
	}
}

// Random sets, deletes, copies and updates over keys whose bits collide
// (and keys never set) leave a Set answering as a map does.
func TestSetAgreesWithMap(t *testing.T) {
	keys := []string{"user", "ip4", "ip6", "dns", "fid", "mlfid", "matches", "nofail", "mlfgained", "a", "b", "", "x_user", "y_user", "zz", "aah", "eaaz"}
	collide := map[uint64]int{}
	for _, k := range keys {
		collide[keyBit(k)]++
	}
	if len(collide) == len(keys) {
		t.Fatal("no two keys share a bit: the test must cover collisions")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		f, want := New(r.IntN(4)), map[string]any{}
		for range 40 {
			k, k2 := keys[r.IntN(len(keys))], keys[r.IntN(len(keys))]
			switch r.IntN(6) {
			case 0:
				f.SetText(k, k2)
				want[k] = k2
			case 1:
				v := []any{0, 2, nil, true, [2]string{k, k2}}[r.IntN(5)]
				f.Set(k, v)
				want[k] = v
			case 2:
				f.Delete(k)
				delete(want, k)
			case 3:
				f.Copy(k, k2)
				want[k] = want[k2]
			case 5:
				l := [][]string{nil, {}, {k2}, {k, k2, "x"}}[r.IntN(4)]
				f.SetList(k, l)
				want[k] = l
			case 4:
				// None does not replace; text, lists and other values do.
				src, v := New(1), []any{"u", []string{"l"}, 7}[r.IntN(3)]
				src.Set(k2, v)
				src.Set(k, nil)
				f.Update(src)
				if k != k2 {
					want[k2] = v
				}
			}
			for _, k := range keys {
				v, ok := f.Lookup(k)
				w, wok := want[k]
				if ok != wok || !reflect.DeepEqual(v, w) {
					t.Fatalf("round %d: %q is %v, %v; want %v, %v", round, k, v, ok, w, wok)
				}
				if f.Truthy(k) != Truthy(w) || f.Has(k) != wok {
					t.Fatalf("round %d: %q truthy %v, has %v; want %v (%v)", round, k, f.Truthy(k), f.Has(k), w, wok)
				}
				if s, isText := w.(string); f.Str(k) != s || func() bool { _, ok := f.Text(k); return ok }() != isText {
					t.Fatalf("round %d: %q text %q, want %v", round, k, f.Str(k), w)
				}
				if l, _ := w.([]string); !slices.Equal(f.Strings(k), l) {
					t.Fatalf("round %d: %q list %q, want %v", round, k, f.Strings(k), w)
				}
			}
			if c := f.Clone(); !reflect.DeepEqual(c.Map(), want) && len(want) > 0 {
				t.Fatalf("round %d: clone %v, want %v", round, c.Map(), want)
			}
		}
	}
}

// Lists are kept without boxing: setting "matches" allocates nothing, and
// reads give the list back, nil and empty lists as they were.
func TestSetListKeepsLists(t *testing.T) {
	f := New(4)
	l := []string{"a line", "another"}
	if n := testing.AllocsPerRun(100, func() { f.SetList("matches", l) }); n != 0 {
		t.Errorf("SetList allocates %v times", n)
	}
	if got := f.Strings("matches"); !slices.Equal(got, l) || &got[0] != &l[0] {
		t.Errorf("Strings = %q, want %q shared", got, l)
	}
	if !f.Truthy("matches") || !reflect.DeepEqual(f.Get("matches"), l) {
		t.Errorf("list field reads as %#v", f.Get("matches"))
	}
	f.SetList("users", []string{})
	f.SetList("none", nil)
	if f.Truthy("users") || f.Get("users") == nil || f.Get("users").([]string) == nil {
		t.Errorf("empty list reads as %#v", f.Get("users"))
	}
	if v, ok := f.Lookup("none"); !ok || v.([]string) != nil {
		t.Errorf("nil list reads as %#v, %v", v, ok)
	}
}

// A new set's first two one-item lists come with its allocation, and no
// list grows into another's room.
func TestOneListSharesNoRoom(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() {
		f := New(4)
		f.SetList("users", f.OneList("root"))
		f.SetList("matches", f.OneList("a line"))
	}); n != 1 {
		t.Errorf("a set and two lists take %v allocations, want 1", n)
	}
	f := New(4)
	a, b, c := f.OneList("a"), f.OneList("b"), f.OneList("c")
	a2 := append(a, "a2")
	b2 := append(b, "b2")
	if !slices.Equal(a, []string{"a"}) || !slices.Equal(b, []string{"b"}) || !slices.Equal(c, []string{"c"}) ||
		!slices.Equal(a2, []string{"a", "a2"}) || !slices.Equal(b2, []string{"b", "b2"}) {
		t.Errorf("lists %q %q %q, grown %q %q", a, b, c, a2, b2)
	}
	if l := f.Clone().OneList("d"); !slices.Equal(l, []string{"d"}) || !slices.Equal(c, []string{"c"}) {
		t.Errorf("clone's list %q, c %q", l, c)
	}
	var none *Set
	if l := none.OneList("x"); !slices.Equal(l, []string{"x"}) {
		t.Errorf("nil set's list %q", l)
	}
}

// A set built on a layout, from the heap or an arena, is the set that
// setting each key in turn makes: same fields in the same order, same
// lookups, and it grows as one.
func TestLayoutBuildsAsSets(t *testing.T) {
	keys := []string{"mlfid", "user", "ip4", "ip6", "dns", "fid", "a", "b", "c"}
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		ks := slices.Clone(keys)
		r.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
		ks = ks[:r.IntN(len(ks)+1)]
		vals := make([]string, len(ks))
		oks := make([]bool, len(ks))
		for i := range ks {
			vals[i], oks[i] = fmt.Sprint("v", r.IntN(3)), r.IntN(3) > 0
		}
		room := r.IntN(12)
		var a *Arena // every other round, the set comes from an arena
		if round%2 == 1 {
			a = new(Arena)
		}
		got := NewLayout(ks).Build(a, room, func(i int) (string, bool) { return vals[i], oks[i] })
		want := New(room)
		for i, k := range ks {
			if oks[i] {
				want.SetText(k, vals[i])
			} else {
				want.Set(k, nil)
			}
		}
		for _, f := range []*Set{got, want} {
			f.SetList("matches", f.OneList("line"))
			f.SetText("user", "later")
		}
		var g, w []string
		for k, v := range got.All() {
			g = append(g, fmt.Sprint(k, "=", v))
		}
		for k, v := range want.All() {
			w = append(w, fmt.Sprint(k, "=", v))
		}
		if !slices.Equal(g, w) {
			t.Fatalf("round %d: built %v, set %v", round, g, w)
		}
		for _, k := range append(keys, "matches", "nofail") {
			if got.Has(k) != want.Has(k) || got.Truthy(k) != want.Truthy(k) {
				t.Fatalf("round %d: %q differs", round, k)
			}
		}
	}
}
