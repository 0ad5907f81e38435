// Command enforce measures what a dropped packet costs with f2bx's XDP
// program and with an nftables set drop on the input hook (the way
// fail2ban's nftables action drops), in the same run, and how fast bans
// are inserted. Needs root; it works only inside network namespaces it
// creates and deletes.
//
// Packets come from the kernel itself: BPF_PROG_RUN with live frames runs
// a one-instruction XDP_TX program on the generator's veth, so frames
// cross the veth pair without a socket (socket-built packets are copied
// before native XDP and would hide its cost). CPU time is the machine's
// non-idle time (/proc/stat) over the run; a run whose receiving program
// drops at once is the baseline that both are measured above.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/f2bx/f2bx/action/nft"
	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/internal/netns"
	"github.com/f2bx/f2bx/internal/packet"
)

func main() {
	packets := flag.Int("packets", 2_000_000, "frames per measurement")
	rounds := flag.Int("rounds", 3, "measurements per method (the median is printed)")
	bans := flag.Int("bans", 1_000_000, "bans for the insert-rate figures")
	flag.BoolVar(&prealloc, "prealloc", false, "preallocate the XDP ban maps")
	flag.Parse()
	if why := netns.Available(); why != "" {
		log.Fatal(why)
	}
	if err := run(*packets, *rounds, *bans); err != nil {
		log.Fatal(err)
	}
}

var prealloc bool

type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

func constProg(verdict int32) (*ebpf.Program, error) {
	return ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, verdict), asm.Return()}})
}

// busy returns the machine's non-idle CPU time so far.
func busy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		log.Fatal(err)
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var total int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

func run(packets, rounds, nbans int) error {
	gen, err := netns.New("f2bx-bench-gen")
	if err != nil {
		return err
	}
	defer gen.Close()
	dut, err := netns.New("f2bx-bench-dut")
	if err != nil {
		return err
	}
	defer dut.Close()
	if err := netns.Veth(gen, "gen0", dut, "dut0"); err != nil {
		return err
	}
	if err := dut.IP("addr", "add", "10.88.0.254/24", "dev", "dut0"); err != nil {
		return err
	}
	mac, err := dut.MAC("dut0")
	if err != nil {
		return err
	}
	hw, _ := net.ParseMAC(mac)
	src := netip.MustParseAddr("10.88.0.1")
	f := packet.Frame{Src: src, Dst: netip.MustParseAddr("10.88.0.254"), SrcPort: 4000, DstPort: 9, Payload: []byte("B invalid request")}
	copy(f.DstMAC[:], hw)
	frame := f.Bytes()

	tx, err := constProg(3) // XDP_TX
	if err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	// The generator's veth needs a program of its own for XDP_TX frames
	// to be accepted by its peer's NAPI: attach one that passes.
	pass, err := constProg(2)
	if err != nil {
		return err
	}
	drop, err := constProg(1)
	if err != nil {
		return err
	}
	var genIf int
	err = gen.Do(func() error {
		i, err := net.InterfaceByName("gen0")
		if err != nil {
			return err
		}
		genIf = i.Index
		_, err = link.AttachXDP(link.XDPOptions{Program: pass, Interface: i.Index, Flags: link.XDPDriverMode})
		return err
	})
	if err != nil {
		return fmt.Errorf("generator veth: %w", err)
	}
	send := func() (time.Duration, error) {
		var spent time.Duration
		err := gen.Do(func() error {
			runtime.Gosched()
			b0 := busy()
			_, err := tx.Run(&ebpf.RunOptions{Data: frame, Repeat: uint32(packets), Flags: 2, // BPF_F_TEST_XDP_LIVE_FRAMES
				Context: xdpMD{DataEnd: uint32(len(frame)), IngressIfindex: uint32(genIf)}})
			time.Sleep(50 * time.Millisecond) // let the receiver finish
			spent = busy() - b0
			return err
		})
		return spent, err
	}
	attachDut := func(p *ebpf.Program) (link.Link, error) {
		var l link.Link
		err := dut.Do(func() error {
			i, err := net.InterfaceByName("dut0")
			if err != nil {
				return err
			}
			l, err = link.AttachXDP(link.XDPOptions{Program: p, Interface: i.Index, Flags: link.XDPDriverMode})
			return err
		})
		return l, err
	}

	// f2bx's blacklist with nbans addresses, the source among them.
	bl, err := xdp.Open(xdp.Options{MaxBans4: uint32(nbans + 16), Prealloc: prealloc})
	if err != nil {
		return err
	}
	defer bl.Close()
	banList := make([]xdp.Ban, nbans)
	for i := range banList {
		banList[i] = xdp.Ban{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)}), 32)}
	}
	banList[0].Prefix = netip.PrefixFrom(src, 32)
	t0 := time.Now()
	if err := bl.Ban("bench", banList, time.Now()); err != nil {
		return err
	}
	xdpBatch := time.Since(t0)

	// nftables in dut: the same source in a set, dropped on input.
	fd, err := os.Open("/var/run/netns/" + dut.Name)
	if err != nil {
		return err
	}
	defer fd.Close()
	tab, err := nft.Open(nft.Options{NetNS: int(fd.Fd())})
	if err != nil {
		return err
	}
	defer func() { tab.Close() }()
	nj, err := tab.Jail("bench")
	if err != nil {
		return err
	}
	nftBans := make([]nft.Ban, 0, nbans)
	for _, b := range banList {
		nftBans = append(nftBans, nft.Ban{Prefix: b.Prefix})
	}
	t0 = time.Now()
	if err := nj.Ban(nftBans, time.Now()); err != nil {
		return fmt.Errorf("nft batch: %w", err)
	}
	nftBatch := time.Since(t0)

	measure := func(name string, p *ebpf.Program) ([]float64, error) {
		var per []float64
		for r := 0; r < rounds; r++ {
			l, err := attachDut(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			spent, err := send()
			l.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			per = append(per, float64(spent.Nanoseconds())/float64(packets))
		}
		sort.Float64s(per)
		return per, nil
	}
	base, err := measure("baseline", drop)
	if err != nil {
		return err
	}
	d0, _ := bl.Totals()
	xd, err := measure("xdp", bl.Program())
	if err != nil {
		return err
	}
	d1, _ := bl.Totals()
	nf, err := measure("nft", pass)
	if err != nil {
		return err
	}
	nftDropped, err := ruleDrops(int(fd.Fd()), "bans")
	if err != nil {
		return err
	}
	nsingle := min(nbans, 10_000)
	if err := nj.Flush(); err != nil {
		return err
	}
	t0 = time.Now()
	for _, b := range nftBans[:nsingle] {
		if err := nj.Ban([]nft.Ban{b}, time.Now()); err != nil {
			return err
		}
	}
	nftSingle := time.Since(t0)

	// nftables on the ingress hook of dut0: the same set, before routing.
	if err := tab.Close(); err != nil {
		return err
	}
	tab, err = nft.Open(nft.Options{NetNS: int(fd.Fd()), Hook: nft.HookIngress, Devices: []string{"dut0"}})
	if err != nil {
		return err
	}
	if nj, err = tab.Jail("bench"); err != nil {
		return err
	}
	if err := nj.Ban(nftBans, time.Now()); err != nil {
		return fmt.Errorf("nft batch: %w", err)
	}
	ni, err := measure("nft ingress", pass)
	if err != nil {
		return err
	}
	ingressDropped, err := ruleDrops(int(fd.Fd()), "bans-dut0")
	if err != nil {
		return err
	}

	med := func(v []float64) float64 { return v[len(v)/2] }
	b, x, n, i := med(base), med(xd), med(nf), med(ni)
	fmt.Printf("CPU per dropped packet (%d frames x %d rounds, median; %d bans in the maps and sets)\n", packets, rounds, nbans)
	fmt.Printf("  %-34s %8.1f ns\n", "baseline (XDP_DROP at once)", b)
	fmt.Printf("  %-34s %8.1f ns   %6.1f ns above baseline   (%d dropped)\n", "f2bx XDP (hash lookup, counters)", x, x-b, d1.Dropped.Packets-d0.Dropped.Packets)
	fmt.Printf("  %-34s %8.1f ns   %6.1f ns above baseline   (%d dropped by the rule)\n", "nftables set drop on input", n, n-b, nftDropped)
	fmt.Printf("  %-34s %8.1f ns   %6.1f ns above baseline   (%d dropped by the rule)\n", "nftables set drop on ingress", i, i-b, ingressDropped)
	fmt.Printf("  ratio nftables input / XDP: %.1fx in total, %.1fx above baseline\n", n/x, (n-b)/max(x-b, 0.1))
	fmt.Printf("  ratio nftables ingress / XDP: %.1fx in total, %.1fx above baseline\n", i/x, (i-b)/max(x-b, 0.1))

	// Insert rates.
	fmt.Printf("\nBan inserts (%d addresses; XDP maps preallocated: %v)\n", nbans, prealloc)
	fmt.Printf("  %-34s %8.2f M/s\n", "XDP, one batch", float64(nbans)/xdpBatch.Seconds()/1e6)
	single := min(nbans, 100_000)
	if err := bl.Unban("bench", prefixes(banList[:single])); err != nil {
		return err
	}
	t0 = time.Now()
	for _, b := range banList[:single] {
		if err := bl.Ban("bench", []xdp.Ban{b}, time.Now()); err != nil {
			return err
		}
	}
	fmt.Printf("  %-34s %8.2f M/s\n", "XDP, one by one", float64(single)/time.Since(t0).Seconds()/1e6)
	fmt.Printf("  %-34s %8.2f M/s\n", "nftables, 4096 per transaction", float64(nbans)/nftBatch.Seconds()/1e6)
	fmt.Printf("  %-34s %8.2f M/s\n", "nftables, one per transaction", float64(nsingle)/nftSingle.Seconds()/1e6)
	return nil
}

func prefixes(bs []xdp.Ban) []netip.Prefix {
	out := make([]netip.Prefix, len(bs))
	for i, b := range bs {
		out[i] = b.Prefix
	}
	return out
}

// ruleDrops sums the packet counters of f2bx's nftables rules.
func ruleDrops(nsfd int, chain string) (uint64, error) {
	c, err := nftables.New(nftables.WithNetNSFd(nsfd))
	if err != nil {
		return 0, err
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: nft.TableName}
	rules, err := c.GetRules(t, &nftables.Chain{Name: chain, Table: t})
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, r := range rules {
		for _, e := range r.Exprs {
			if ctr, ok := e.(*expr.Counter); ok {
				n += ctr.Packets
			}
		}
	}
	return n, nil
}
