package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/f2bx/f2bx/internal/packet"
)

const (
	xdpDrop = 1
	xdpPass = 2
)

// open loads the program without pins, skipping where BPF is unavailable.
func open(t testing.TB) *Blacklist {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to load BPF programs")
	}
	b, err := Open(Options{MaxBans4: 1 << 18, MaxBans6: 1 << 16, MaxPrefixes: 1 << 10})
	if errors.Is(err, ebpf.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func run(t *testing.T, b *Blacklist, frame []byte) uint32 {
	t.Helper()
	ret, err := b.Program().Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

func udp(src string, opts ...func(*packet.Frame)) []byte {
	s := netip.MustParseAddr(src)
	d := netip.MustParseAddr("192.0.2.1")
	if s.Is6() {
		d = netip.MustParseAddr("2001:db8::1")
	}
	f := packet.Frame{Src: s, Dst: d, SrcPort: 4000, DstPort: 53, Payload: []byte("B invalid request")}
	for _, o := range opts {
		o(&f)
	}
	return f.Bytes()
}

func vlans(v ...uint16) func(*packet.Frame) { return func(f *packet.Frame) { f.VLANs = v } }
func ext(h ...uint8) func(*packet.Frame)    { return func(f *packet.Frame) { f.Ext = h } }

func exactBan(s string, end time.Time) Ban {
	a := netip.MustParseAddr(s)
	return Ban{Prefix: netip.PrefixFrom(a, a.BitLen()), End: end}
}

func TestVerdicts(t *testing.T) {
	b := open(t)
	now := time.Now()
	later := now.Add(time.Hour)
	if err := b.Ban("sshd", []Ban{
		exactBan("198.51.100.7", later),
		exactBan("2001:db8:bad::7", later),
		exactBan("::ffff:198.51.100.9", time.Time{}), // mapped: an IPv4 ban, without end
		{Prefix: netip.MustParsePrefix("203.0.113.0/24"), End: later},
		{Prefix: netip.MustParsePrefix("2001:db8:1:2::/64"), End: later},
	}, now); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		frame []byte
		want  uint32
	}{
		{"ipv4 banned", udp("198.51.100.7"), xdpDrop},
		{"ipv4 not banned", udp("198.51.100.8"), xdpPass},
		{"ipv4 mapped ban", udp("198.51.100.9"), xdpDrop},
		{"ipv6 banned", udp("2001:db8:bad::7"), xdpDrop},
		{"ipv6 not banned", udp("2001:db8:bad::8"), xdpPass},
		{"ipv6 hop-by-hop and fragment", udp("2001:db8:bad::7", ext(packet.HopByHop, packet.Fragment)), xdpDrop},
		{"ipv6 routing and destination options", udp("2001:db8:bad::7", ext(packet.Routing, packet.DestOpts)), xdpDrop},
		{"vlan", udp("198.51.100.7", vlans(10)), xdpDrop},
		{"qinq", udp("198.51.100.7", vlans(100, 10)), xdpDrop},
		{"qinq ipv6", udp("2001:db8:bad::7", vlans(100, 10)), xdpDrop},
		{"qinq not banned", udp("198.51.100.8", vlans(100, 10)), xdpPass},
		{"ipv4 prefix", udp("203.0.113.200"), xdpDrop},
		{"ipv4 outside prefix", udp("203.0.114.1"), xdpPass},
		{"ipv6 /64", udp("2001:db8:1:2:dead:beef::1"), xdpDrop},
		{"ipv6 outside /64", udp("2001:db8:1:3::1"), xdpPass},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(t, b, c.frame); got != c.want {
				t.Fatalf("verdict %d, want %d", got, c.want)
			}
		})
	}
	// Counters: 5 frames from 198.51.100.7 were dropped (plain, vlan, qinq).
	c, ok, err := b.Counters(netip.MustParsePrefix("198.51.100.7/32"), time.Now())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	plain := len(udp("198.51.100.7"))
	if want := uint64(3*plain + 4 + 8); c.Packets != 3 || c.Bytes != want {
		t.Errorf("counters %d packets %d bytes, want 3 and %d", c.Packets, c.Bytes, want)
	}
	if d := time.Since(c.LastDrop); d < 0 || d > 10*time.Second {
		t.Errorf("last drop %v ago", d)
	}
	if d := c.End.Sub(later); d < -time.Second || d > time.Second {
		t.Errorf("end %v, want %v", c.End, later)
	}
	tot, err := b.Totals()
	if err != nil {
		t.Fatal(err)
	}
	if tot.Dropped.Packets != 10 || tot.Passed.Packets != 5 || tot.Malformed.Packets != 0 {
		t.Errorf("totals %+v, want 10 dropped, 5 passed", tot)
	}
}

func TestMalformedFramesPass(t *testing.T) {
	b := open(t)
	if err := b.Ban("sshd", []Ban{exactBan("198.51.100.7", time.Time{}), exactBan("2001:db8:bad::7", time.Time{})}, time.Now()); err != nil {
		t.Fatal(err)
	}
	v4, v6 := udp("198.51.100.7"), udp("2001:db8:bad::7", ext(packet.HopByHop))
	badIHL := append([]byte(nil), v4...)
	badIHL[14] = 0x44 // header length 16 bytes
	longIHL := append([]byte(nil), v4[:14+20]...)
	longIHL[14] = 0x4f // 60-byte header in a 20-byte frame
	cases := map[string][]byte{
		"ethernet only":      v4[:14], // BPF_PROG_RUN refuses shorter frames
		"ipv4 cut":           v4[:14+12],
		"ipv4 ihl too small": badIHL,
		"ipv4 ihl past end":  longIHL,
		"vlan cut":           udp("198.51.100.7", vlans(10))[:16],
		"ipv6 cut":           v6[:14+30],
		"ipv6 extension cut": v6[:14+40+1],
		"ipv6 wrong version": append(append([]byte(nil), v6[:14]...), append([]byte{0x40}, v6[15:]...)...),
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if got := run(t, b, f); got != xdpPass {
				t.Fatalf("verdict %d, want pass", got)
			}
		})
	}
	tot, err := b.Totals()
	if err != nil {
		t.Fatal(err)
	}
	if tot.Malformed.Packets != uint64(len(cases)) || tot.Dropped.Packets != 0 {
		t.Errorf("totals %+v, want %d malformed, none dropped", tot, len(cases))
	}
}

func TestAllowListWins(t *testing.T) {
	b := open(t)
	now := time.Now()
	if err := b.Ban("sshd", []Ban{
		exactBan("10.1.2.3", time.Time{}),
		exactBan("10.9.9.9", time.Time{}),
		{Prefix: netip.MustParsePrefix("10.0.0.0/8")},
		exactBan("2001:db8::5", time.Time{}),
	}, now); err != nil {
		t.Fatal(err)
	}
	if got := run(t, b, udp("10.1.2.3")); got != xdpDrop {
		t.Fatalf("before allow: %d", got)
	}
	if err := b.SetAllow("sshd", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2001:db8::5/128")}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetAllow("nginx", []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32")}); err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]uint32{"10.1.2.3": xdpPass, "10.1.200.1": xdpPass, "10.9.9.9": xdpPass, "10.2.0.1": xdpDrop, "2001:db8::5": xdpPass} {
		if got := run(t, b, udp(src)); got != want {
			t.Errorf("%s: verdict %d, want %d", src, got, want)
		}
	}
	// Replacing one owner's list keeps the other's.
	if err := b.SetAllow("sshd", nil); err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]uint32{"10.1.2.3": xdpDrop, "10.9.9.9": xdpPass, "2001:db8::5": xdpDrop} {
		if got := run(t, b, udp(src)); got != want {
			t.Errorf("after reset %s: verdict %d, want %d", src, got, want)
		}
	}
	tot, _ := b.Totals()
	if tot.Allowed.Packets != 5 {
		t.Errorf("allowed %d, want 5", tot.Allowed.Packets)
	}
}

func TestUnbanAndOwners(t *testing.T) {
	b := open(t)
	now := time.Now()
	ban := []Ban{exactBan("198.51.100.7", time.Time{}), {Prefix: netip.MustParsePrefix("203.0.113.0/24")}}
	keys := []netip.Prefix{ban[0].Prefix, ban[1].Prefix}
	if err := b.Ban("sshd", ban, now); err != nil {
		t.Fatal(err)
	}
	if err := b.Ban("recidive", ban[:1], now); err != nil {
		t.Fatal(err)
	}
	run(t, b, udp("198.51.100.7"))
	if err := b.Unban("sshd", keys); err != nil {
		t.Fatal(err)
	}
	// recidive still holds the address: still dropped, counters kept.
	if got := run(t, b, udp("198.51.100.7")); got != xdpDrop {
		t.Fatalf("held by recidive: %d", got)
	}
	if c, _, _ := b.Counters(keys[0], now); c.Packets != 2 {
		t.Errorf("counters %d, want 2 (kept across owners)", c.Packets)
	}
	if got := run(t, b, udp("203.0.113.5")); got != xdpPass {
		t.Fatalf("prefix unbanned: %d", got)
	}
	if b.flags&hasPrefix4 != 0 {
		t.Error("prefix flag still set with no prefix ban")
	}
	// Unbanning what an owner does not hold changes nothing.
	if err := b.Unban("nginx", keys); err != nil {
		t.Fatal(err)
	}
	if got := run(t, b, udp("198.51.100.7")); got != xdpDrop {
		t.Fatalf("unban by a non-owner: %d", got)
	}
	if err := b.Unban("recidive", keys[:1]); err != nil {
		t.Fatal(err)
	}
	if got := run(t, b, udp("198.51.100.7")); got != xdpPass {
		t.Fatalf("after last unban: %d", got)
	}
	if _, ok, _ := b.Counters(keys[0], now); ok {
		t.Error("ban still in the map")
	}
}

func TestEndedBanPasses(t *testing.T) {
	b := open(t)
	now := time.Now()
	if err := b.Ban("sshd", []Ban{exactBan("198.51.100.7", now.Add(-time.Second)), exactBan("198.51.100.8", now.Add(150*time.Millisecond))}, now); err != nil {
		t.Fatal(err)
	}
	if got := run(t, b, udp("198.51.100.7")); got != xdpPass {
		t.Fatalf("ended ban: %d", got)
	}
	if got := run(t, b, udp("198.51.100.8")); got != xdpDrop {
		t.Fatalf("running ban: %d", got)
	}
	time.Sleep(200 * time.Millisecond)
	if got := run(t, b, udp("198.51.100.8")); got != xdpPass {
		t.Fatalf("ban past its end: %d", got)
	}
	// A later end (prolong) re-arms it and keeps its counters.
	if err := b.Ban("sshd", []Ban{exactBan("198.51.100.8", time.Now().Add(time.Hour))}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := run(t, b, udp("198.51.100.8")); got != xdpDrop {
		t.Fatalf("prolonged ban: %d", got)
	}
	if c, _, _ := b.Counters(netip.MustParsePrefix("198.51.100.8/32"), time.Now()); c.Packets != 2 {
		t.Errorf("counters %d, want 2", c.Packets)
	}
	tot, _ := b.Totals()
	if tot.Expired.Packets != 2 {
		t.Errorf("expired %d, want 2", tot.Expired.Packets)
	}
}

// TestLargeBatch bans many addresses in one call, in growing pieces and
// more than one writer takes (the batch is split over the CPUs): every
// one is in the maps and dropped.
func TestLargeBatch(t *testing.T) {
	for _, n := range []int{1000, parallelBatch + 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { testLargeBatch(t, n) })
	}
}

func testLargeBatch(t *testing.T, n int) {
	b := open(t)
	now := time.Now()
	bans := make([]Ban, 0, n+10)
	for i := range n {
		a := netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
		bans = append(bans, Ban{Prefix: netip.PrefixFrom(a, 32)})
	}
	for i := range 10 {
		bans = append(bans, exactBan(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}).String(), time.Time{}))
	}
	if err := b.Ban("sshd", bans, now); err != nil {
		t.Fatal(err)
	}
	seen := map[netip.Prefix]bool{}
	if err := b.List(now, func(p netip.Prefix, _ Counters) { seen[p] = true }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(bans) {
		t.Errorf("%d bans in the maps, want %d", len(seen), len(bans))
	}
	for _, i := range []int{0, n / 2, n - 1, n + 9} {
		if !seen[bans[i].Prefix] {
			t.Errorf("%v missing", bans[i].Prefix)
		}
	}
	at := func(i int) string { return fmt.Sprintf("100.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i)) }
	for _, i := range []int{0, 15, 16, n / 2, n - 1} {
		if got := run(t, b, udp(at(i))); got != xdpDrop {
			t.Errorf("%s: %d, want drop", at(i), got)
		}
	}
	if got := run(t, b, udp(at(n))); got != xdpPass {
		t.Errorf("%s (not banned): %d, want pass", at(n), got)
	}
}
