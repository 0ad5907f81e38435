// Package e2e runs the real f2bx binary as a sysadmin would: a daemon on a
// temporary configuration, log folder, database and socket, driven through
// its CLI and fail2ban-client's syntax.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "f2bx-e2e-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "f2bx")
	build := exec.Command("go", "build", "-o", bin, "github.com/f2bx/f2bx/cmd/f2bx")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build f2bx: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's folder: configuration, logs, database, socket.
type env struct {
	t    *testing.T
	dir  string
	sock string
	log  string // the followed log file
	acts string // what the record action writes
	proc *exec.Cmd
	done chan error
}

// jail writes a native jail on the sshd filter that follows logfile and
// records its bans in acts.
func jailTOML(name, logfile, acts string, extra string) string {
	return fmt.Sprintf(`[%s]
enabled = true
filter = "sshd"
logpath = [%q]
maxretry = 3
findtime = "10m"
bantime = "1h"
ignoreself = false
ignoreip = []
%s
[[%s.actions]]
name = "record"
options = { actionban = "echo ban <ip> >> %s", actionunban = "echo unban <ip> >> %s" }
`, name, logfile, extra, name, acts, acts)
}

func newEnv(t *testing.T, jails ...string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, sock: filepath.Join(dir, "run", "f2bx.sock"), log: filepath.Join(dir, "auth.log"), acts: filepath.Join(dir, "actions")}
	if err := os.MkdirAll(filepath.Join(dir, "conf", "jails.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if len(jails) == 0 {
		jails = []string{jailTOML("sshd", e.log, e.acts, "")}
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "jails.d", "test.toml"), []byte(strings.Join(jails, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// start runs "f2bx start -f" and waits until it answers.
func (e *env) start(extra ...string) {
	e.t.Helper()
	args := append([]string{"start", "-f", "-c", filepath.Join(e.dir, "conf"), "-s", e.sock, "-p", filepath.Join(e.dir, "run", "f2bx.pid"),
		"--db", filepath.Join(e.dir, "f2bx.db"), "--logtarget", filepath.Join(e.dir, "f2bx.log"), "--loglevel", "DEBUG", "--pin-dir", "none"}, extra...)
	e.startArgs(nil, args...)
}

func (e *env) startArgs(prefix []string, args ...string) {
	e.t.Helper()
	if prefix != nil {
		e.proc = exec.Command(prefix[0], append(append(prefix[1:], bin), args...)...)
	} else {
		e.proc = exec.Command(bin, args...)
	}
	var stderr bytes.Buffer
	e.proc.Stderr = &stderr
	if err := e.proc.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.done = make(chan error, 1)
	go func(p *exec.Cmd) { e.done <- p.Wait() }(e.proc)
	e.t.Cleanup(func() { e.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out, code := e.cli("ping"); code == 0 && strings.Contains(out, "pong") {
			return
		}
		select {
		case err := <-e.done:
			e.done <- err
			e.t.Fatalf("daemon exited while starting: %v\n%s\n%s", err, stderr.String(), e.daemonLog())
		case <-time.After(20 * time.Millisecond):
		}
	}
	e.t.Fatalf("daemon did not answer\n%s", e.daemonLog())
}

func (e *env) daemonLog() string {
	b, _ := os.ReadFile(filepath.Join(e.dir, "f2bx.log"))
	return string(b)
}

// kill ends the daemon this test started, if it still runs.
func (e *env) kill() {
	if e.proc == nil || e.proc.ProcessState != nil {
		return
	}
	select {
	case err := <-e.done:
		e.done <- err
		return
	default:
	}
	_ = e.proc.Process.Signal(syscall.SIGKILL)
	<-e.done
}

// stop stops the daemon with "f2bx stop" and waits for its exit.
func (e *env) stop() {
	e.t.Helper()
	if out, code := e.cli("stop"); code != 0 || !strings.Contains(out, "Shutdown successful") {
		e.t.Fatalf("stop: %d %s", code, out)
	}
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Fatalf("daemon exited with %v\n%s", err, e.daemonLog())
		}
		e.done <- nil
	case <-time.After(30 * time.Second):
		e.t.Fatal("daemon did not exit after stop")
	}
}

// cli runs "f2bx ARGS -s SOCK" (or, for "client", the fail2ban syntax).
func (e *env) cli(args ...string) (string, int) {
	var full []string
	if len(args) > 0 && args[0] == "client" {
		full = append([]string{"client", "-s", e.sock}, args[1:]...)
	} else {
		full = append(append([]string{}, args...), "-s", e.sock)
	}
	cmd := exec.Command(bin, full...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return string(out), code
}

// fail appends sshd failure lines of ip, dated now.
func (e *env) fail(path, ip string, n int) {
	e.t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	for range n {
		fmt.Fprintf(f, "%s host sshd[42]: Failed password for root from %s port 22 ssh2\n", time.Now().Format("Jan _2 15:04:05"), ip)
	}
}

// eventually retries check until it returns "" or the time is up.
func eventually(t *testing.T, limit time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	msg := ""
	for time.Now().Before(deadline) {
		if msg = check(); msg == "" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(msg)
}

func (e *env) actions() string {
	b, _ := os.ReadFile(e.acts)
	return string(b)
}

func (e *env) waitStatus(jail, want string) {
	e.t.Helper()
	eventually(e.t, 10*time.Second, func() string {
		out, _ := e.cli("status", jail)
		if strings.Contains(out, want) {
			return ""
		}
		return fmt.Sprintf("status %s: want %q in\n%s\nlog:\n%s", jail, want, out, e.daemonLog())
	})
}
