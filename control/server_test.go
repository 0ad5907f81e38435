package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A child process run as another user calls the socket given in
// F2BX_CONTROL_CHILD and prints what it got.
func TestMain(m *testing.M) {
	if sock := os.Getenv("F2BX_CONTROL_CHILD"); sock != "" {
		r, err := Client{Socket: sock}.Call("ping")
		fmt.Printf("ok=%v value=%s err=%v\n", r.OK, r.Value, err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func serve(t *testing.T, path string, h Handler) {
	t.Helper()
	ln, err := Listen(path, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Handler: h}).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestCall(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "run", "f2bx.sock")
	serve(t, sock, func(_ context.Context, cmd []string) (any, error) {
		switch cmd[0] {
		case "ping":
			return "pong", nil
		case "status":
			return nil, UnknownJail(cmd[1])
		case "panic":
			panic("boom")
		}
		return nil, Invalid("Invalid command %q", cmd[0])
	})
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v %v, want 0600", fi.Mode(), err)
	}
	c := Client{Socket: sock}
	r, err := c.Call("ping")
	if err != nil || !r.OK || string(r.Value) != `"pong"` {
		t.Fatalf("ping: %+v %v", r, err)
	}
	r, err = c.Call("status", "nojail")
	if err != nil || r.OK || BeautifyError(r) != "Sorry but the jail 'nojail' does not exist" {
		t.Fatalf("status nojail: %+v %v", r, err)
	}
	r, err = c.Call("panic")
	if err != nil || r.OK || !strings.Contains(r.Error, "boom") {
		t.Fatalf("panic: %+v %v", r, err)
	}
	// The server keeps answering after a handler panicked.
	if r, err := c.Call("ping"); err != nil || !r.OK {
		t.Fatalf("ping after panic: %+v %v", r, err)
	}
	// A second server on the same socket is refused.
	if _, err := Listen(sock, true); !errors.Is(err, ErrRunning) {
		t.Fatalf("second listen: %v", err)
	}
}

func TestNotRunningAndStale(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "f2bx.sock")
	if _, err := (Client{Socket: sock}).Call("ping"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no socket: %v", err)
	}
	// A socket file nobody listens on: stale.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := (Client{Socket: sock}).Call("ping"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("stale socket: %v", err)
	}
	if _, err := Listen(sock, false); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("stale socket without force: %v", err)
	}
	ln, err = Listen(sock, true)
	if err != nil {
		t.Fatalf("stale socket with force: %v", err)
	}
	ln.Close()
}

// TestPeerRefused: a peer that is not root is refused by its credentials,
// even when the socket's mode would let it connect.
func TestPeerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "f2bx.sock")
	serve(t, sock, func(context.Context, []string) (any, error) { return "pong", nil })
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary's own folder is private: run a copy from dir.
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(dir, "child.test")
	if err := os.WriteFile(child, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(child, "-test.run", "^$")
	cmd.Env = append(os.Environ(), "F2BX_CONTROL_CHILD="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok=false") || !strings.Contains(string(out), "permission denied: uid 65534") {
		t.Fatalf("non-root peer was not refused: %s", out)
	}
}
