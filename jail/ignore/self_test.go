package ignore

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newSelfInNetns creates a network namespace and a Self reading it.
func newSelfInNetns(t *testing.T) (*Self, string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2")
	}
	name := fmt.Sprintf("f2bx-self-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	type result struct {
		s   *Self
		err error
	}
	ch := make(chan result)
	go func() {
		// This thread enters the namespace and is never used again.
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		if err != nil {
			ch <- result{nil, err}
			return
		}
		s, err := NewSelf()
		ch <- result{s, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.s.Close() })
	return r.s, name
}

func TestSelfFollowsAddressChanges(t *testing.T) {
	s, ns := newSelfInNetns(t)
	added := netip.MustParseAddr("10.77.0.1")
	if s.Contains(added) || !s.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Fatalf("fresh namespace: %v", s.Addrs())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Watch(ctx, nil); close(done) }()
	defer func() { cancel(); <-done }()
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"addr", "add", "10.77.0.1/32", "dev", "lo"}, {"addr", "add", "2001:db8:77::1/128", "dev", "lo"}} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(s.Contains(added) && s.Contains(netip.MustParseAddr("2001:db8:77::1"))) {
		if time.Now().After(deadline) {
			t.Fatalf("address change not seen: %v", s.Addrs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	exec.Command("ip", "-n", ns, "addr", "del", "10.77.0.1/32", "dev", "lo").Run()
	for s.Contains(added) {
		if time.Now().After(deadline) {
			t.Fatal("address removal not seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
