package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/tests/bench/sshdlog"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// failureKey is what must agree between the two paths.
func failureKey(i int, fs []filter.Failure) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%d|%d|%s|%d|%s|%v;", i, f.Regex, f.ID, f.Time.Unix(), f.Fields.Str("user"), f.NoFail())
	}
	return b.String()
}

// compareBatch runs lines through ProcessLine on one filter and through
// ProcessLines (blocks of 100) on another, and requires the same failures.
func compareBatch(t *testing.T, name string, c config.Filter, lines []string) int {
	t.Helper()
	now := time.Now()
	opts := filter.Options{Now: func() time.Time { return now }, AcceptNoDate: true, RawHost: true}
	one, err := filter.New(c, opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	batch, _ := filter.New(c, opts)
	var want, got []string
	for i, l := range lines {
		if r := one.ProcessLine(l); len(r) > 0 {
			want = append(want, failureKey(i, r))
		}
	}
	for s := 0; s < len(lines); s += 100 {
		chunk := lines[s:min(s+100, len(lines))]
		if err := batch.ProcessLines(chunk, func(i int, r []filter.Failure) { got = append(got, failureKey(s+i, r)) }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if i, w, g := firstDiff(want, got); i >= 0 {
		t.Fatalf("%s: batch path differs at failure %d:\nline by line: %s\nbatch:        %s", name, i, w, g)
	}
	return len(want)
}

// TestBatchPathMatchesExactPath checks the prefiltered batch path against
// the line-by-line path on fail2ban's sample logs (each with its filter)
// and on generated sshd logs.
func TestBatchPathMatchesExactPath(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	logs := filepath.Join(pkg.PythonPath(), "fail2ban", "tests", "files", "logs")
	ents, _ := os.ReadDir(logs)
	total := 0
	for _, e := range ents {
		name := e.Name()
		c, _, err := config.Fail2banFilter(pkg.ConfDir(), name, nil)
		if err != nil || e.IsDir() {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(logs, name))
		var lines []string
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		total += compareBatch(t, name, c, lines)
	}
	gen := sshdlog.Generate(sshdlog.Spec{Lines: 20000, Failures: 0.3, Addresses: 500, IPv6: 0.2, Start: time.Now().Add(-time.Hour), Seed: 3})
	lines := strings.Split(strings.TrimSuffix(string(gen), "\n"), "\n")
	for _, mode := range []string{"normal", "aggressive"} {
		c, _, err := config.Fail2banFilter(pkg.ConfDir(), "sshd", [][2]string{{"mode", mode}})
		if err != nil {
			t.Fatal(err)
		}
		total += compareBatch(t, "generated sshd "+mode, c, lines)
	}
	t.Logf("batch path (hyperscan: %v) and line path agree on %d failures", filter.HyperscanAvailable, total)
}

// TestGroupMatchesExactPath runs several jails' filters over one log as a
// group (one shared scan) and requires each filter's failures to be those
// of the filter alone, line by line.
func TestGroupMatchesExactPath(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	load := func(name string, params [][2]string) config.Filter {
		c, _, err := config.Fail2banFilter(pkg.ConfDir(), name, params)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	own := func(spec string) config.Filter {
		c, err := native.LoadFilter([]native.Layer{{Name: "embedded", FS: f2bx.Defaults}}, spec)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	specs := []config.Filter{
		load("sshd", nil), load("sshd", [][2]string{{"mode", "aggressive"}}),
		own("sshd"), own("sshd[mode=aggressive]"), load("apache-auth", nil),
	}
	gen := sshdlog.Generate(sshdlog.Spec{Lines: 20000, Failures: 0.3, Addresses: 500, IPv6: 0.2, Start: time.Now().Add(-time.Hour), Seed: 11})
	lines := strings.Split(strings.TrimSuffix(string(gen), "\n"), "\n")
	now := time.Now()
	opts := filter.Options{Now: func() time.Time { return now }, AcceptNoDate: true, RawHost: true}
	var members []*filter.Filter
	want := make([][]string, len(specs))
	for k, c := range specs {
		alone, err := filter.New(c, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range lines {
			if r := alone.ProcessLine(l); len(r) > 0 {
				want[k] = append(want[k], failureKey(i, r))
			}
		}
		m, _ := filter.New(c, opts)
		members = append(members, m)
	}
	g, err := filter.NewGroup(members...)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]string, len(specs))
	for s := 0; s < len(lines); s += 256 {
		err := g.ProcessLines(lines[s:min(s+256, len(lines))], func(m, i int, r []filter.Failure) {
			got[m] = append(got[m], failureKey(s+i, r))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for k := range specs {
		if strings.Join(want[k], "\n") != strings.Join(got[k], "\n") {
			t.Errorf("filter %d: the group gives %d failure lines, alone %d", k, len(got[k]), len(want[k]))
		}
		total += len(want[k])
	}
	if total < 10000 {
		t.Errorf("only %d failure lines", total)
	}
	t.Logf("%d filters over one source: %d failure lines, as each filter alone", len(specs), total)
}
