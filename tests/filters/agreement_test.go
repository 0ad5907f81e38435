package filters

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
	"github.com/f2bx/f2bx/tests/samples"
)

// targetAgreement is the share of fail2ban's annotations that must pass
// against f2bx's own filter of the same service (issue 8).
const targetAgreement = 0.95

// floors are the agreements reached so far by filters still below the
// target: they may only rise. Every shipped filter has reached the target.
var floors = map[string]float64{}

// TestAgreementWithFail2ban runs fail2ban's annotated sample logs (from
// Debian's package, fetched at test time) against f2bx's own filters of
// the same name and prints the agreement per service. fail2ban's
// requirement that each of its failregexes has a sample does not apply:
// the regexes are ours. Differences are documented in
// docs/compatibility.md.
func TestAgreementWithFail2ban(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	logs := filepath.Join(pkg.PythonPath(), "fail2ban", "tests", "files", "logs")
	layers := []native.Layer{{Name: "embedded", FS: f2bx.Defaults}}
	names, _ := fs.Glob(f2bx.Defaults, "filters.d/*.toml")
	compared := 0
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "filters.d/"), ".toml")
		if _, err := os.Stat(filepath.Join(logs, name)); err != nil {
			continue // a service fail2ban has no samples for
		}
		compared++
		t.Run(name, func(t *testing.T) {
			r := samples.Run(t, logs, name, func(params [][2]string) (config.Filter, error) {
				spec := name
				var kv []string
				for _, p := range params {
					if p[0] == "mode" {
						kv = append(kv, p[0]+"="+p[1])
					}
				}
				if len(kv) > 0 {
					spec += "[" + strings.Join(kv, ", ") + "]"
				}
				return native.LoadFilter(layers, spec)
			})
			fail := r.Fail - len(r.Uncovered)
			total := r.Pass + fail
			if total == 0 {
				t.Fatal("no annotations compared")
			}
			rate := float64(r.Pass) / float64(total)
			t.Logf("%s: %d of %d fail2ban annotations pass (%.1f %%)", name, r.Pass, total, 100*rate)
			uncovered := map[string]bool{}
			for _, u := range r.Uncovered {
				uncovered[u] = true
			}
			for _, f := range r.Failures {
				if !uncovered[f] {
					t.Log("differs: " + f)
				}
			}
			floor, ok := floors[name]
			if !ok {
				floor = targetAgreement
			}
			if rate < floor {
				t.Errorf("%s: agreement %.1f %% < %.0f %%", name, 100*rate, 100*floor)
			}
			if ok && rate >= targetAgreement {
				t.Errorf("%s: agreement %.1f %% reaches the target: remove its floor", name, 100*rate)
			}
		})
	}
	if compared == 0 {
		t.Fatal("no shipped filter has fail2ban samples")
	}
}
