// Package jail turns failures into bans as fail2ban's jails do: it counts
// failures per id (jail/failtable), skips ignored ids (jail/ignore), bans
// at maxretry within findtime with fail2ban's bantime.increment
// (jail/bantime), hands bans and unbans to the actions in batches, has the
// shared scheduler (jail/schedule) unban on time, and records bans in the
// store.
package jail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/f2bx/f2bx/clock"
	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/internal/netaddr"
	"github.com/f2bx/f2bx/jail/bantime"
	"github.com/f2bx/f2bx/jail/failtable"
	"github.com/f2bx/f2bx/jail/ignore"
	"github.com/f2bx/f2bx/jail/schedule"
	"github.com/f2bx/f2bx/store"
)

// Failure is one failure found by a filter.
type Failure struct {
	// ID is the address (or <F-ID> text).
	ID string
	// Addr, when valid, is ID parsed, ID being its canonical text (as
	// netaddr.String writes it): Add then does not parse ID.
	Addr netip.Addr
	// Time is the log time of the failure.
	Time    time.Time
	Fields  *fields.Set
	Matches []string
	// Lent marks a failure whose texts and fields are borrowed, valid only
	// during Add (filter.Group.Lend): the jail keeps copies. Otherwise it
	// keeps them as they are.
	Lent bool
}

// Ticket is a ban handed to the actions.
type Ticket struct {
	Jail string
	ID   string
	// Addr is set when the id is an address.
	Addr netip.Addr
	// Time is the ticket time: the log time of the last failure (Unix
	// seconds). The ban ends BanTime after it (after Seen, when set).
	Time float64
	// Seen, when not zero, is when the daemon decided the ban, within the
	// second of Time (see banStart): the ban ends BanTime after Seen. Time
	// stays the log time, as the actions and the database see it.
	Seen float64
	// BanTime is in seconds, -1 for a permanent ban.
	BanTime  float64
	Count    int
	Failures int
	Matches  []string
	Fields   *fields.Set
	// Restored marks a ban read back from the database at start.
	Restored bool
}

// End is when the ban ends; false for a permanent ban.
func (t *Ticket) End() (time.Time, bool) {
	if t.BanTime < 0 {
		return time.Time{}, false
	}
	return unixTime(t.start() + t.BanTime), true
}

// start is when the ban's time runs from: Seen, else Time.
func (t *Ticket) start() float64 {
	if t.Seen != 0 {
		return t.Seen
	}
	return t.Time
}

// Prefix is what a backend bans for the ticket: its address, or with
// v6bits > 0 the /v6bits prefix of an IPv6 address; false when the id is
// not an address.
func (t *Ticket) Prefix(v6bits int) (netip.Prefix, bool) {
	if !t.Addr.IsValid() {
		return netip.Prefix{}, false
	}
	a := t.Addr.Unmap()
	bits := a.BitLen()
	if a.Is6() && v6bits > 0 {
		bits = v6bits
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}

// PrefixBan is a ban as the enforcement backends take it: the banned
// address or prefix and when the ban ends (zero: never).
type PrefixBan struct {
	Prefix netip.Prefix
	End    time.Time
}

// PrefixBans converts a batch for the backends (IPv6 addresses widened
// to v6bits when it is above zero); tickets without an address are left
// out. A ban's End is its ticket's end plus EndGrace.
func PrefixBans(batch []*Ticket, v6bits int) []PrefixBan {
	bans := make([]PrefixBan, 0, len(batch))
	for _, tk := range batch {
		if p, ok := tk.Prefix(v6bits); ok {
			end, ok := tk.End()
			if ok {
				end = end.Add(EndGrace)
			}
			bans = append(bans, PrefixBan{Prefix: p, End: end})
		}
	}
	return bans
}

// EndGrace is how long past a ticket's end a backend that expires bans
// itself (XDP, nftables timeouts) keeps the ban. The jail unbans at the
// end; a ban hit again meanwhile is prolonged in the backends only when
// its old end comes (Expired), and the grace covers the time that news
// takes to reach them. If the daemon dies, its bans end at most this much
// later.
const EndGrace = 10 * time.Second

// Prefixes is the batch's banned prefixes, as PrefixBans.
func Prefixes(batch []*Ticket, v6bits int) []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(batch))
	for _, tk := range batch {
		if p, ok := tk.Prefix(v6bits); ok {
			ps = append(ps, p)
		}
	}
	return ps
}

func unixTime(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9))
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Actions carry out bans and unbans, a batch per call.
type Actions interface {
	Ban(ctx context.Context, batch []*Ticket) error
	Unban(ctx context.Context, batch []*Ticket) error
}

// Prolonger is implemented by actions that must hear when a ban's end
// moves later (an XDP map value or an nftables element carries the end).
type Prolonger interface {
	Prolong(ctx context.Context, batch []*Ticket) error
}

// Key names a ban in the shared scheduler.
type Key struct {
	Jail, ID string
}

// Config is a jail's rules.
type Config struct {
	Name       string
	MaxRetry   int
	FindTime   time.Duration
	BanTime    time.Duration // negative: permanent
	MaxMatches int
	// Increment is nil when bantime.increment is off.
	Increment    *bantime.Increment
	OverallJails bool
	// Cap is the most ids the failure table tracks (0: failtable.DefaultCap).
	Cap int
}

// Deps are the jail's collaborators.
type Deps struct {
	Clock   clock.Clock
	Log     *slog.Logger
	Ignore  *ignore.List
	Actions Actions
	// Scheduler is shared by the jails; the daemon routes its due keys to
	// the jail's Expired.
	Scheduler *schedule.Scheduler[Key]
	// History is shared by the jails (ban counts).
	History *History
	// Store is nil without a database.
	Store *store.Writer
}

// QueueLen bounds the ban and unban queues: when the actions fall behind
// by this much, adding failures blocks (backpressure).
const QueueLen = 65536

// MaxBatch is the most tickets handed to the actions at once.
const MaxBatch = 4096

// Jail counts failures and bans.
type Jail struct {
	cfg   Config
	rules rules // maxretry, findtime and bantime, changeable while running
	d     Deps
	log   *slog.Logger
	addrs *failtable.Table[netip.Addr]
	other *failtable.Table[string]

	banned *banList

	bans     chan *Ticket
	unbans   chan *Ticket
	prolongs chan *Ticket // nil when the actions do not prolong
	prolong  func(context.Context, []*Ticket) error
}

// New returns a jail; Run carries out its bans.
func New(c Config, d Deps) (*Jail, error) {
	if c.Name == "" || c.MaxRetry <= 0 {
		return nil, fmt.Errorf("jail %q: a name and maxretry > 0 are required", c.Name)
	}
	if d.Clock == nil || d.Actions == nil || d.Scheduler == nil || d.History == nil {
		return nil, fmt.Errorf("jail %s: Clock, Actions, Scheduler and History are required", c.Name)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	tc := failtable.Config{MaxRetry: c.MaxRetry, FindTime: c.FindTime.Seconds(), MaxMatches: c.MaxMatches, Cap: c.Cap}
	small := tc
	small.Shards, small.Cap = 4, min(c.Cap, 65536)
	if small.Cap <= 0 {
		small.Cap = 65536
	}
	j := &Jail{cfg: c, d: d, log: d.Log.With("jail", c.Name),
		addrs: failtable.New[netip.Addr](tc), other: failtable.New[string](small),
		banned: newBanList(),
		bans:   make(chan *Ticket, QueueLen), unbans: make(chan *Ticket, QueueLen)}
	if p, ok := d.Actions.(Prolonger); ok {
		j.prolongs, j.prolong = make(chan *Ticket, QueueLen), p.Prolong
	}
	j.rules.set(c.MaxRetry, c.FindTime, c.BanTime)
	return j, nil
}

// Name is the jail's name.
func (j *Jail) Name() string { return j.cfg.Name }

// TakeFailures copies the failure counts of old (the same jail before a
// reload) into j, as fail2ban keeps a jail's failures across a reload;
// the new rules judge them from the next failure on. It returns how many
// ids were carried over.
func (j *Jail) TakeFailures(old *Jail) int {
	return carry(old.addrs, j.addrs) + carry(old.other, j.other)
}

// carry puts the entries of from into to, least recently failed first, so
// that to evicts them in the same order.
func carry[K comparable](from, to *failtable.Table[K]) int {
	type kv struct {
		k K
		e failtable.Entry
	}
	var all []kv
	from.Range(func(k K, e failtable.Entry) bool {
		all = append(all, kv{k, e})
		return true
	})
	for i := len(all) - 1; i >= 0; i-- {
		to.Put(all[i].k, all[i].e)
	}
	return len(all)
}

// Add counts failures; those that reach maxretry become bans, queued for
// the actions. Addresses are counted as one batch (failtable.AddBatch).
func (j *Jail) Add(ctx context.Context, fs []Failure) {
	b := addPool.Get().(*addBatch)
	defer addPool.Put(b)
	b.keys, b.fails, b.idx, b.bans = b.keys[:0], b.fails[:0], b.idx[:0], b.bans[:0]
	for i := range fs {
		f := &fs[i]
		a := f.Addr
		if !a.IsValid() {
			var err error
			if a, err = netip.ParseAddr(f.ID); err == nil {
				a = a.Unmap()
				f.ID = netaddr.String(a, f.ID)
			}
		}
		if j.d.Ignore != nil {
			if src, ok := j.d.Ignore.IgnoredAddr(ctx, a, f.ID, f.Fields); ok {
				if j.log.Enabled(ctx, slog.LevelDebug) {
					j.log.Debug("ignore", "id", f.ID, "by", string(src))
				}
				continue
			}
		}
		ff := failtable.Failure{Time: seconds(f.Time), Fields: f.Fields, Matches: f.Matches, Lent: f.Lent}
		if !a.IsValid() {
			id := f.ID
			if f.Lent {
				id = strings.Clone(id) // the table may keep it
			}
			if e, ban := j.other.Add(id, ff); ban {
				b.bans = append(b.bans, pending{i, netip.Addr{}, e})
			}
			continue
		}
		b.keys = append(b.keys, a)
		b.fails = append(b.fails, ff)
		b.idx = append(b.idx, i)
	}
	j.addrs.AddBatch(b.keys, b.fails, func(k int, e failtable.Entry) {
		b.bans = append(b.bans, pending{b.idx[k], b.keys[k], e})
	})
	if j.cfg.Increment != nil {
		// fail2ban's observer, which runs after the filter has counted.
		for k, i := range b.idx {
			if e, ban := j.observe(b.keys[k], fs[i].ID, b.fails[k].Time); ban {
				b.bans = append(b.bans, pending{i, b.keys[k], e})
			}
		}
	}
	for _, p := range b.bans {
		if tk := j.ban(ctx, fs[p.i].ID, p.addr, p.e, &b.done); tk != nil {
			b.queued = append(b.queued, tk)
		}
	}
	j.queue(ctx, j.bans, b.queued)
	if len(b.queued) > 0 {
		// The jail's goroutine is next on this P: let it carry the bans
		// out now, not after the caller's next batch of lines.
		runtime.Gosched()
	}
	j.record(ctx, b.done)
	clear(b.done)
	b.done = b.done[:0]
	clear(b.fails) // drop the fields and matches the pool would keep
	clear(b.queued)
	b.queued = b.queued[:0]
}

type pending struct {
	i    int
	addr netip.Addr // zero for an id that is not an address
	e    failtable.Entry
}

// addBatch is Add's scratch space, reused.
type addBatch struct {
	keys   []netip.Addr
	fails  []failtable.Failure
	idx    []int
	bans   []pending
	queued []*Ticket
	done   []Ticket // the new bans as decided, for record
}

var addPool = sync.Pool{New: func() any { return new(addBatch) }}

// CanonicalID is an id as the jail keys it: an address in its canonical
// form (an IPv4-mapped IPv6 address unmapped), any other id as it is.
func CanonicalID(id string) string {
	if a, err := netip.ParseAddr(id); err == nil {
		return netaddr.String(a, id)
	}
	return id
}

// add counts one failure of an address a, or of id when a is the zero
// Addr.
func (j *Jail) add(a netip.Addr, id string, f failtable.Failure) (failtable.Entry, bool) {
	if a.IsValid() {
		return j.addrs.Add(a, f)
	}
	return j.other.Add(id, f)
}

// observe is fail2ban's observer for known-bad ids: a failure of an id
// banned n times before weighs 2^n/2+1 retries.
func (j *Jail) observe(a netip.Addr, id string, t float64) (failtable.Entry, bool) {
	count, timeOfBan, _, ok := j.d.History.Lookup(j.cfg.Name, id, false)
	if !ok {
		return failtable.Entry{}, false
	}
	if t <= float64(timeOfBan) {
		return failtable.Entry{}, false // already counted before that ban
	}
	retry := bantime.RetryFor(count, j.MaxRetry())
	if retry <= 1 {
		return failtable.Entry{}, false
	}
	j.log.Info("found bad", "id", id, "bancount", count, "retry", retry)
	return j.add(a, id, failtable.Failure{Time: t, Count: retry - 1, Observed: true})
}

func (j *Jail) banTime() float64 {
	if bt := j.BanTime(); bt >= 0 {
		return bt.Seconds()
	}
	return -1
}

// ban turns an entry that reached maxretry into a ban (addr: the id
// parsed, when it is an address) and returns its ticket for queue; nil
// when there is no new ban. A new ban is appended to done, for record
// once queued.
func (j *Jail) ban(ctx context.Context, id string, addr netip.Addr, e failtable.Entry, done *[]Ticket) *Ticket {
	tk := Ticket{Jail: j.cfg.Name, ID: id, Addr: addr, Time: e.Last, BanTime: j.banTime(), Count: 1, Failures: int(e.Failures)}
	now := seconds(j.d.Clock.Now())
	if tk.BanTime >= 0 && tk.Time+tk.BanTime < now {
		j.log.Info("ignore, expired bantime", "id", id)
		return nil
	}
	sh := j.banned.lock(id)
	if old, ok := sh.m[id]; ok {
		// Already banned: never queued again, but a later failure moves
		// the end of the ban, as fail2ban's ban manager does. Like
		// fail2ban, it calls no action now: under a flood a banned address
		// fails again and again. The scheduler keeps the old deadline;
		// Expired finds the ban prolonged, sets the new one and tells the
		// actions that carry the end (they keep a ban EndGrace past its
		// end, so that the news reaches them in time).
		if old.BanTime >= 0 {
			if tk.BanTime < 0 {
				old.BanTime = -1
			} else if tk.Time+tk.BanTime > old.start()+old.BanTime {
				old.BanTime = tk.BanTime + max(0, tk.Time-old.Time)
				old.Seen = 0
			}
		}
		sh.mu.Unlock()
		if j.log.Enabled(ctx, slog.LevelDebug) {
			j.log.Debug("already banned", "id", id)
		}
		return nil
	}
	// The id may be borrowed (see Failure): the ban keeps a copy.
	id = strings.Clone(id)
	tk.ID = id
	tk.Seen = banStart(tk.Time, now)
	if e.Data != nil {
		tk.Fields, tk.Matches = e.Data.Fields, e.Data.Matches
	}
	if in := j.cfg.Increment; in != nil {
		if count, _, _, ok := j.d.History.Lookup(j.cfg.Name, id, j.cfg.OverallJails); ok {
			tk.Count = max(tk.Count, count+1)
			tk.BanTime = in.Next(tk.BanTime, count)
		}
	}
	ptk := &tk
	*done = append(*done, tk) // as decided: a later failure may prolong ptk
	sh.m[id] = ptk
	j.banned.total.Add(1)
	if end, ok := tk.End(); ok {
		j.d.Scheduler.Set(Key{j.cfg.Name, id}, end)
	}
	sh.mu.Unlock()
	return ptk
}

// record notes new bans, once queued for the actions (enforcement goes
// first): in the history of bans, in the database, and in the log.
func (j *Jail) record(ctx context.Context, done []Ticket) {
	for i := range done {
		tk := &done[i]
		j.d.History.Record(j.cfg.Name, tk.ID, int64(math.Round(tk.Time)), tk.BanTime, tk.Count)
		if j.d.Store != nil {
			j.d.Store.AddBan(j.storeBan(tk))
		}
		j.log.Log(ctx, levelNotice, "Ban", "id", tk.ID, "bantime", tk.BanTime, "bancount", tk.Count)
	}
}

// banStart is when a new ban's time runs from (Ticket.Seen): now, when
// the last failure's log time is a whole second (log dates have a
// resolution of one second: fail2ban, and f2bx's filters, drop fractions)
// and the ban is decided within that second; zero otherwise (the log time
// counts). Without it every client of a flood banned in one second would
// get the same end and be unbanned at the same instant, all coming back
// at once, each renewed ban waiting behind all the others' lines. A ban
// thus ends less than a second later than fail2ban's would (which lifts
// bans about once a second), and a failure in the same second still does
// not prolong it.
func banStart(last, now float64) float64 {
	if now > last && now < last+1 && last == math.Trunc(last) {
		return now
	}
	return 0
}

// queue hands tickets to the jail's goroutine (Run) through q (its bans,
// unbans or prolongs) back to back: it wakes once and carries them out as one
// batch, rather than waking for each ban while the caller decides the
// next.
func (j *Jail) queue(ctx context.Context, q chan<- *Ticket, tks []*Ticket) {
	for _, tk := range tks {
		select {
		case q <- tk:
		case <-ctx.Done():
			return
		}
	}
}

func (j *Jail) storeBan(tk *Ticket) store.Ban {
	data := map[string]any{"failures": tk.Failures}
	if len(tk.Matches) > 0 {
		data["matches"] = tk.Matches
	}
	for k, v := range tk.Fields.All() {
		if _, ok := data[k]; !ok {
			data[k] = v
		}
	}
	return store.Ban{Jail: tk.Jail, ID: tk.ID, Time: int64(math.Round(tk.Time)), BanTime: tk.BanTime, Count: tk.Count, Data: data}
}

// BanManually bans ids now, as fail2ban's "banip": an ignored id is
// banned too (the administrator knows best), with a warning.
func (j *Jail) BanManually(ctx context.Context, ids []string) error {
	var errs []error
	now := seconds(j.d.Clock.Now())
	var queued []*Ticket
	var done []Ticket
	for _, id := range ids {
		a, err := netip.ParseAddr(id)
		if err == nil {
			a = a.Unmap()
			id = netaddr.String(a, id)
		} else if id == "" {
			errs = append(errs, errors.New("empty id"))
			continue
		}
		if j.d.Ignore != nil {
			if _, ok := j.d.Ignore.IgnoredAddr(ctx, a, id, nil); ok {
				j.log.Warn("requested to manually ban an ignored address; proceeding", "id", id)
			}
		}
		if e, ban := j.add(a, id, failtable.Failure{Time: now, Count: j.MaxRetry()}); ban {
			if tk := j.ban(ctx, id, a, e, &done); tk != nil {
				queued = append(queued, tk)
			}
		}
	}
	j.queue(ctx, j.bans, queued)
	j.record(ctx, done)
	return errors.Join(errs...)
}

// Unban lifts the bans of ids now (a manual unban) and forgets them in
// the database; it returns the ids that were not banned.
func (j *Jail) Unban(ctx context.Context, ids []string) (notBanned []string) {
	var done []string
	var out []*Ticket
	for _, id := range ids {
		id = CanonicalID(id)
		sh := j.banned.lock(id)
		tk, ok := sh.m[id]
		if ok {
			delete(sh.m, id)
		}
		sh.mu.Unlock()
		if !ok {
			notBanned = append(notBanned, id)
			continue
		}
		j.d.Scheduler.Remove(Key{j.cfg.Name, id})
		out = append(out, tk)
		done = append(done, id)
	}
	for _, id := range done {
		j.d.History.Forget(j.cfg.Name, id)
	}
	if j.d.Store != nil && len(done) > 0 {
		j.d.Store.DelBans(j.cfg.Name, done)
	}
	j.queue(ctx, j.unbans, out)
	return notBanned
}

// UnbanAll lifts every ban of the jail and forgets them in the database.
func (j *Jail) UnbanAll(ctx context.Context) int {
	var out []*Ticket
	j.banned.each(func(m map[string]*Ticket) {
		for id, tk := range m {
			j.d.Scheduler.Remove(Key{j.cfg.Name, id})
			out = append(out, tk)
			delete(m, id)
		}
	})
	j.d.History.Forget(j.cfg.Name, "")
	if j.d.Store != nil {
		j.d.Store.DelBans(j.cfg.Name, nil)
	}
	j.queue(ctx, j.unbans, out)
	return len(out)
}

// Expired is called with the ids whose ban the scheduler found ended.
func (j *Jail) Expired(ctx context.Context, ids []string) {
	now := j.d.Clock.Now()
	var out, prolonged []*Ticket
	for _, id := range ids {
		sh := j.banned.lock(id)
		tk, ok := sh.m[id]
		if !ok {
			sh.mu.Unlock()
			continue
		}
		if end, ok := tk.End(); !ok || end.After(now) {
			// Prolonged since: schedule again, and tell the actions (a
			// copy: tk changes under the lock only).
			if ok {
				j.d.Scheduler.Set(Key{j.cfg.Name, id}, end)
			}
			if j.prolongs != nil {
				cp := *tk
				prolonged = append(prolonged, &cp)
			}
			sh.mu.Unlock()
			continue
		}
		delete(sh.m, id)
		sh.mu.Unlock()
		out = append(out, tk)
	}
	for _, tk := range out {
		j.log.Log(ctx, levelNotice, "Unban", "id", tk.ID)
	}
	j.queue(ctx, j.unbans, out)
	j.queue(ctx, j.prolongs, prolonged)
}

// Restore puts back the bans read from the database at start, before any
// log is read: each keeps its end; those that ended meanwhile, and
// ignored ids, are dropped. Ban times are corrected as fail2ban does: to
// at most the jail's ban time (without increment) or bantime.maxtime.
func (j *Jail) Restore(ctx context.Context, bans []store.Ban) (restored int) {
	now := seconds(j.d.Clock.Now())
	correct := j.banTime()
	if j.cfg.Increment != nil {
		correct = j.cfg.Increment.MaxTime()
	}
	for _, b := range bans {
		if b.Jail != j.cfg.Name {
			continue
		}
		bt := b.BanTime
		if bt == 0 { // fail2ban's rows without a ban time
			bt = j.banTime()
		}
		if j.cfg.Increment == nil && j.banTime() >= 0 && float64(b.Time) <= now-j.banTime() {
			continue // fail2ban's forbantime: older than the jail's ban time
		}
		if correct >= 0 && (bt < 0 || bt > correct) {
			bt = correct
		}
		if bt >= 0 && float64(b.Time)+bt <= now {
			continue
		}
		if j.d.Ignore != nil {
			if _, ok := j.d.Ignore.Ignored(ctx, b.ID, nil); ok {
				continue
			}
		}
		tk := &Ticket{Jail: j.cfg.Name, ID: b.ID, Time: float64(b.Time), BanTime: bt, Count: b.Count, Restored: true}
		if a, err := netip.ParseAddr(b.ID); err == nil {
			tk.Addr = a.Unmap()
		}
		if m, ok := b.Data["matches"].([]any); ok {
			for _, l := range m {
				if s, ok := l.(string); ok {
					tk.Matches = append(tk.Matches, s)
				}
			}
		}
		sh := j.banned.lock(b.ID)
		if _, dup := sh.m[b.ID]; dup {
			sh.mu.Unlock()
			continue
		}
		sh.m[b.ID] = tk
		j.banned.total.Add(1)
		if end, ok := tk.End(); ok {
			j.d.Scheduler.Set(Key{j.cfg.Name, b.ID}, end)
		}
		sh.mu.Unlock()
		restored++
		select {
		case j.bans <- tk:
		case <-ctx.Done():
			return restored
		}
	}
	return restored
}

// Run hands queued bans and unbans to the actions in batches and does
// the jail's housekeeping (forgetting old failures every 5 s, as fail2ban)
// until ctx ends; then it hands over what is still queued.
func (j *Jail) Run(ctx context.Context) {
	tick := j.d.Clock.NewTimer(5 * time.Second)
	for {
		select {
		case <-ctx.Done():
			tick.Stop()
			j.drain(context.WithoutCancel(ctx))
			return
		case tk := <-j.bans:
			j.flush(ctx, j.bans, tk, j.d.Actions.Ban, "ban")
		case tk := <-j.unbans:
			j.flush(ctx, j.unbans, tk, j.d.Actions.Unban, "unban")
		case tk := <-j.prolongs:
			j.flush(ctx, j.prolongs, tk, j.prolong, "prolong")
		case <-tick.C():
			j.Housekeep(ctx)
			tick = j.d.Clock.NewTimer(5 * time.Second)
		}
	}
}

// Housekeep forgets failures older than findtime and re-reads changed
// ignore files.
func (j *Jail) Housekeep(ctx context.Context) {
	now := seconds(j.d.Clock.Now())
	j.addrs.Expire(now)
	j.other.Expire(now)
	if j.d.Ignore != nil {
		if err := j.d.Ignore.Refresh(ctx); err != nil {
			j.log.Warn("ignoreip", "err", err)
		}
	}
}

func (j *Jail) flush(ctx context.Context, q chan *Ticket, first *Ticket, do func(context.Context, []*Ticket) error, what string) {
	batch := []*Ticket{first}
more:
	for len(batch) < MaxBatch {
		select {
		case tk := <-q:
			batch = append(batch, tk)
		default:
			break more
		}
	}
	if err := do(ctx, batch); err != nil {
		j.log.Error("action failed", "what", what, "count", len(batch), "err", err)
	}
}

func (j *Jail) drain(ctx context.Context) {
	for {
		select {
		case tk := <-j.bans:
			j.flush(ctx, j.bans, tk, j.d.Actions.Ban, "ban")
		case tk := <-j.unbans:
			j.flush(ctx, j.unbans, tk, j.d.Actions.Unban, "unban")
		case tk := <-j.prolongs:
			j.flush(ctx, j.prolongs, tk, j.prolong, "prolong")
		default:
			return
		}
	}
}

// Status is what fail2ban's "status <jail>" reports.
type Status struct {
	CurrentlyFailed, TotalFailed int
	CurrentlyBanned, TotalBanned int
	Evicted                      uint64
	Banned                       []string
}

// Status returns the jail's counters and banned ids.
func (j *Jail) Status() Status {
	s := j.Counts()
	s.Banned = make([]string, 0, s.CurrentlyBanned)
	j.banned.each(func(m map[string]*Ticket) {
		for id := range m {
			s.Banned = append(s.Banned, id)
		}
	})
	s.CurrentlyBanned = len(s.Banned)
	sort.Strings(s.Banned)
	return s
}

// Counts is Status without the list of banned ids: what a metrics scrape
// reads, at a cost that does not grow with the bans.
func (j *Jail) Counts() Status {
	a, o := j.addrs.Stats(), j.other.Stats()
	s := Status{CurrentlyFailed: a.Tracked + o.Tracked, TotalFailed: int(a.Failures + o.Failures), Evicted: a.Evicted + o.Evicted}
	s.TotalBanned = int(j.banned.total.Load())
	j.banned.each(func(m map[string]*Ticket) { s.CurrentlyBanned += len(m) })
	return s
}

// Banned returns the ticket of a banned id.
func (j *Jail) Banned(id string) (Ticket, bool) {
	tk, ok := j.banned.get(CanonicalID(id))
	if !ok {
		return Ticket{}, false
	}
	return *tk, true
}
