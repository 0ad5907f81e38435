package xdp

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/cilium/ebpf"

	"github.com/f2bx/f2bx/bpf"
)

// allowSets are the addresses that are never dropped (ignoreip,
// ignoreself), per owner; the tries hold their union.
type allowSets struct {
	mu               sync.Mutex
	by               map[string][]netip.Prefix
	kernel4, kernel6 map[netip.Prefix]bool
}

// adopt reads what pinned maps hold: bans an earlier daemon left (kept
// until a jail claims them again or Prune removes them) and allow entries.
func (b *Blacklist) adopt() error {
	o := b.bans
	errs := []error{b.List(time.Now(), func(p netip.Prefix, _ Counters) {
		o.adopted[p] = true
		if !exact(p) {
			o.adoptedPrefixes[fam(p)]++
		}
	})}
	var l4 lpm4Key
	var l6 lpm6Key
	b.allow = allowSets{by: map[string][]netip.Prefix{}, kernel4: map[netip.Prefix]bool{}, kernel6: map[netip.Prefix]bool{}}
	var one uint8
	it := b.objs.Allow4.Iterate()
	for it.Next(&l4, &one) {
		b.allow.kernel4[netip.PrefixFrom(netip.AddrFrom4(l4.Addr), int(l4.Prefixlen))] = true
	}
	errs = append(errs, it.Err())
	it = b.objs.Allow6.Iterate()
	for it.Next(&l6, &one) {
		b.allow.kernel6[netip.PrefixFrom(netip.AddrFrom16(l6.Addr), int(l6.Prefixlen))] = true
	}
	errs = append(errs, it.Err())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("xdp: read pinned maps: %w", err)
	}
	return nil
}

// Adopted returns how many bans found in the pinned maps no jail has
// claimed yet.
func (b *Blacklist) Adopted() int {
	b.bans.mu.Lock()
	defer b.bans.mu.Unlock()
	return len(b.bans.adopted)
}

// Prune removes the bans found in the pinned maps that no jail claimed
// (call it once the jails restored their bans). It returns how many.
func (b *Blacklist) Prune() (int, error) {
	o := b.bans
	o.mu.Lock()
	defer o.mu.Unlock()
	ps := make([]netip.Prefix, 0, len(o.adopted))
	for p := range o.adopted {
		ps = append(ps, p)
	}
	clear(o.adopted)
	o.adoptedPrefixes = [2]int{}
	err := errors.Join(b.remove(ps), b.syncFlags())
	return len(ps), err
}

// SetAllow sets the prefixes owner never wants dropped; the allow tries
// hold the union over all owners.
func (b *Blacklist) SetAllow(owner string, prefixes []netip.Prefix) error {
	b.bans.mu.Lock()
	defer b.bans.mu.Unlock()
	a := &b.allow
	a.mu.Lock()
	norm, errs := normalizeAll(prefixes)
	a.by[owner] = norm
	want := map[netip.Prefix]bool{}
	for _, ps := range a.by {
		for _, p := range ps {
			want[p] = true
		}
	}
	for _, kernel := range []map[netip.Prefix]bool{a.kernel4, a.kernel6} {
		for p := range kernel {
			if !want[p] {
				m, k := b.allowKey(p)
				if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
					errs = append(errs, fmt.Errorf("xdp allow %v: %w", p, err))
				}
				delete(kernel, p)
			}
		}
	}
	for p := range want {
		kernel := a.kernel6
		if p.Addr().Is4() {
			kernel = a.kernel4
		}
		if kernel[p] {
			continue
		}
		m, k := b.allowKey(p)
		if err := m.Put(k, uint8(1)); err != nil {
			errs = append(errs, fmt.Errorf("xdp allow %v: %w", p, err))
			continue
		}
		kernel[p] = true
	}
	a.mu.Unlock()
	errs = append(errs, b.syncFlags())
	return errors.Join(errs...)
}

func (b *Blacklist) allowKey(p netip.Prefix) (*ebpf.Map, any) {
	if p.Addr().Is4() {
		return b.objs.Allow4, lpm4Key{uint32(p.Bits()), p.Addr().As4()}
	}
	return b.objs.Allow6, lpm6Key{uint32(p.Bits()), p.Addr().As16()}
}

// Counters returns the counters of the ban of exactly p.
func (b *Blacklist) Counters(p netip.Prefix, now time.Time) (Counters, bool, error) {
	p, err := normalize(p)
	if err != nil {
		return Counters{}, false, err
	}
	m, k := b.mapKey(p)
	var info bpf.XdpBanInfo
	if err := m.Lookup(k, &info); errors.Is(err, ebpf.ErrKeyNotExist) {
		return Counters{}, false, nil
	} else if err != nil {
		return Counters{}, false, fmt.Errorf("xdp counters %v: %w", p, err)
	}
	return counters(info, progTimeAt(now)), true, nil
}

func counters(info bpf.XdpBanInfo, clk progTime) Counters {
	return Counters{Packets: info.Packets, Bytes: info.Bytes, LastDrop: clk.wall(info.LastDrop), End: clk.wall(info.Expires)}
}

// List calls fn with every ban in the maps and its counters.
func (b *Blacklist) List(now time.Time, fn func(netip.Prefix, Counters)) error {
	clk := progTimeAt(now)
	var k4 [4]byte
	var k6 [16]byte
	var l4 lpm4Key
	var l6 lpm6Key
	var info bpf.XdpBanInfo
	var errs []error
	it := b.objs.Ban4.Iterate()
	for it.Next(&k4, &info) {
		fn(netip.PrefixFrom(netip.AddrFrom4(k4), 32), counters(info, clk))
	}
	errs = append(errs, it.Err())
	it = b.objs.Ban6.Iterate()
	for it.Next(&k6, &info) {
		fn(netip.PrefixFrom(netip.AddrFrom16(k6), 128), counters(info, clk))
	}
	errs = append(errs, it.Err())
	it = b.objs.Prefix4.Iterate()
	for it.Next(&l4, &info) {
		fn(netip.PrefixFrom(netip.AddrFrom4(l4.Addr), int(l4.Prefixlen)), counters(info, clk))
	}
	errs = append(errs, it.Err())
	it = b.objs.Prefix6.Iterate()
	for it.Next(&l6, &info) {
		fn(netip.PrefixFrom(netip.AddrFrom16(l6.Addr), int(l6.Prefixlen)), counters(info, clk))
	}
	errs = append(errs, it.Err())
	return errors.Join(errs...)
}

// Totals are the program's frame counts over all CPUs.
type Totals struct {
	Passed, Dropped, Malformed, Allowed, Expired Stat
}

// Stat is a count of frames and their bytes.
type Stat struct{ Packets, Bytes uint64 }

// Totals sums the per-CPU counters.
func (b *Blacklist) Totals() (Totals, error) {
	var t Totals
	for i, dst := range []*Stat{&t.Passed, &t.Dropped, &t.Malformed, &t.Allowed, &t.Expired} {
		var per []bpf.XdpStat
		if err := b.objs.Stats.Lookup(uint32(i), &per); err != nil {
			return t, fmt.Errorf("xdp totals: %w", err)
		}
		for _, s := range per {
			dst.Packets += s.Packets
			dst.Bytes += s.Bytes
		}
	}
	return t, nil
}

// Release unbans everything owner holds.
func (b *Blacklist) Release(owner string) error {
	o := b.bans
	o.mu.Lock()
	bit, ok := o.slots[owner]
	var held []netip.Prefix
	if ok {
		o.each(func(p netip.Prefix, h holder) {
			if h.mask&(1<<bit) != 0 {
				held = append(held, p)
			}
		})
	}
	o.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	return b.Unban(owner, held)
}
