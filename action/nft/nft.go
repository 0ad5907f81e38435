// Package nft enforces bans with nftables over netlink (no process per
// ban): a table "inet f2bx" with one base chain on the configured hook,
// (one chain per device on the ingress hook), and per jail an IPv4 and an IPv6 set of addresses (hash) and of
// prefixes (interval), each element timing out when its ban ends. Adds
// and deletes of a batch go in one transaction.
package nft

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/f2bx/f2bx/internal/netaddr"
	"github.com/f2bx/f2bx/jail"
)

// TableName is the nftables table f2bx owns.
const TableName = "f2bx"

// Hooks a Table can drop on.
const (
	HookInput      = "input"
	HookForward    = "forward"
	HookPrerouting = "prerouting"
	HookIngress    = "ingress"
)

// nfInetIngress is NF_INET_INGRESS (linux/netfilter.h, since 5.10),
// which x/sys does not export.
const nfInetIngress = 5

// Options configure a Table.
type Options struct {
	// Hook is input (default), forward, prerouting or ingress.
	Hook string
	// Devices are the interfaces an ingress hook drops on (required with
	// ingress: the hook sees one device's packets before any routing,
	// like XDP but after the socket buffer is built).
	Devices []string
	// NetNS is a network namespace fd to work in (0: the process's).
	NetNS int
}

// Table is f2bx's nftables table and base chain.
type Table struct {
	mu     sync.Mutex
	conn   *nftables.Conn
	table  *nftables.Table
	chains []*nftables.Chain
	jails  map[string]*Jail
}

// Open creates (or takes over) the table and its chain. Rules of jails an
// earlier daemon made are removed; their sets are re-created empty by
// Jail, to be filled again from the restored bans.
func Open(o Options) (*Table, error) {
	var hook *nftables.ChainHook
	prio := nftables.ChainPriorityFilter
	switch o.Hook {
	case "", HookInput:
		hook = nftables.ChainHookInput
	case HookForward:
		hook = nftables.ChainHookForward
	case HookPrerouting:
		hook = nftables.ChainHookPrerouting
		prio = nftables.ChainPriorityRaw
	case HookIngress:
		// The inet family's ingress hook (nftables.ChainHookIngress is
		// the netdev family's number, prerouting's in inet).
		hook = nftables.ChainHookRef(nfInetIngress)
		prio = nftables.ChainPriorityRef(-500)
		if len(o.Devices) == 0 {
			return nil, errors.New("nftables: the ingress hook needs the devices to drop on")
		}
	default:
		return nil, fmt.Errorf("nftables: unknown hook %q (input, forward, prerouting or ingress)", o.Hook)
	}
	opts := []nftables.ConnOption{nftables.AsLasting()}
	if o.NetNS != 0 {
		opts = append(opts, nftables.WithNetNSFd(o.NetNS))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	t := &Table{conn: c, jails: map[string]*Jail{}}
	t.table = &nftables.Table{Family: nftables.TableFamilyINet, Name: TableName}
	// Start clean: delete what an earlier run left, then create.
	c.AddTable(t.table)
	c.DelTable(t.table)
	c.AddTable(t.table)
	policy := nftables.ChainPolicyAccept
	base := nftables.Chain{Name: "bans", Table: t.table, Type: nftables.ChainTypeFilter,
		Hooknum: hook, Priority: prio, Policy: &policy}
	if o.Hook != HookIngress {
		t.chains = append(t.chains, c.AddChain(&base))
	} else {
		for _, dev := range o.Devices {
			ch := base
			ch.Name, ch.Device = "bans-"+dev, dev
			t.chains = append(t.chains, c.AddChain(&ch))
		}
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables: create table: %w", err)
	}
	return t, nil
}

// Close deletes the table, and every ban with it.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conn.DelTable(t.table)
	err := t.conn.Flush()
	t.conn.CloseLasting()
	if err != nil {
		return fmt.Errorf("nftables: delete table: %w", err)
	}
	return nil
}

// Jail is one jail's sets and rules in the table.
type Jail struct {
	t                  *Table
	name               string
	v4, v6, net4, net6 *nftables.Set
}

// Jail returns the named jail's sets, creating them and their drop rules.
func (t *Table) Jail(name string) (*Jail, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if j, ok := t.jails[name]; ok {
		return j, nil
	}
	j := &Jail{t: t, name: name}
	for _, d := range []struct {
		set      **nftables.Set
		suffix   string
		typ      nftables.SetDatatype
		interval bool
	}{{&j.v4, "v4", nftables.TypeIPAddr, false}, {&j.v6, "v6", nftables.TypeIP6Addr, false},
		{&j.net4, "net4", nftables.TypeIPAddr, true}, {&j.net6, "net6", nftables.TypeIP6Addr, true}} {
		s := &nftables.Set{Table: t.table, Name: name + "-" + d.suffix, KeyType: d.typ, HasTimeout: true, Interval: d.interval}
		if err := t.conn.AddSet(s, nil); err != nil {
			return nil, fmt.Errorf("nftables: %w", err)
		}
		*d.set = s
	}
	for _, ch := range t.chains {
		j.addRules(ch)
	}
	if err := t.conn.Flush(); err != nil {
		return nil, fmt.Errorf("nftables: jail %s: %w", name, err)
	}
	t.jails[name] = j
	return j, nil
}

// addRules queues the jail's drop rules (one per set) in the chain.
func (j *Jail) addRules(ch *nftables.Chain) {
	for _, r := range []struct {
		s      *nftables.Set
		proto  byte
		off, n uint32
	}{{j.v4, unix.NFPROTO_IPV4, 12, 4}, {j.net4, unix.NFPROTO_IPV4, 12, 4}, {j.v6, unix.NFPROTO_IPV6, 8, 16}, {j.net6, unix.NFPROTO_IPV6, 8, 16}} {
		j.t.conn.AddRule(&nftables.Rule{Table: j.t.table, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{r.proto}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: r.off, Len: r.n},
			&expr.Lookup{SourceRegister: 1, SetName: r.s.Name, SetID: r.s.ID},
			&expr.Counter{},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
}

// Netlink bounds: the element list of one message is a 16-bit-length
// attribute (about 2,000 addresses), and one send must stay under the
// socket's limit.
const (
	maxPerMessage     = 1024
	maxPerTransaction = 4 * maxPerMessage
)

// add queues the elements as messages of maxPerMessage and sends a
// transaction every maxPerTransaction.
func (j *Jail) add(s *nftables.Set, els []nftables.SetElement) error {
	var errs []error
	pending := 0
	for len(els) > 0 {
		n := min(len(els), maxPerMessage)
		if err := j.t.conn.SetAddElements(s, els[:n]); err != nil {
			errs = append(errs, err)
		}
		els, pending = els[n:], pending+n
		if pending >= maxPerTransaction || len(els) == 0 {
			if err := j.t.conn.Flush(); err != nil {
				errs = append(errs, err)
			}
			pending = 0
		}
	}
	return errors.Join(errs...)
}

// Ban is one ban: an address or prefix and when it ends (zero: never).
type Ban = jail.PrefixBan

func (j *Jail) set(p netip.Prefix) *nftables.Set {
	exact := p.Bits() == p.Addr().BitLen()
	switch {
	case p.Addr().Is4() && exact:
		return j.v4
	case p.Addr().Is4():
		return j.net4
	case exact:
		return j.v6
	default:
		return j.net6
	}
}

func elements(p netip.Prefix, timeout time.Duration) []nftables.SetElement {
	if p.Bits() == p.Addr().BitLen() {
		return []nftables.SetElement{{Key: p.Addr().AsSlice(), Timeout: timeout}}
	}
	start := p.Masked().Addr()
	end := lastAddr(p).Next()
	els := []nftables.SetElement{{Key: start.AsSlice(), Timeout: timeout}}
	if end.IsValid() {
		els = append(els, nftables.SetElement{Key: end.AsSlice(), IntervalEnd: true})
	}
	return els
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func normalize(p netip.Prefix) (netip.Prefix, error) {
	c, ok := netaddr.Canonical(p)
	if !ok {
		return p, fmt.Errorf("nftables: invalid prefix %v", p)
	}
	return c, nil
}

// Ban adds bans in one transaction, each timing out at its end.
func (j *Jail) Ban(bans []Ban, now time.Time) error {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	groups := map[*nftables.Set][]nftables.SetElement{}
	var errs []error
	for _, b := range bans {
		p, err := normalize(b.Prefix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var timeout time.Duration
		if !b.End.IsZero() {
			if timeout = b.End.Sub(now); timeout < time.Millisecond {
				continue // already over
			}
		}
		s := j.set(p)
		groups[s] = append(groups[s], elements(p, timeout)...)
	}
	for s, els := range groups {
		if err := j.add(s, els); err != nil {
			errs = append(errs, fmt.Errorf("nftables ban: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Unban deletes bans, in transactions of up to maxPerTransaction
// elements. An element that timed out meanwhile fails its whole
// transaction; that chunk is then deleted one ban at a time, skipping the
// ones already gone.
func (j *Jail) Unban(prefixes []netip.Prefix) error {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	groups := map[*nftables.Set][][]nftables.SetElement{}
	for _, p := range prefixes {
		p, err := normalize(p)
		if err != nil {
			return err
		}
		s := j.set(p)
		groups[s] = append(groups[s], elements(p, 0))
	}
	for s, bans := range groups {
		for len(bans) > 0 {
			n := min(len(bans), maxPerTransaction/2) // a prefix is two elements
			if err := j.delete(s, bans[:n]); err != nil {
				for _, b := range bans[:n] {
					if err := j.delete(s, [][]nftables.SetElement{b}); err != nil && !errors.Is(err, unix.ENOENT) {
						return fmt.Errorf("nftables unban: %w", err)
					}
				}
			}
			bans = bans[n:]
		}
	}
	return nil
}

// delete deletes bans' elements in one transaction.
func (j *Jail) delete(s *nftables.Set, bans [][]nftables.SetElement) error {
	var els []nftables.SetElement
	for _, b := range bans {
		els = append(els, b...)
	}
	for len(els) > 0 {
		n := min(len(els), maxPerMessage)
		if err := j.t.conn.SetDeleteElements(s, els[:n]); err != nil {
			return err
		}
		els = els[n:]
	}
	return j.t.conn.Flush()
}

// Flush empties the jail's sets.
func (j *Jail) Flush() error {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	for _, s := range []*nftables.Set{j.v4, j.v6, j.net4, j.net6} {
		j.t.conn.FlushSet(s)
	}
	if err := j.t.conn.Flush(); err != nil {
		return fmt.Errorf("nftables flush: %w", err)
	}
	return nil
}

// Banned lists the jail's elements with the time they have left.
func (j *Jail) Banned() (map[netip.Prefix]time.Duration, error) {
	j.t.mu.Lock()
	defer j.t.mu.Unlock()
	out := map[netip.Prefix]time.Duration{}
	for _, s := range []*nftables.Set{j.v4, j.v6} {
		els, err := j.t.conn.GetSetElements(s)
		if err != nil {
			return nil, fmt.Errorf("nftables: %w", err)
		}
		for _, e := range els {
			if a, ok := netip.AddrFromSlice(e.Key); ok {
				out[netip.PrefixFrom(a, a.BitLen())] = e.Expires
			}
		}
	}
	return out, nil
}
