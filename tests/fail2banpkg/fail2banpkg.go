// Package fail2banpkg gives tests Debian's fail2ban package, the oracle for
// "exactly as fail2ban": it is downloaded with apt-get and extracted with
// dpkg-deb into the repository's git-ignored .cache folder, never installed
// and never started as a service. fail2ban is GPL; nothing of it is
// committed.
package fail2banpkg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// SkipEnv, when set to 1, skips the tests that need the package (for a
// machine without apt); CI never sets it.
const SkipEnv = "F2BX_SKIP_FAIL2BAN"

// Package is an extracted fail2ban package.
type Package struct {
	// Root is the extraction root (holding etc/ and usr/).
	Root string
}

// ConfDir is the package's /etc/fail2ban.
func (p *Package) ConfDir() string { return filepath.Join(p.Root, "etc", "fail2ban") }

// PythonPath is the folder holding the fail2ban Python package.
func (p *Package) PythonPath() string {
	return filepath.Join(p.Root, "usr", "lib", "python3", "dist-packages")
}

// Command returns a command running one of the package's programs
// (fail2ban-client, fail2ban-regex, ...) with python3.
func (p *Package) Command(program string, args ...string) *exec.Cmd {
	return p.python(append([]string{filepath.Join(p.Root, "usr", "bin", program)}, args...)...)
}

// Script returns a command running a Python script (python3 -c) that can
// import the package's fail2ban modules.
func (p *Package) Script(script string, args ...string) *exec.Cmd {
	return p.python(append([]string{"-c", script}, args...)...)
}

func (p *Package) python(args ...string) *exec.Cmd {
	cmd := exec.Command(Python(), args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+p.PythonPath(), "PYTHONDONTWRITEBYTECODE=1")
	return cmd
}

// Python returns the python3 to run fail2ban with.
func Python() string {
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	return "/usr/bin/python3"
}

// Get returns the extracted package, downloading it on first use. It
// fails the test when that is impossible, unless SkipEnv is set.
func Get(t testing.TB) *Package {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: skipping a test that needs Debian's fail2ban package", SkipEnv)
	}
	p, err := Fetch()
	if err != nil {
		t.Fatalf("fail2ban package: %v (set %s=1 to skip on a machine without apt)", err, SkipEnv)
	}
	return p
}

// Fetch returns the extracted package, downloading it on first use (for
// tools such as the flood bench; tests use Get).
func Fetch() (*Package, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(root, ".cache", "fail2ban")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	// Test binaries of several packages run at once: one downloads.
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	pkg := &Package{Root: filepath.Join(cache, "root")}
	if _, err := os.Stat(filepath.Join(pkg.Root, ".complete")); err == nil {
		return pkg, nil
	}
	debs, _ := filepath.Glob(filepath.Join(cache, "fail2ban_*.deb"))
	if len(debs) == 0 {
		cmd := exec.Command("apt-get", "download", "fail2ban")
		cmd.Dir = cache
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("apt-get download fail2ban: %v: %s", err, strings.TrimSpace(string(out)))
		}
		if debs, _ = filepath.Glob(filepath.Join(cache, "fail2ban_*.deb")); len(debs) == 0 {
			return nil, fmt.Errorf("apt-get download fail2ban left no .deb in %s", cache)
		}
	}
	os.RemoveAll(pkg.Root)
	if out, err := exec.Command("dpkg-deb", "-x", debs[0], pkg.Root).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dpkg-deb -x: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(pkg.Root, ".complete"), []byte(debs[0]+"\n"), 0o644); err != nil {
		return nil, err
	}
	return pkg, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
