package xdp

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/internal/netns"
)

// TestEnforcedOnVeth bans sources of real UDP traffic on a veth pair in
// namespaces, restarts the loader (bans must keep dropping and be adopted),
// unbans, and flushes.
func TestEnforcedOnVeth(t *testing.T) {
	lab := netns.TestLab(t, "f2bx-xdp")
	srcs := netns.Sources(20, 6)
	if err := lab.AddSources(srcs); err != nil {
		t.Fatal(err)
	}
	const per = 20
	send := func(what string) map[netip.Addr]int {
		t.Helper()
		got, err := lab.Send(srcs, per, 300*time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return got
	}
	for a, n := range send("before") {
		if n != per {
			t.Fatalf("before any ban %v: %d of %d delivered", a, n, per)
		}
	}

	pin := fmt.Sprintf("/sys/fs/bpf/f2bx-test-%d", os.Getpid())
	defer FlushPinned(pin)
	b, err := Open(Options{PinDir: pin})
	if err != nil {
		t.Fatal(err)
	}
	var modes map[string]string
	if err := lab.Dut.Do(func() error { modes, err = b.Attach([]string{lab.DutIf}, ModeAuto); return err }); err != nil {
		t.Fatal(err)
	}
	if modes[lab.DutIf] != ModeNative {
		t.Errorf("mode %q, want native on veth", modes[lab.DutIf])
	}
	if !attached(lab) {
		t.Error("ip link shows no XDP program after Attach")
	}
	banned := map[netip.Addr]bool{}
	var bans []Ban
	for i, a := range srcs {
		if i%2 == 0 {
			banned[a] = true
			bans = append(bans, Ban{Prefix: netip.PrefixFrom(a, a.BitLen()), End: time.Now().Add(time.Hour)})
		}
	}
	if err := b.Ban("test", bans, time.Now()); err != nil {
		t.Fatal(err)
	}
	check := func(what string, wantBanned map[netip.Addr]bool) {
		t.Helper()
		got := send(what)
		for _, a := range srcs {
			want := per
			if wantBanned[a] {
				want = 0
			}
			if got[a] != want {
				t.Errorf("%s: %v got %d datagrams through, want %d", what, a, got[a], want)
			}
		}
	}
	check("banned", banned)
	for _, bn := range bans {
		c, ok, err := b.Counters(bn.Prefix, time.Now())
		if err != nil || !ok || c.Packets != per {
			t.Errorf("counters of %v: %+v %v %v, want %d packets", bn.Prefix, c, ok, err, per)
		}
	}

	// A daemon that stops (or dies) leaves the bans dropping.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	check("no daemon", banned)

	// The next one adopts the pinned maps and link.
	b, err = Open(Options{PinDir: pin})
	if err != nil {
		t.Fatal(err)
	}
	if n := b.Adopted(); n != len(bans) {
		t.Errorf("adopted %d bans, want %d", n, len(bans))
	}
	if err := lab.Dut.Do(func() error { modes, err = b.Attach([]string{lab.DutIf}, ModeAuto); return err }); err != nil {
		t.Fatal(err)
	}
	if modes[lab.DutIf] != "adopted" {
		t.Errorf("mode %q, want the pinned link adopted", modes[lab.DutIf])
	}
	// The jail restores all but one ban; Prune drops the unclaimed one.
	if err := b.Ban("test", bans[1:], time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Prune(); err != nil || n != 1 {
		t.Errorf("pruned %d (%v), want 1", n, err)
	}
	delete(banned, bans[0].Prefix.Addr())
	check("adopted", banned)
	if c, _, _ := b.Counters(bans[1].Prefix, time.Now()); c.Packets != 3*per {
		t.Errorf("counters after adoption: %d packets, want %d (kept)", c.Packets, 3*per)
	}

	var unban []netip.Prefix
	for _, bn := range bans {
		unban = append(unban, bn.Prefix)
	}
	if err := b.Unban("test", unban); err != nil {
		t.Fatal(err)
	}
	check("unbanned", nil)

	if err := b.Ban("test", bans, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pin); !os.IsNotExist(err) {
		t.Errorf("pin dir still there after flush: %v", err)
	}
	if attached(lab) {
		t.Error("program still attached after flush")
	}
	check("flushed", nil)
}

func attached(lab *netns.Lab) bool {
	out, _ := exec.Command("ip", "-n", lab.Dut.Name, "link", "show", lab.DutIf).CombinedOutput()
	return strings.Contains(string(out), "prog/xdp")
}
