package fields

import (
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
