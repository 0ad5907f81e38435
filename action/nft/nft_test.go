package nft

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/f2bx/f2bx/internal/netns"
)

// TestEnforcedInNamespace bans sources of real UDP traffic with the
// table inside a namespace: exact IPv4 and IPv6 bans and a prefix drop,
// a ban whose end passes lets traffic through again by itself, unban and
// close remove the rest; on the input hook and on the ingress hook of
// the namespace's veth.
func TestEnforcedInNamespace(t *testing.T) {
	if why := netns.Available(); why != "" {
		t.Skip(why)
	}
	for _, hook := range []string{HookInput, HookIngress} {
		t.Run(hook, func(t *testing.T) { testEnforced(t, hook) })
	}
}

func testEnforced(t *testing.T, hook string) {
	lab := netns.TestLab(t, "f2bx-nft")
	srcs := netns.Sources(12, 4)
	if err := lab.AddSources(srcs); err != nil {
		t.Fatal(err)
	}
	o := Options{Hook: hook}
	if hook == HookIngress {
		o.Devices = []string{lab.DutIf}
	}
	tab, f := openIn(t, lab.Dut, o)
	j, err := tab.Jail("sshd")
	if err != nil {
		t.Fatal(err)
	}
	const per = 10
	check := func(what string, banned map[netip.Addr]bool) {
		t.Helper()
		got, err := lab.Send(srcs, per, 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range srcs {
			want := per
			if banned[a] {
				want = 0
			}
			if got[a] != want {
				t.Errorf("%s: %v got %d through, want %d", what, a, got[a], want)
			}
		}
	}
	now := time.Now()
	banned := map[netip.Addr]bool{}
	var bans []Ban
	for i, a := range srcs {
		if i%3 == 0 {
			banned[a] = true
			bans = append(bans, Ban{Prefix: netip.PrefixFrom(a, a.BitLen()), End: now.Add(time.Hour)})
		}
	}
	short := srcs[1] // its ban ends by itself
	bans = append(bans, Ban{Prefix: netip.PrefixFrom(short, 32), End: now.Add(1500 * time.Millisecond)})
	banned[short] = true
	if err := j.Ban(bans, now); err != nil {
		t.Fatal(err)
	}
	check("banned", banned)
	els, err := j.Banned()
	if err != nil {
		t.Fatal(err)
	}
	if left := els[netip.PrefixFrom(srcs[0], 32)]; left < 59*time.Minute || left > time.Hour {
		t.Errorf("element timeout %v left, want about 1h", left)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if els, _ := j.Banned(); els[netip.PrefixFrom(short, 32)] == 0 {
			if _, ok := els[netip.PrefixFrom(short, 32)]; !ok {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	delete(banned, short)
	check("after the short ban ended", banned)

	// A prefix ban covers addresses never seen.
	if err := j.Ban([]Ban{{Prefix: netip.MustParsePrefix("10.77.0.8/29")}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, a := range srcs {
		if a.Is4() && netip.MustParsePrefix("10.77.0.8/29").Contains(a) {
			banned[a] = true
		}
	}
	check("prefix", banned)

	var all []netip.Prefix
	for _, b := range bans {
		all = append(all, b.Prefix)
	}
	all = append(all, netip.MustParsePrefix("10.77.0.8/29"))
	if err := j.Unban(all); err != nil {
		t.Fatal(err)
	}
	check("unbanned", nil)

	if err := j.Ban(bans[:2], time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	c, _ := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if tables, _ := c.ListTables(); len(tables) != 0 {
		t.Errorf("%d tables left after Close", len(tables))
	}
	check("closed", nil)
}

// openIn opens the table inside ns; the namespace file stays open until
// the test ends (the connection enters the namespace through it).
func openIn(t *testing.T, ns *netns.NS, o Options) (*Table, *os.File) {
	t.Helper()
	f, err := os.Open("/var/run/netns/" + ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	o.NetNS = int(f.Fd())
	tab, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return tab, f
}

// TestManyElements bans more than one netlink message can carry.
func TestManyElements(t *testing.T) {
	if why := netns.Available(); why != "" {
		t.Skip(why)
	}
	ns, err := netns.New("f2bx-nftmany")
	if err != nil {
		t.Skip(err)
	}
	defer ns.Close()
	tab, _ := openIn(t, ns, Options{})
	defer tab.Close()
	j, err := tab.Jail("b")
	if err != nil {
		t.Fatal(err)
	}
	// Past one message's 16-bit attribute and one transaction's size.
	total := 0
	for _, n := range []int{100, 3000, 40000} {
		var bans []Ban
		for i := 0; i < n; i++ {
			bans = append(bans, Ban{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 8), byte(n), byte(i >> 8), byte(i)}), 32)})
		}
		if err := j.Ban(bans, time.Now()); err != nil {
			t.Fatalf("%d bans: %v", n, err)
		}
		total += n
	}
	got, err := j.Banned()
	if err != nil || len(got) != total {
		t.Fatalf("%d elements in the set (%v), want %d", len(got), err, total)
	}
}
