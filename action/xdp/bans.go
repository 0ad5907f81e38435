package xdp

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/f2bx/f2bx/bpf"
	"github.com/f2bx/f2bx/internal/netaddr"
	"github.com/f2bx/f2bx/jail"
)

// Settings flags, as in xdp.c.
const (
	hasPrefix4 = 1 << 0
	hasPrefix6 = 1 << 1
	hasAllow4  = 1 << 2
	hasAllow6  = 1 << 3
)

// Ban is one ban for the maps: an exact address (a /32 or /128 prefix) or
// a prefix, and when it ends (zero: never).
type Ban = jail.PrefixBan

// Counters are what the program counted for one ban.
type Counters struct {
	Packets, Bytes uint64
	// LastDrop is zero when nothing was dropped yet.
	LastDrop time.Time
	// End is zero for a ban without end.
	End time.Time
}

type lpm4Key struct {
	Prefixlen uint32
	Addr      [4]byte
}

type lpm6Key struct {
	Prefixlen uint32
	Addr      [16]byte
}

// owners tracks which jails hold each ban: several jails may ban one
// address, and only the last unban removes it from the maps.
type owners struct {
	mu    sync.Mutex
	slots map[string]uint
	// Who holds each ban: exact IPv4 addresses (most bans) in a map with
	// a small key, the rest by prefix.
	held4 map[[4]byte]holder
	held  map[netip.Prefix]holder
	// adopted are entries found in pinned maps at start, kept (with their
	// counters) when a jail claims them again, removed by Prune.
	adopted         map[netip.Prefix]bool
	adoptedPrefixes [2]int
	prefixes        [2]int // held prefix bans, IPv4 and IPv6
}

type holder struct {
	mask uint64
	end  int64 // Unix nanoseconds, math.MaxInt64 for no end
}

func newOwners() *owners {
	return &owners{slots: map[string]uint{}, held4: map[[4]byte]holder{}, held: map[netip.Prefix]holder{}, adopted: map[netip.Prefix]bool{}}
}

func (o *owners) slot(owner string) (uint64, error) {
	s, ok := o.slots[owner]
	if !ok {
		if len(o.slots) == 64 {
			return 0, fmt.Errorf("xdp: more than 64 jails share the blacklist")
		}
		s = uint(len(o.slots))
		o.slots[owner] = s
	}
	return 1 << s, nil
}

// progClock reads the clock the XDP program stamps drops and ends with.
func progClock() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC_COARSE, &ts)
	return ts.Nano()
}

// progTime converts between the wall clock and the program's clock
// (CLOCK_MONOTONIC_COARSE) from one reading of each. Reading the
// program's clock is a system call (x/sys has no vDSO path), costly in
// this VM: in the flood bench from the ring at 10k/s, a batch of about 40
// bans spent p50 190–300 µs in Ban reading it once a ban, 110–160 µs
// reading it once.
type progTime struct {
	now   time.Time
	clock int64 // the program's clock at now, ns
}

func progTimeAt(now time.Time) progTime { return progTime{now, progClock()} }

// of is end (Unix ns, math.MaxInt64 for none) on the program's clock:
// 0 for no end, at least 1 otherwise.
func (p progTime) of(end int64) uint64 {
	if end == math.MaxInt64 {
		return 0
	}
	if b := p.clock + end - p.now.UnixNano(); b > 0 {
		return uint64(b)
	}
	return 1
}

// wall is v, a time of the program's clock, on the wall clock; zero for 0.
func (p progTime) wall(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return p.now.Add(time.Duration(int64(v) - p.clock))
}

func normalize(p netip.Prefix) (netip.Prefix, error) {
	c, ok := netaddr.Canonical(p)
	if !ok {
		return p, fmt.Errorf("xdp: invalid prefix %v", p)
	}
	return c, nil
}

// normalizeAll normalizes prefixes, leaving out (and reporting) the
// invalid ones.
func normalizeAll(prefixes []netip.Prefix) ([]netip.Prefix, []error) {
	out := make([]netip.Prefix, 0, len(prefixes))
	var errs []error
	for _, p := range prefixes {
		c, err := normalize(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errs
}

func exact(p netip.Prefix) bool { return p.Bits() == p.Addr().BitLen() }

// Ban puts bans held by owner (a jail name) into the maps: new exact bans
// in one batch per family. A ban already in the maps keeps its counters;
// its end becomes the latest end any owner asked for.
func (b *Blacklist) Ban(owner string, bans []Ban, now time.Time) error {
	o := b.bans
	o.mu.Lock()
	defer o.mu.Unlock()
	bit, err := o.slot(owner)
	if err != nil {
		return err
	}
	clk := progTimeAt(now)
	if len(o.held4) == 0 && len(bans) > 1024 {
		o.held4 = make(map[[4]byte]holder, len(bans)) // a restore: size once
	}
	k4 := make([][4]byte, 0, len(bans))
	v4 := make([]bpf.XdpBanInfo, 0, len(bans))
	var k6 [][16]byte
	var v6 []bpf.XdpBanInfo
	var errs []error
	for _, bn := range bans {
		p, err := normalize(bn.Prefix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		end := int64(math.MaxInt64)
		if !bn.End.IsZero() {
			end = bn.End.UnixNano()
		}
		h, had := o.get(p)
		if !had || end > h.end {
			h.end = end
		}
		h.mask |= bit
		o.put(p, h)
		info := bpf.XdpBanInfo{Expires: clk.of(h.end)}
		switch {
		case had || len(o.adopted) > 0 && o.adopted[p]:
			if !had && !exact(p) {
				o.prefixes[fam(p)]++
			}
			o.unadopt(p)
			errs = append(errs, b.extend(p, info.Expires))
		case !exact(p):
			o.prefixes[fam(p)]++
			errs = append(errs, b.putPrefix(p, info))
		case p.Addr().Is4():
			k4 = append(k4, p.Addr().As4())
			v4 = append(v4, info)
		default:
			k6 = append(k6, p.Addr().As16())
			v6 = append(v6, info)
		}
	}
	errs = append(errs, batchPut(b.objs.Ban4, k4, v4), batchPut(b.objs.Ban6, k6, v6), b.syncFlags())
	return errors.Join(errs...)
}

func fam(p netip.Prefix) int {
	if p.Addr().Is4() {
		return 0
	}
	return 1
}

// parallelBatch is the batch size from which batchPut splits the work
// over the CPUs: the kernel allocates each new element of a map without
// preallocation, and the hash map's bucket locks let writers run side by
// side (a restore of 1M bans: 0.9M/s on one CPU, more on two).
const parallelBatch = 1 << 16

// batchPut writes keys and values with BatchUpdate (split over the CPUs
// when large), one by one where the kernel has no batch operations.
func batchPut[K any](m *ebpf.Map, keys []K, vals []bpf.XdpBanInfo) error {
	if len(keys) == 0 {
		return nil
	}
	if n := runtime.GOMAXPROCS(0); n > 1 && len(keys) >= parallelBatch {
		var wg sync.WaitGroup
		errs := make([]error, n)
		per := (len(keys) + n - 1) / n
		for i := range n {
			lo, hi := i*per, min((i+1)*per, len(keys))
			if lo >= hi {
				break
			}
			wg.Go(func() { errs[i] = batchOnce(m, keys[lo:hi:hi], vals[lo:hi:hi]) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	// In growing pieces: the first bans of a burst reach the map after one
	// piece's update, not the whole burst's (128 keys take 70–300 µs
	// here), at the cost of a few more calls.
	var errs []error
	for n := firstPiece; len(keys) > 0; n *= 2 {
		k := min(n, len(keys))
		errs = append(errs, batchOnce(m, keys[:k:k], vals[:k:k]))
		keys, vals = keys[k:], vals[k:]
	}
	return errors.Join(errs...)
}

// firstPiece is the size of batchPut's first piece; each next one is
// twice the last.
const firstPiece = 16

func batchOnce[K any](m *ebpf.Map, keys []K, vals []bpf.XdpBanInfo) error {
	_, err := m.BatchUpdate(keys, vals, nil)
	if errors.Is(err, ebpf.ErrNotSupported) {
		for i := range keys {
			if err := m.Put(keys[i], vals[i]); err != nil {
				return fmt.Errorf("xdp ban: %w", err)
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("xdp ban: %w", err)
	}
	return nil
}

func (b *Blacklist) mapKey(p netip.Prefix) (*ebpf.Map, any) {
	a := p.Addr()
	switch {
	case exact(p) && a.Is4():
		return b.objs.Ban4, a.As4()
	case exact(p):
		return b.objs.Ban6, a.As16()
	case a.Is4():
		return b.objs.Prefix4, lpm4Key{uint32(p.Bits()), a.As4()}
	default:
		return b.objs.Prefix6, lpm6Key{uint32(p.Bits()), a.As16()}
	}
}

func (b *Blacklist) putPrefix(p netip.Prefix, info bpf.XdpBanInfo) error {
	m, k := b.mapKey(p)
	if err := m.Put(k, info); err != nil {
		return fmt.Errorf("xdp ban %v: %w", p, err)
	}
	return nil
}

// extend sets the end of a ban already in the maps, keeping its counters.
func (b *Blacklist) extend(p netip.Prefix, expires uint64) error {
	m, k := b.mapKey(p)
	var info bpf.XdpBanInfo
	if err := m.Lookup(k, &info); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("xdp ban %v: %w", p, err)
	}
	info.Expires = expires
	if err := m.Put(k, info); err != nil {
		return fmt.Errorf("xdp ban %v: %w", p, err)
	}
	return nil
}

// Unban releases owner's bans; a ban leaves the maps when no owner holds
// it any more.
func (b *Blacklist) Unban(owner string, prefixes []netip.Prefix) error {
	o := b.bans
	o.mu.Lock()
	defer o.mu.Unlock()
	s, known := o.slots[owner]
	if !known {
		return nil // holds nothing
	}
	bit := uint64(1) << s
	var gone []netip.Prefix
	norm, errs := normalizeAll(prefixes)
	for _, p := range norm {
		h, ok := o.get(p)
		if !ok || h.mask&bit == 0 {
			continue
		}
		if h.mask &^= bit; h.mask != 0 {
			o.put(p, h)
			continue
		}
		o.del(p)
		if !exact(p) {
			o.prefixes[fam(p)]--
		}
		gone = append(gone, p)
	}
	errs = append(errs, b.remove(gone), b.syncFlags())
	return errors.Join(errs...)
}

// remove deletes bans from the maps: exact ones in one batch per family,
// prefixes one by one; bans already gone are skipped.
func (b *Blacklist) remove(ps []netip.Prefix) error {
	var k4 [][4]byte
	var k6 [][16]byte
	var errs []error
	for _, p := range ps {
		switch {
		case !exact(p):
			m, k := b.mapKey(p)
			if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				errs = append(errs, fmt.Errorf("xdp unban %v: %w", p, err))
			}
		case p.Addr().Is4():
			k4 = append(k4, p.Addr().As4())
		default:
			k6 = append(k6, p.Addr().As16())
		}
	}
	errs = append(errs, batchDelete(b.objs.Ban4, k4), batchDelete(b.objs.Ban6, k6))
	return errors.Join(errs...)
}

// batchDelete deletes keys in batches; a key already gone is skipped.
func batchDelete[K any](m *ebpf.Map, keys []K) error {
	for len(keys) > 0 {
		n, err := m.BatchDelete(keys, nil)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ebpf.ErrKeyNotExist):
			keys = keys[n+1:]
		case errors.Is(err, ebpf.ErrNotSupported):
			for _, k := range keys {
				if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
					return fmt.Errorf("xdp unban: %w", err)
				}
			}
			return nil
		default:
			return fmt.Errorf("xdp unban: %w", err)
		}
	}
	return nil
}

// syncFlags tells the program which optional tries hold entries.
func (b *Blacklist) syncFlags() error {
	f := b.flags &^ (hasPrefix4 | hasPrefix6 | hasAllow4 | hasAllow6)
	if b.bans.prefixes[0]+b.bans.adoptedPrefixes[0] > 0 {
		f |= hasPrefix4
	}
	if b.bans.prefixes[1]+b.bans.adoptedPrefixes[1] > 0 {
		f |= hasPrefix6
	}
	b.allow.mu.Lock()
	if len(b.allow.kernel4) > 0 {
		f |= hasAllow4
	}
	if len(b.allow.kernel6) > 0 {
		f |= hasAllow6
	}
	b.allow.mu.Unlock()
	if f == b.flags {
		return nil
	}
	if err := b.objs.Settings.Put(uint32(0), f); err != nil {
		return fmt.Errorf("xdp settings: %w", err)
	}
	b.flags = f
	return nil
}

// unadopt forgets that p was found in the pinned maps.
func (o *owners) unadopt(p netip.Prefix) {
	if !o.adopted[p] {
		return
	}
	delete(o.adopted, p)
	if !exact(p) {
		o.adoptedPrefixes[fam(p)]--
	}
}

func (o *owners) get(p netip.Prefix) (holder, bool) {
	if p.Bits() == 32 && p.Addr().Is4() {
		h, ok := o.held4[p.Addr().As4()]
		return h, ok
	}
	h, ok := o.held[p]
	return h, ok
}

func (o *owners) put(p netip.Prefix, h holder) {
	if p.Bits() == 32 && p.Addr().Is4() {
		o.held4[p.Addr().As4()] = h
		return
	}
	o.held[p] = h
}

func (o *owners) del(p netip.Prefix) {
	if p.Bits() == 32 && p.Addr().Is4() {
		delete(o.held4, p.Addr().As4())
		return
	}
	delete(o.held, p)
}

// each calls fn with every held ban.
func (o *owners) each(fn func(netip.Prefix, holder)) {
	for a, h := range o.held4 {
		fn(netip.PrefixFrom(netip.AddrFrom4(a), 32), h)
	}
	for p, h := range o.held {
		fn(p, h)
	}
}
