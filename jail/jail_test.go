package jail

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/f2bx/f2bx/clock"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/filter/fields"
	"github.com/f2bx/f2bx/jail/bantime"
	"github.com/f2bx/f2bx/jail/ignore"
	"github.com/f2bx/f2bx/jail/schedule"
	"github.com/f2bx/f2bx/store"
)

// fakeActions records the batches it is given.
type fakeActions struct {
	mu     sync.Mutex
	events chan string
}

func (f *fakeActions) record(what string, b []*Ticket) error {
	var ids []string
	for _, t := range b {
		ids = append(ids, t.ID)
	}
	sort.Strings(ids)
	f.events <- what + " " + strings.Join(ids, ",")
	return nil
}

func (f *fakeActions) Ban(_ context.Context, b []*Ticket) error   { return f.record("ban", b) }
func (f *fakeActions) Unban(_ context.Context, b []*Ticket) error { return f.record("unban", b) }

type harness struct {
	t     *testing.T
	clock *clock.Fake
	jail  *Jail
	acts  *fakeActions
	sched *schedule.Scheduler[Key]
	hist  *History
	ctx   context.Context
}

var t0 = time.Unix(1_700_000_000, 0)

func newHarness(t *testing.T, c Config, mod func(*Deps)) *harness {
	h := &harness{t: t, clock: clock.NewFake(t0), acts: &fakeActions{events: make(chan string, 100)}, hist: NewHistory(nil)}
	var j *Jail
	h.sched = schedule.New[Key](h.clock, func(keys []Key) {
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		j.Expired(context.Background(), ids)
	})
	d := Deps{Clock: h.clock, Actions: h.acts, Scheduler: h.sched, History: h.hist}
	if mod != nil {
		mod(&d)
	}
	if c.Name == "" {
		c.Name = "sshd"
	}
	var err error
	if j, err = New(c, d); err != nil {
		t.Fatal(err)
	}
	h.jail = j
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.sched.Run(ctx) }()
	go func() { defer wg.Done(); j.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return h
}

func (h *harness) fail(id string, at time.Duration) {
	h.jail.Add(h.ctx, []Failure{{ID: id, Time: t0.Add(at), Matches: []string{"line from " + id}}})
}

func (h *harness) expect(want string) {
	h.t.Helper()
	select {
	case got := <-h.acts.events:
		if got != want {
			h.t.Fatalf("action %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no action, want %q", want)
	}
}

func (h *harness) quiet() {
	h.t.Helper()
	select {
	case got := <-h.acts.events:
		h.t.Fatalf("unexpected action %q", got)
	case <-time.After(30 * time.Millisecond):
	}
}

// expectAll waits for actions (in one batch or several) on every id.
func (h *harness) expectAll(what string, ids ...string) {
	h.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for len(want) > 0 {
		select {
		case got := <-h.acts.events:
			w, list, _ := strings.Cut(got, " ")
			if w != what {
				h.t.Fatalf("action %q, want %s of %v", got, what, ids)
			}
			for _, id := range strings.Split(list, ",") {
				delete(want, id)
			}
		case <-time.After(5 * time.Second):
			h.t.Fatalf("no %s of %v", what, want)
		}
	}
}

// advance moves the fake clock once the scheduler waits on its timer.
func (h *harness) advance(d time.Duration) {
	deadline := time.Now().Add(5 * time.Second)
	for h.clock.Timers() < 2 && time.Now().Before(deadline) { // jail housekeeping + scheduler
		time.Sleep(time.Millisecond)
	}
	h.clock.Advance(d)
}

func TestBanAtMaxRetryAndUnbanOnTime(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 3, FindTime: 10 * time.Minute, BanTime: 10 * time.Minute, MaxMatches: 3}, nil)
	h.fail("192.0.2.1", -30*time.Second)
	h.fail("192.0.2.1", -20*time.Second)
	h.quiet()
	h.fail("::ffff:192.0.2.1", -10*time.Second)
	h.expect("ban 192.0.2.1")
	tk, ok := h.jail.Banned("192.0.2.1")
	if !ok || tk.Failures != 3 || len(tk.Matches) != 3 || tk.Count != 1 || tk.Time != float64(t0.Unix()-10) {
		t.Fatalf("ticket %+v", tk)
	}
	// Counts is Status without the list.
	st, c := h.jail.Status(), h.jail.Counts()
	if st.CurrentlyBanned != 1 || len(st.Banned) != 1 || st.Banned[0] != "192.0.2.1" || c.Banned != nil {
		t.Fatalf("status %+v, counts %+v", st, c)
	}
	if st.Banned = nil; !reflect.DeepEqual(st, c) {
		t.Fatalf("status %+v, counts %+v", st, c)
	}
	// More failures of a banned address are never queued again.
	for i := range 5 {
		h.fail("192.0.2.1", time.Duration(-9+i)*time.Second)
	}
	h.quiet()
	// The ban ended 10 min after the last failure (t0-10s); the failures
	// above reached maxretry again at t0-7s, which prolongs it (fail2ban
	// moves the end of a ban that is hit again).
	tk, _ = h.jail.Banned("192.0.2.1")
	end, _ := tk.End()
	if want := t0.Add(-7*time.Second + 10*time.Minute); !end.Equal(want) {
		t.Fatalf("ban ends %v, want %v", end, want)
	}
	h.advance(10*time.Minute - 7*time.Second - time.Millisecond)
	h.quiet()
	h.advance(time.Millisecond)
	h.expect("unban 192.0.2.1")
	if s := h.jail.Status(); s.CurrentlyBanned != 0 || s.TotalBanned != 1 {
		t.Fatalf("status %+v", s)
	}
}

func TestFindTimeWindow(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 3, FindTime: time.Minute, BanTime: time.Hour}, nil)
	// Three failures over 10 minutes are a low rate: no ban.
	h.fail("192.0.2.2", -10*time.Minute)
	h.fail("192.0.2.2", -5*time.Minute)
	h.fail("192.0.2.2", 0)
	h.quiet()
}

func TestOldTicketIgnored(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 2, FindTime: time.Hour, BanTime: 10 * time.Minute}, nil)
	h.fail("192.0.2.3", -30*time.Minute)
	h.fail("192.0.2.3", -29*time.Minute)
	h.quiet() // the ban would have ended already
}

func TestIgnoredNeverBanned(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 1, FindTime: time.Hour, BanTime: time.Hour}, func(d *Deps) {
		l, err := ignore.New(context.Background(), ignore.Config{IgnoreIP: []string{"192.0.2.0/24"}}, ignore.Deps{Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		d.Ignore = l
	})
	h.fail("192.0.2.77", 0)
	h.quiet()
	h.fail("198.51.100.1", 0)
	h.expect("ban 198.51.100.1")
	// A manual ban of an ignored address proceeds (fail2ban: the user knows best).
	if err := h.jail.BanManually(h.ctx, []string{"192.0.2.77"}); err != nil {
		t.Fatal(err)
	}
	h.expect("ban 192.0.2.77")
}

func TestIncrementAndKnownBad(t *testing.T) {
	in, err := bantime.New(bantime.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Config{MaxRetry: 5, FindTime: time.Hour, BanTime: 10 * time.Minute, Increment: in}, nil)
	h.hist.Record("sshd", "192.0.2.4", t0.Unix()-86400, 600, 3)
	h.hist.Record("other", "192.0.2.5", t0.Unix()-86400, 600, 2)
	// Banned 3 times before: one failure weighs 2^3/2+1 = 5 = maxretry.
	h.fail("192.0.2.4", 0)
	h.expect("ban 192.0.2.4")
	tk, _ := h.jail.Banned("192.0.2.4")
	if tk.Count != 4 || tk.BanTime != 600*8 {
		t.Fatalf("ticket %+v, want count 4, bantime 4800", tk)
	}
	// Bans in another jail count only with overalljails.
	for i := range 5 {
		h.fail("192.0.2.5", time.Duration(i)*time.Second)
	}
	h.expect("ban 192.0.2.5")
	if tk, _ := h.jail.Banned("192.0.2.5"); tk.Count != 1 || tk.BanTime != 600 {
		t.Fatalf("ticket %+v", tk)
	}
	if c, _, bt, _ := h.hist.Lookup("sshd", "192.0.2.4", false); c != 4 || bt != 4800 {
		t.Fatalf("history %d %v", c, bt)
	}
}

func TestManualUnbanAndStore(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "f2bx.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := store.NewWriter(st, store.WriterConfig{Every: time.Hour, OnError: func(err error) { t.Error(err) }})
	h := newHarness(t, Config{MaxRetry: 1, FindTime: time.Hour, BanTime: -1}, func(d *Deps) { d.Store = w })
	if err := h.jail.BanManually(h.ctx, []string{"192.0.2.8", "2001:db8::8", "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	h.expectAll("ban", "192.0.2.8", "192.0.2.9", "2001:db8::8")
	if nb := h.jail.Unban(h.ctx, []string{"192.0.2.8", "192.0.2.99"}); fmt.Sprint(nb) != "[192.0.2.99]" {
		t.Fatalf("not banned: %v", nb)
	}
	h.expect("unban 192.0.2.8")
	w.Flush()
	cur, _ := st.CurrentBans(context.Background(), "sshd", float64(t0.Unix()+1e9))
	if len(cur) != 2 || cur[0].BanTime != -1 {
		t.Fatalf("stored %+v", cur)
	}
	if n := h.jail.UnbanAll(h.ctx); n != 2 {
		t.Fatalf("unban all: %d", n)
	}
	h.expectAll("unban", "192.0.2.9", "2001:db8::8")
	w.Flush()
	if cur, _ := st.CurrentBans(context.Background(), "", 0); len(cur) != 0 {
		t.Fatalf("stored after unban --all: %+v", cur)
	}
}

func TestRestore(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 3, FindTime: time.Hour, BanTime: time.Hour}, nil)
	now := t0.Unix()
	n := h.jail.Restore(h.ctx, []store.Ban{
		{Jail: "sshd", ID: "192.0.2.10", Time: now - 600, BanTime: 3600, Count: 1},  // 50 min left
		{Jail: "sshd", ID: "192.0.2.11", Time: now - 4000, BanTime: 3600, Count: 1}, // ended
		{Jail: "sshd", ID: "192.0.2.12", Time: now - 60, BanTime: -1, Count: 2},     // permanent, capped to the jail's 1h
		{Jail: "other", ID: "192.0.2.13", Time: now, BanTime: 3600, Count: 1},       // another jail's
	})
	if n != 2 {
		t.Fatalf("restored %d", n)
	}
	h.expectAll("ban", "192.0.2.10", "192.0.2.12")
	if tk, _ := h.jail.Banned("192.0.2.10"); !tk.Restored {
		t.Fatal("not marked restored")
	}
	h.advance(50*time.Minute - time.Millisecond)
	h.quiet()
	h.advance(time.Millisecond)
	h.expect("unban 192.0.2.10")
	h.advance(9 * time.Minute)
	h.expect("unban 192.0.2.12")
}

func TestFromConfig(t *testing.T) {
	maxTime := config.Duration(24 * time.Hour)
	c := config.Jail{Name: "sshd", MaxRetry: 5, FindTime: config.Duration(10 * time.Minute), BanTime: config.Duration(time.Hour),
		Increment: config.BanTimeIncrement{Enabled: true, Factor: "2", MaxTime: &maxTime}, IgnoreIP: []string{"10.0.0.0/8"}, IgnoreSelf: true}
	jc, ic, err := FromConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if jc.MaxRetry != 5 || jc.BanTime != time.Hour || jc.Increment == nil || jc.Increment.MaxTime() != 86400 || !ic.Self || ic.IgnoreIP[0] != "10.0.0.0/8" {
		t.Fatalf("%+v %+v", jc, ic)
	}
	if got := jc.Increment.Next(3600, 2); got != 3600*4*2 {
		t.Fatalf("increment %v", got)
	}
	c.Increment.Formula = "ban.Time * os.system('x')"
	if _, _, err := FromConfig(c); err == nil || !strings.Contains(err.Error(), "jail sshd: bantime.formula") {
		t.Fatalf("error %v", err)
	}
}

// TestRestartKeepsBans: bans written by one jail come back in the next
// one (a restart) with the end they had.
func TestRestartKeepsBans(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "f2bx.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := store.NewWriter(st, store.WriterConfig{OnError: func(err error) { t.Error(err) }})
	cfg := Config{MaxRetry: 2, FindTime: time.Hour, BanTime: time.Hour}
	first := newHarness(t, cfg, func(d *Deps) { d.Store = w })
	first.fail("192.0.2.20", -10*time.Minute)
	first.fail("192.0.2.20", -5*time.Minute)
	first.expect("ban 192.0.2.20")
	w.Close()

	// 20 minutes later, a new daemon: the ban has 35 minutes left.
	second := newHarness(t, cfg, nil)
	second.clock.Advance(20 * time.Minute)
	bans, err := st.CurrentBans(context.Background(), "", float64(second.clock.Now().Unix()))
	if err != nil {
		t.Fatal(err)
	}
	if n := second.jail.Restore(second.ctx, bans); n != 1 {
		t.Fatalf("restored %d", n)
	}
	second.expect("ban 192.0.2.20")
	second.advance(35*time.Minute - time.Millisecond)
	second.quiet()
	second.advance(time.Millisecond)
	second.expect("unban 192.0.2.20")
}

func TestAcrossJails(t *testing.T) {
	a := newHarness(t, Config{Name: "sshd", MaxRetry: 1, FindTime: time.Hour, BanTime: time.Hour}, nil)
	b := newHarness(t, Config{Name: "nginx", MaxRetry: 1, FindTime: time.Hour, BanTime: time.Hour}, nil)
	js := Jails{a.jail, b.jail}
	a.jail.BanManually(a.ctx, []string{"192.0.2.30", "192.0.2.31"})
	a.expectAll("ban", "192.0.2.30", "192.0.2.31")
	b.jail.BanManually(b.ctx, []string{"192.0.2.30"})
	b.expect("ban 192.0.2.30")
	if nb := js.Unban(context.Background(), []string{"192.0.2.30", "192.0.2.99"}); fmt.Sprint(nb) != "[192.0.2.99]" {
		t.Fatalf("not banned %v", nb)
	}
	a.expect("unban 192.0.2.30")
	b.expect("unban 192.0.2.30")
	if n := js.UnbanAll(context.Background()); n != 1 {
		t.Fatalf("unban --all lifted %d", n)
	}
	a.expect("unban 192.0.2.31")
	if j, ok := js.Get("nginx"); !ok || j != b.jail {
		t.Fatal("get")
	}
}

// prolongingActions also hear of prolonged bans.
type prolongingActions struct {
	*fakeActions
	ends chan float64
}

func (p *prolongingActions) Prolong(_ context.Context, b []*Ticket) error {
	for _, tk := range b {
		p.ends <- tk.Time + tk.BanTime
	}
	return p.record("prolong", b)
}

// TestProlongReachesActions: a ban hit again moves its end at once, but,
// as fail2ban, calls no action then: actions that carry the end (XDP,
// nftables) are told the new one when the old one comes, once however
// often the ban was hit, and unban at the new end.
func TestProlongReachesActions(t *testing.T) {
	pa := &prolongingActions{fakeActions: &fakeActions{events: make(chan string, 100)}, ends: make(chan float64, 10)}
	h := newHarness(t, Config{MaxRetry: 2, FindTime: 10 * time.Minute, BanTime: 10 * time.Minute}, func(d *Deps) { d.Actions = pa })
	h.acts = pa.fakeActions
	h.fail("192.0.2.9", -60*time.Second)
	h.fail("192.0.2.9", -50*time.Second)
	h.expect("ban 192.0.2.9")
	h.fail("192.0.2.9", -40*time.Second)
	h.fail("192.0.2.9", -30*time.Second)
	h.fail("192.0.2.9", -20*time.Second)
	h.fail("192.0.2.9", -10*time.Second)
	h.quiet()
	if tk, _ := h.jail.Banned("192.0.2.9"); tk.Time+tk.BanTime != float64(t0.Unix()-10+600) {
		t.Fatalf("ban ends at %v, want %v", tk.Time+tk.BanTime, t0.Unix()-10+600)
	}
	h.advance(10*time.Minute - 50*time.Second) // the old end
	h.expect("prolong 192.0.2.9")
	if end := <-pa.ends; end != float64(t0.Unix()-10+600) {
		t.Errorf("prolonged to %v, want %v", end, t0.Unix()-10+600)
	}
	h.quiet()
	h.advance(40 * time.Second) // the new end
	h.expect("unban 192.0.2.9")
	h.quiet()
}

// The backends keep a ban EndGrace past its ticket's end; a ban without
// end has none there either.
func TestPrefixBansEndWithGrace(t *testing.T) {
	tk := &Ticket{ID: "192.0.2.1", Addr: netip.MustParseAddr("192.0.2.1"), Time: 1000, BanTime: 60}
	forever := &Ticket{ID: "192.0.2.2", Addr: netip.MustParseAddr("192.0.2.2"), Time: 1000, BanTime: -1}
	bans := PrefixBans([]*Ticket{tk, forever}, 0)
	if len(bans) != 2 || !bans[0].End.Equal(time.Unix(1060, 0).Add(EndGrace)) || !bans[1].End.IsZero() {
		t.Errorf("bans %+v", bans)
	}
}

// TestSetRules: maxretry, findtime and bantime changed while the jail runs
// apply to the next failures and bans.
func TestSetRules(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 5, FindTime: 10 * time.Minute, BanTime: 10 * time.Minute}, nil)
	if err := h.jail.SetMaxRetry(0); err == nil {
		t.Fatal("maxretry 0 accepted")
	}
	if err := h.jail.SetMaxRetry(2); err != nil {
		t.Fatal(err)
	}
	h.jail.SetBanTime(time.Hour)
	if h.jail.MaxRetry() != 2 || h.jail.BanTime() != time.Hour {
		t.Fatalf("rules %d %v", h.jail.MaxRetry(), h.jail.BanTime())
	}
	h.fail("192.0.2.9", -2*time.Second)
	h.fail("192.0.2.9", -time.Second)
	h.expect("ban 192.0.2.9")
	if tk, _ := h.jail.Banned("192.0.2.9"); tk.BanTime != 3600 {
		t.Fatalf("ban time %v, want 3600", tk.BanTime)
	}
	// A findtime of 1 s: two failures 5 s apart no longer ban.
	if err := h.jail.SetFindTime(time.Second); err != nil {
		t.Fatal(err)
	}
	h.fail("192.0.2.10", -6*time.Second)
	h.fail("192.0.2.10", -time.Second)
	h.quiet()
}

// A failure that comes with its address parsed counts with the same
// address as one whose id Add parses: an address given unmapped, and an
// id written otherwise, meet in one count.
func TestAddTakesParsedAddr(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 3, FindTime: 10 * time.Minute, BanTime: 10 * time.Minute}, nil)
	a := netip.MustParseAddr("2001:db8::1")
	h.jail.Add(h.ctx, []Failure{{ID: "2001:db8::1", Addr: a, Time: t0.Add(-3 * time.Second)}})
	h.fail("2001:DB8:0::1", -2*time.Second)
	h.quiet()
	h.jail.Add(h.ctx, []Failure{{ID: "2001:db8::1", Addr: a, Time: t0.Add(-time.Second)}})
	h.expect("ban 2001:db8::1")
	if _, ok := h.jail.Banned("2001:db8::1"); !ok {
		t.Fatal("not banned under its canonical id")
	}
}

// The ban list keys an address by its value (as the hot path gives it,
// parsed) and any other id by its text: a ban is found, hit again and
// lifted under every spelling of its address, and under its id.
func TestBanListKeysAgree(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 3, FindTime: 10 * time.Minute, BanTime: 10 * time.Minute}, nil)
	a := netip.MustParseAddr("192.0.2.7")
	for i := range 3 {
		h.jail.Add(h.ctx, []Failure{{ID: "192.0.2.7", Addr: a, Time: t0.Add(time.Duration(i-5) * time.Second)}})
	}
	h.expect("ban 192.0.2.7")
	for _, id := range []string{"192.0.2.7", "::ffff:192.0.2.7"} {
		if tk, ok := h.jail.Banned(id); !ok || tk.ID != "192.0.2.7" {
			t.Fatalf("Banned(%q) = %+v, %v", id, tk, ok)
		}
	}
	for i := range 3 { // its id parsed by Add, mapped: already banned
		h.fail("::ffff:192.0.2.7", time.Duration(i-2)*time.Second)
	}
	h.quiet()
	if nb := h.jail.Unban(h.ctx, []string{"::ffff:192.0.2.7"}); len(nb) != 0 {
		t.Fatalf("not banned: %v", nb)
	}
	h.expect("unban 192.0.2.7")
	if _, ok := h.jail.Banned("192.0.2.7"); ok {
		t.Fatal("still banned")
	}
	for i := range 3 {
		h.fail("user-42", time.Duration(i-3)*time.Second)
	}
	h.expect("ban user-42")
	if st := h.jail.Status(); fmt.Sprint(st.Banned) != "[user-42]" {
		t.Fatalf("banned %v", st.Banned)
	}
	if nb := h.jail.Unban(h.ctx, []string{"user-42"}); len(nb) != 0 {
		t.Fatalf("not banned: %v", nb)
	}
	h.expect("unban user-42")
}

// A ban decided within its last failure's second (log dates have no
// fractions) runs from when it was decided, so that clients banned in one
// second are not all unbanned at the same instant; the ticket keeps the
// log time, and a failure in the same second does not prolong the ban.
func TestBanRunsFromWhenSeen(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 2, FindTime: 10 * time.Minute, BanTime: time.Minute}, nil)
	h.clock.Advance(300 * time.Millisecond) // nothing scheduled yet
	h.fail("192.0.2.1", 0)                  // this second: seen now
	h.fail("192.0.2.1", 0)
	h.expect("ban 192.0.2.1")
	h.fail("192.0.2.2", -time.Second) // the second before: its log time counts
	h.fail("192.0.2.2", -time.Second)
	h.expect("ban 192.0.2.2")
	h.fail("192.0.2.1", 0) // banned, same second: no prolong
	tk, _ := h.jail.Banned("192.0.2.1")
	end, _ := tk.End()
	if want := t0.Add(300*time.Millisecond + time.Minute); tk.Time != float64(t0.Unix()) || end.Sub(want).Abs() > time.Microsecond {
		t.Fatalf("ticket time %v, end %v; want %v and %v", tk.Time, end, t0.Unix(), t0.Add(300*time.Millisecond+time.Minute))
	}
	h.advance(time.Minute - time.Second - 300*time.Millisecond)
	h.expect("unban 192.0.2.2")
	h.advance(time.Second + 300*time.Millisecond - time.Millisecond)
	h.quiet()
	h.advance(time.Millisecond)
	h.expect("unban 192.0.2.1")
}

func TestBanStart(t *testing.T) {
	for _, c := range []struct{ last, now, want float64 }{
		{100, 100.25, 100.25}, // decided within the failure's second
		{100, 100, 0},         // at the second itself: the log time
		{100, 101, 0},         // later: the log time
		{100, 99.5, 0},        // a failure dated ahead of the clock
		{100.5, 100.75, 0},    // a log time with a fraction is exact
	} {
		if got := banStart(c.last, c.now); got != c.want {
			t.Errorf("banStart(%v, %v) = %v, want %v", c.last, c.now, got, c.want)
		}
	}
}

// Add copies what the jail keeps of a lent failure (filter.Group.Lend:
// from a batch's memory, which the next batch overwrites). The ban's id,
// fields and matched lines, of an address and of another id, are as they
// were when added.
func TestAddCopiesBorrowedFailures(t *testing.T) {
	h := newHarness(t, Config{MaxRetry: 2, FindTime: 10 * time.Minute, BanTime: 10 * time.Minute, MaxMatches: 2}, nil)
	mem := make([]byte, 64)
	lend := func(s string) string { // s in mem, overwritten by the next lend
		n := copy(mem, s)
		return unsafe.String(&mem[0], n)
	}
	for _, id := range []string{"192.0.2.9", "host-7"} {
		for i := range 2 {
			line := lend(fmt.Sprintf("%d user root%d from %s", i, i, id))
			f := fields.New(2)
			f.SetText("user", line[7:12])
			f.SetList("matches", f.OneList(line))
			fl := Failure{Lent: true, ID: line[len(line)-len(id):], Time: t0.Add(time.Duration(i-10) * time.Second), Fields: f, Matches: f.Strings("matches")}
			if a, err := netip.ParseAddr(id); err == nil {
				fl.Addr = a
			}
			h.jail.Add(h.ctx, []Failure{fl})
			lend(strings.Repeat("#", len(mem)))
		}
		h.expect("ban " + id)
		tk, ok := h.jail.Banned(id)
		if !ok || tk.ID != id || tk.Fields.Str("user") != "root0" ||
			!reflect.DeepEqual(tk.Matches, []string{"0 user root0 from " + id, "1 user root1 from " + id}) {
			t.Fatalf("ban of %s kept borrowed memory: found %v, ticket %+v", id, ok, tk)
		}
	}
	if st := h.jail.Status(); !reflect.DeepEqual(st.Banned, []string{"192.0.2.9", "host-7"}) {
		t.Fatalf("banned %q", st.Banned)
	}
}
