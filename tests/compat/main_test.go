// Package compat holds the differential tests that run f2bx and fail2ban
// itself (Debian's package, extracted at test time) on the same input and
// require the same output.
package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/f2bx/f2bx/filter"
)

// f2bxBin is the f2bx binary built for these tests.
var f2bxBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "f2bx-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f2bxBin = filepath.Join(dir, "f2bx")
	args := []string{"build", "-o", f2bxBin}
	if filter.HyperscanAvailable {
		// Test the binary with the engine these tests were built with.
		args = append(args, "-tags", "hyperscan hyperscan_v54")
	}
	build := exec.Command("go", append(args, "github.com/f2bx/f2bx/cmd/f2bx")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building f2bx:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs a command and returns its standard output, failing the test
// when it exits non-zero.
func run(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr)
	}
	return string(out)
}

// copyDir copies a directory tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeFiles writes name → content below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firstDiff returns the index of the first line where want and got differ
// (a missing line reads as ""), and the two lines; -1 when they are equal.
func firstDiff(want, got []string) (int, string, string) {
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return i, w, g
		}
	}
	return -1, "", ""
}
