// Package netns creates network namespaces and veth pairs for tests and
// benchmarks, and runs code inside a namespace on a locked OS thread.
// Everything it creates it deletes again; it never touches the host's own
// interfaces or firewall.
package netns

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// NS is a named network namespace (as `ip netns add` makes it).
type NS struct {
	Name string
}

// Available reports why namespaces cannot be made here ("" when they can).
func Available() string {
	if os.Geteuid() != 0 {
		return "needs root for network namespaces"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "needs ip (iproute2)"
	}
	return ""
}

// New creates a namespace named prefix-PID with loopback up.
func New(prefix string) (*NS, error) {
	n := &NS{Name: fmt.Sprintf("%s-%d", prefix, os.Getpid())}
	exec.Command("ip", "netns", "del", n.Name).Run() // a leftover of a killed run
	if err := ip("netns", "add", n.Name); err != nil {
		return nil, err
	}
	if err := n.IP("link", "set", "lo", "up"); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close deletes the namespace (and the interfaces in it).
func (n *NS) Close() error { return ip("netns", "del", n.Name) }

// IP runs `ip -n NAME args...`.
func (n *NS) IP(args ...string) error { return ip(append([]string{"-n", n.Name}, args...)...) }

// Exec runs a command inside the namespace (ip netns exec).
func (n *NS) Exec(name string, args ...string) ([]byte, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s in %s: %v: %s", name, strings.Join(args, " "), n.Name, err, out)
	}
	return out, nil
}

// Do runs fn with the calling goroutine's thread inside the namespace.
// Sockets and links made in fn stay in the namespace after it returns.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + n.Name)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns %s: %w", n.Name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread cannot go back: leave it locked so that the runtime
		// ends it instead of reusing it.
		runtime.LockOSThread()
		return fmt.Errorf("setns back: %w", err)
	}
	return ferr
}

// Veth joins namespaces a and b with a veth pair: interface an in a,
// bn in b, both up.
func Veth(a *NS, an string, b *NS, bn string) error {
	tmp := fmt.Sprintf("f2bxv%d", os.Getpid()%100000)
	if err := ip("link", "add", tmp+"a", "type", "veth", "peer", "name", tmp+"b"); err != nil {
		return err
	}
	steps := [][]string{
		{"link", "set", tmp + "a", "netns", a.Name},
		{"link", "set", tmp + "b", "netns", b.Name},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			ip("link", "del", tmp+"a")
			return err
		}
	}
	for _, s := range []struct {
		ns      *NS
		tmp, to string
	}{{a, tmp + "a", an}, {b, tmp + "b", bn}} {
		if err := s.ns.IP("link", "set", s.tmp, "name", s.to); err != nil {
			return err
		}
		if err := s.ns.IP("link", "set", s.to, "up"); err != nil {
			return err
		}
	}
	return nil
}

// MAC returns an interface's hardware address in the namespace.
func (n *NS) MAC(ifname string) (string, error) {
	out, err := n.Exec("cat", "/sys/class/net/"+ifname+"/address")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
