package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
	"github.com/f2bx/f2bx/tests/samples"
)

// minSamplePassRate is the share of annotations that must pass.
const minSamplePassRate = 0.99

// sampleResult counts annotations.
type sampleResult struct{ pass, fail int }

// TestFail2banSamples runs every annotated sample log of fail2ban's package
// against the same-named filter of the same package, checking each
// "# failJSON:" annotation (match, host, time, user(s), attempts and any
// other field) as fail2ban's own sample test does.
func TestFail2banSamples(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	logs := filepath.Join(pkg.PythonPath(), "fail2ban", "tests", "files", "logs")
	testConf := filepath.Join(pkg.PythonPath(), "fail2ban", "tests", "config")
	// fail2ban's own test filters include common.conf through a link of its
	// source tree that the package does not ship: give them the package's.
	zzz := filepath.Join(t.TempDir(), "zzz")
	ents, _ := os.ReadDir(filepath.Join(testConf, "filter.d"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "zzz-") {
			data, _ := os.ReadFile(filepath.Join(testConf, "filter.d", e.Name()))
			data = regexp.MustCompile(`(?m)^before = .*/common\.conf$`).ReplaceAll(data, []byte("before = common.conf"))
			writeFiles(t, zzz, map[string]string{"filter.d/" + e.Name(): string(data)})
		}
	}
	common, _ := os.ReadFile(filepath.Join(pkg.ConfDir(), "filter.d", "common.conf"))
	writeFiles(t, zzz, map[string]string{"filter.d/common.conf": string(common)})
	testConf = zzz
	var names []string
	for _, dir := range []string{pkg.ConfDir(), testConf} {
		ents, _ := os.ReadDir(filepath.Join(dir, "filter.d"))
		for _, e := range ents {
			n := strings.TrimSuffix(e.Name(), ".conf")
			if !strings.HasSuffix(e.Name(), ".conf") || n == "common" || (dir == testConf && !strings.HasPrefix(n, "zzz-")) {
				continue
			}
			if _, err := os.Stat(filepath.Join(logs, n)); err == nil {
				names = append(names, dir+"|"+n)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool { return strings.Split(names[i], "|")[1] < strings.Split(names[j], "|")[1] })
	var total sampleResult
	var report []string
	for _, dn := range names {
		dir, name, _ := strings.Cut(dn, "|")
		r := samples.Run(t, logs, name, func(params [][2]string) (config.Filter, error) {
			c, _, err := config.Fail2banFilter(dir, name, params)
			return c, err
		})
		total.pass += r.Pass
		total.fail += r.Fail
		report = append(report, fmt.Sprintf("%-28s %4d/%-4d", name, r.Pass, r.Pass+r.Fail))
		for _, f := range r.Failures {
			t.Logf("%s: %s", name, f)
		}
	}
	t.Logf("per filter (passed/annotations):\n%s", strings.Join(report, "\n"))
	n := total.pass + total.fail
	rate := float64(total.pass) / float64(n)
	t.Logf("fail2ban sample annotations: %d of %d pass (%.2f%%) over %d filters", total.pass, n, 100*rate, len(names))
	if n < 1000 {
		t.Errorf("only %d annotations found", n)
	}
	if rate < minSamplePassRate {
		t.Errorf("pass rate %.2f%% is below %.0f%%", 100*rate, 100*minSamplePassRate)
	}
}
