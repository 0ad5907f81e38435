// Package filters tests the filters f2bx ships (filters.d/*.toml) against
// their annotated sample logs (tests/filters/logs/NAME), written for f2bx.
package filters

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/tests/samples"
)

// TestShippedFilters requires a sample log for every shipped filter, every
// annotation to pass, and every failregex to have a sample.
func TestShippedFilters(t *testing.T) {
	names, err := fs.Glob(f2bx.Defaults, "filters.d/*.toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no shipped filters: %v", err)
	}
	layers := []native.Layer{{Name: "embedded", FS: f2bx.Defaults}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "filters.d/"), ".toml")
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat("logs/" + name); err != nil {
				t.Fatalf("no sample log tests/filters/logs/%s", name)
			}
			r := samples.Run(t, "logs", name, func(params [][2]string) (config.Filter, error) {
				spec := name
				if len(params) > 0 {
					var kv []string
					for _, p := range params {
						kv = append(kv, p[0]+"="+p[1])
					}
					spec += "[" + strings.Join(kv, ", ") + "]"
				}
				return native.LoadFilter(layers, spec)
			})
			for _, f := range r.Failures {
				t.Error(f)
			}
			if r.Pass < 10 {
				t.Errorf("only %d annotations passed", r.Pass)
			}
			t.Logf("%d annotations pass", r.Pass)
		})
	}
}

// Every regex of the shipped filters runs on RE2: linear time whatever an
// attacker writes into a log line.
func TestShippedFiltersAreLinear(t *testing.T) {
	layers := []native.Layer{{Name: "embedded", FS: f2bx.Defaults}}
	names, _ := fs.Glob(f2bx.Defaults, "filters.d/*.toml")
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "filters.d/"), ".toml")
		c, err := native.LoadFilter(layers, name+"[mode=aggressive]")
		if err != nil {
			c, err = native.LoadFilter(layers, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		f, err := filter.New(c, filter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(append(f.Fail, f.Ignore...), f.Pref) {
			if r != nil && r.Engine != filter.EngineRE2 {
				t.Errorf("%s: %q runs on %s: %s", name, r.Source, r.Engine, r.Why)
			}
		}
	}
}
