// Package filters tests the filters f2bx ships (filters.d/*.toml) against
// their annotated sample logs (tests/filters/logs/NAME), written for f2bx.
package filters

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pelletier/go-toml/v2"

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

// TestShippedJails requires a jail for every shipped filter, every jail
// but sshd disabled by default, and every jail to load with its filter
// when a layer enables it.
func TestShippedJails(t *testing.T) {
	embedded := []native.Layer{{Name: "embedded", FS: f2bx.Defaults}}
	always := native.Options{Glob: func(p string) ([]string, error) { return []string{p}, nil }}
	def, err := native.Load(embedded, always)
	if err != nil {
		t.Fatal(err)
	}
	if len(def.Jails) != 1 || def.Jails[0].Name != "sshd" {
		t.Errorf("enabled by default: %v", def.Jails)
	}
	filters, _ := fs.Glob(f2bx.Defaults, "filters.d/*.toml")
	jails, _ := fs.Glob(f2bx.Defaults, "jails.d/*.toml")
	var enable strings.Builder
	used := map[string]bool{}
	for _, j := range jails {
		data, _ := fs.ReadFile(f2bx.Defaults, j)
		var tables map[string]native.JailTable
		if err := toml.Unmarshal(data, &tables); err != nil {
			t.Fatalf("%s: %v", j, err)
		}
		for name, jt := range tables {
			fmt.Fprintf(&enable, "[%q]\nenabled = true\n", name)
			if jt.Filter != nil {
				used[*jt.Filter] = true
			}
		}
	}
	for _, f := range filters {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "filters.d/"), ".toml")
		if !used[name] {
			t.Errorf("no jail uses filter %s", name)
		}
	}
	layer := native.Layer{Name: "test", FS: fstest.MapFS{"jails.d/all.toml": {Data: []byte(enable.String())}}}
	all, err := native.Load(append(embedded, layer), always)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Errors) > 0 {
		t.Fatal(all.Errors)
	}
	if len(all.Jails) < len(filters) {
		t.Errorf("%d jails for %d filters", len(all.Jails), len(filters))
	}
	for _, j := range all.Jails {
		if len(j.LogPaths) == 0 && len(j.JournalMatch) == 0 {
			t.Errorf("jail %s reads nothing", j.Name)
		}
		if _, err := filter.New(j.Filter, filter.Options{}); err != nil {
			t.Errorf("jail %s: %v", j.Name, err)
		}
	}
	t.Logf("%d jails, %d filters", len(all.Jails), len(filters))
}
