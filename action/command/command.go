// Package command runs fail2ban's action.d command actions: actionstart,
// actionstop, actioncheck/actionrepair, actionban, actionunban,
// actionreban, actionprolong and actionflush, with fail2ban's tag
// substitution, per-family start on demand and check-and-repair. Values
// from log lines reach the shell only as positional parameters.
package command

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/jail"
)

// DefaultTimeout is how long a command may run (fail2ban's timeout).
const DefaultTimeout = 60 * time.Second

// Runner executes a script with a timeout; it returns an error when the
// command failed, timed out or could not start.
type Runner func(ctx context.Context, s Script, timeout time.Duration) error

// Config is what an Action needs.
type Config struct {
	Jail   string
	Action config.Action
	// BanTime is the jail's, in seconds (for tickets without one).
	BanTime float64
	// Workers bound how many commands of this action run at once
	// (default 4); one address's commands always run in order.
	Workers int
	// Queue bounds the commands waiting per worker (default 4096); Ban
	// and Unban wait when it is full.
	Queue  int
	Merged Merged
	// Lookup resolves <ip-host> (a bounded reverse DNS lookup when nil);
	// Hostname gives <fq-hostname> (os.Hostname when nil).
	Lookup   func(ctx context.Context, ip string) string
	Hostname func() (string, error)
	Runner   Runner
	Now      func() time.Time
	Log      *slog.Logger
}

// Action is one action.d command action of a jail.
type Action struct {
	cfg     Config
	name    string
	props   *props
	timeout time.Duration
	log     *slog.Logger

	families      []string
	startOnDemand bool
	norestored    bool

	mu       sync.Mutex
	started  startedSet // per family: 1 started, 2 holds bans
	executed map[string]map[string]string

	cache sync.Map // tag and family → command with the options substituted

	queues []chan job
	wg     sync.WaitGroup
}

type job struct {
	run  func()
	done chan struct{} // a barrier when run is nil
}

var condFamily = regexp.MustCompile(`^\w+\?family=.*$`)

// New makes the action and starts its workers; Close ends them.
func New(c Config) (*Action, error) {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Queue <= 0 {
		c.Queue = 4096
	}
	if c.Runner == nil {
		c.Runner = Run
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Lookup == nil {
		c.Lookup = reverseLookup
	}
	if c.Hostname == nil {
		c.Hostname = os.Hostname
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	a := &Action{cfg: c, name: c.Action.Name, props: newProps(), timeout: DefaultTimeout,
		started: startedSet{m: map[string]int{}}, executed: map[string]map[string]string{}}
	a.log = c.Log.With("jail", c.Jail, "action", a.name)
	// fail2ban's CommandAction starts with these, and builds its
	// properties from dir(): in sorted order.
	for _, k := range []string{"actionban", "actioncheck", "actionflush", "actionreban", "actionreload", "actionrepair", "actionstart", "actionstop", "actionunban"} {
		a.props.set(k, "")
	}
	a.props.set("timeout", "60")
	cond := false
	for _, o := range c.Action.Options {
		switch o.Key {
		case "bantime": // dynamic: fail2ban ignores it as an option
			continue
		case "timeout":
			s, err := config.ParseSeconds(o.Value)
			if err != nil || s <= 0 {
				return nil, fmt.Errorf("action %s: timeout %q is not a time", a.name, o.Value)
			}
			a.timeout = time.Duration(s * float64(time.Second))
			a.props.set(o.Key, strconv.FormatFloat(s, 'f', -1, 64))
			continue
		}
		a.props.set(o.Key, o.Value)
		if condFamily.MatchString(o.Key) {
			cond = true
		}
	}
	sort.Strings(a.props.keys)
	a.families = []string{""}
	if cond {
		a.families = []string{"inet4", "inet6"}
	}
	a.startOnDemand = cond
	if v, ok := a.props.get("actionstart_on_demand"); ok {
		a.startOnDemand = truthy(v)
	}
	if v, ok := a.props.get("norestored"); ok {
		a.norestored = truthy(v)
	}
	for i := 0; i < c.Workers; i++ {
		q := make(chan job, c.Queue)
		a.queues = append(a.queues, q)
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for j := range q {
				if j.run != nil {
					j.run()
				} else {
					close(j.done)
				}
			}
		}()
	}
	return a, nil
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// Name is the action's name.
func (a *Action) Name() string { return a.name }

// Close ends the workers after the queued commands ran.
func (a *Action) Close() {
	for _, q := range a.queues {
		close(q)
	}
	a.wg.Wait()
}

// special resolves the tags every command knows.
func (a *Action) special(tag string) (string, bool) {
	switch tag {
	case "br":
		return "\n", true
	case "sp":
		return " ", true
	case "fq-hostname", "sh-hostname":
		h, err := a.cfg.Hostname()
		if err != nil {
			return "", true
		}
		if tag == "sh-hostname" {
			h, _, _ = strings.Cut(h, ".")
		}
		return h, true
	}
	return "", false
}

func conditional(family string) string {
	if family == "" {
		return ""
	}
	return "family=" + family
}

// static substitutes the options into an operation's command for a
// family. The options never change, so each result is kept (as fail2ban's
// substitution cache): a ban does not redo the recursive substitution.
func (a *Action) static(tag, family string) (string, error) {
	key := tag + "\x00" + family
	if v, ok := a.cache.Load(key); ok {
		return v.(string), nil
	}
	cmd, err := replaceTag("<"+tag+">", a.props, conditional(family), a.special)
	if err != nil {
		return "", err
	}
	a.cache.Store(key, cmd)
	return cmd, nil
}

// operation substitutes the options into an operation's command, with
// the family (fail2ban's _getOperation).
func (a *Action) operation(tag, family string) (string, error) {
	cmd, err := a.static(tag, family)
	if err != nil {
		return "", err
	}
	if family == "" || !strings.Contains(cmd, "<") {
		return cmd, nil
	}
	return replaceDynamic(cmd, operationInfo{family: family}, noSpecial).Cmd, nil
}

func noSpecial(string) (string, bool) { return "", false }

// OperationScript returns the command an operation without ticket
// (actionstart, actionstop, actionflush) runs for a family.
func (a *Action) OperationScript(tag, family string) (Script, error) {
	cmd, err := a.operation(tag, family)
	if err != nil {
		return Script{}, err
	}
	return replaceDynamic(cmd, operationInfo{family: family, now: a.cfg.Now()}, a.special), nil
}

// Families are the address families the action runs operations for: ""
// alone, or inet4 and inet6 when it has [Init?family=...] sections.
func (a *Action) Families() []string { return a.families }

// Script returns the command an operation runs for a ticket, as fail2ban
// would run it.
func (a *Action) Script(ctx context.Context, tag string, tk *jail.Ticket) (Script, error) {
	fam := familyOf(tk.Addr)
	cmd, err := a.static(tag, fam)
	if err != nil {
		return Script{}, err
	}
	in := &info{ctx: ctx, tk: tk, family: fam, merged: a.cfg.Merged, lookup: a.cfg.Lookup, defaultBanTime: a.cfg.BanTime}
	return replaceDynamic(cmd, in, a.special), nil
}

func (a *Action) run(ctx context.Context, s Script) bool {
	if strings.TrimSpace(s.Cmd) == "" {
		return true
	}
	if err := a.cfg.Runner(ctx, s, a.timeout); err != nil {
		a.log.Error("command failed", "cmd", s.Cmd, "err", err)
		return false
	}
	return true
}

// executeOperation runs an operation without ticket for families, once
// per distinct command (fail2ban's _executeOperation).
func (a *Action) executeOperation(ctx context.Context, tag string, families []string, after func(fam string, ok bool)) error {
	ok := true
	var firstErr error
	for _, fam := range families {
		cmd, err := a.operation(tag, fam)
		if err != nil {
			ok, firstErr = false, err
			continue
		}
		ret := true
		if cmd != "" && !a.executedElsewhere(tag, fam, cmd) {
			s := replaceDynamic(cmd, operationInfo{family: fam, now: a.cfg.Now()}, a.special)
			ret = a.run(ctx, s)
			ok = ok && ret
		}
		if after != nil {
			after(fam, ret)
		}
		a.setExecuted(tag, fam, cmd, ret)
	}
	if !ok {
		if firstErr == nil {
			firstErr = errors.New("script error")
		}
		return fmt.Errorf("%s: %w", tag, firstErr)
	}
	return nil
}

func (a *Action) executedElsewhere(tag, fam, cmd string) bool {
	for f, c := range a.executed[tag] {
		if f != fam && c == cmd {
			return true
		}
	}
	return false
}

func (a *Action) setExecuted(tag, fam, cmd string, ok bool) {
	m := a.executed[tag]
	if cmd != "" && ok {
		if m == nil {
			m = map[string]string{}
			a.executed[tag] = m
		}
		m[fam] = cmd
		return
	}
	if old, had := m[fam]; had {
		delete(m, fam)
		for f, c := range m {
			if c == old {
				delete(m, f)
			}
		}
	}
}

func (a *Action) start(ctx context.Context, families []string) error {
	return a.executeOperation(ctx, "actionstart", families, func(fam string, ok bool) {
		if ok {
			a.setExecuted("actionstop", fam, "", false)
			a.started.set(fam, 1)
		}
	})
}

// Start runs actionstart, unless the action starts per family on demand.
func (a *Action) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.startOnDemand {
		return nil
	}
	return a.start(ctx, a.families)
}

func (a *Action) stop(ctx context.Context, families []string) error {
	return a.executeOperation(ctx, "actionstop", families, func(fam string, ok bool) {
		if ok {
			a.setExecuted("actionstart", fam, "", false)
		}
	})
}

// Stop waits for the queued commands and runs actionstop for every
// started family.
func (a *Action) Stop(ctx context.Context) error {
	a.barrier(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	fams := a.started.with(func(v int) bool { return v != 0 })
	a.started.reset()
	if len(fams) == 0 {
		return nil
	}
	return a.stop(ctx, fams)
}

// Flush runs actionflush for the families holding bans; false when the
// action has no actionflush.
func (a *Action) Flush(ctx context.Context) (bool, error) {
	if v, _ := a.props.get("actionflush"); strings.TrimSpace(v) == "" {
		return false, nil
	}
	a.barrier(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	fams := a.started.with(func(v int) bool { return v&3 == 3 })
	if len(fams) == 0 {
		return true, nil
	}
	return true, a.executeOperation(ctx, "actionflush", fams, func(fam string, ok bool) {
		if ok {
			a.started.set(fam, a.started.get(fam)&^2)
		}
	})
}

// barrier waits until every command queued so far ran.
func (a *Action) barrier(ctx context.Context) {
	var dones []chan struct{}
	for _, q := range a.queues {
		d := make(chan struct{})
		select {
		case q <- job{done: d}:
			dones = append(dones, d)
		case <-ctx.Done():
			return
		}
	}
	for _, d := range dones {
		select {
		case <-d:
		case <-ctx.Done():
			return
		}
	}
}

// enqueue hands tickets to the workers, one address always to the same
// worker so that its commands run in order.
func (a *Action) enqueue(ctx context.Context, batch []*jail.Ticket, fn func(context.Context, *jail.Ticket)) error {
	for _, tk := range batch {
		h := fnv.New32a()
		h.Write([]byte(tk.ID))
		q := a.queues[h.Sum32()%uint32(len(a.queues))]
		select {
		case q <- job{run: func() { fn(context.WithoutCancel(ctx), tk) }}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Ban queues actionban for each ticket (a restored ticket is skipped
// when the action sets norestored).
func (a *Action) Ban(ctx context.Context, batch []*jail.Ticket) error {
	return a.enqueue(ctx, batch, func(ctx context.Context, tk *jail.Ticket) {
		if tk.Restored && a.norestored {
			return
		}
		a.ban(ctx, tk, "actionban")
	})
}

// Reban queues actionreban (actionban when it has none).
func (a *Action) Reban(ctx context.Context, batch []*jail.Ticket) error {
	tag := "actionreban"
	if v, _ := a.props.get(tag); strings.TrimSpace(v) == "" {
		tag = "actionban"
	}
	return a.enqueue(ctx, batch, func(ctx context.Context, tk *jail.Ticket) { a.ban(ctx, tk, tag) })
}

func (a *Action) ban(ctx context.Context, tk *jail.Ticket, tag string) {
	fam := familyOf(tk.Addr)
	a.mu.Lock()
	if a.startOnDemand && a.started.get(fam) == 0 {
		if err := a.start(ctx, []string{fam}); err != nil {
			a.log.Error("start on demand", "family", fam, "err", err)
		}
	}
	a.mu.Unlock()
	if !a.process(ctx, tag, tk) {
		a.log.Error("Error banning", "ip", tk.ID)
	}
	a.mu.Lock()
	a.started.set(fam, a.started.get(fam)|3)
	a.mu.Unlock()
}

// Unban queues actionunban for each ticket of a family holding bans.
func (a *Action) Unban(ctx context.Context, batch []*jail.Ticket) error {
	return a.enqueue(ctx, batch, func(ctx context.Context, tk *jail.Ticket) {
		a.mu.Lock()
		holds := a.started.get(familyOf(tk.Addr))&2 != 0
		a.mu.Unlock()
		if holds && !a.process(ctx, "actionunban", tk) {
			a.log.Error("Error unbanning", "ip", tk.ID)
		}
	})
}

// Prolong queues actionprolong, when the action has one.
func (a *Action) Prolong(ctx context.Context, batch []*jail.Ticket) error {
	if v, _ := a.props.get("actionprolong"); strings.TrimSpace(v) == "" {
		return nil
	}
	return a.enqueue(ctx, batch, func(ctx context.Context, tk *jail.Ticket) {
		if !a.process(ctx, "actionprolong", tk) {
			a.log.Error("Error prolonging", "ip", tk.ID)
		}
	})
}

// process runs a ticket's command; when it fails and the action has
// actioncheck, checks (and repairs) the environment and tries once more
// (fail2ban's _processCmd).
func (a *Action) process(ctx context.Context, tag string, tk *jail.Ticket) bool {
	if v, _ := a.props.get(tag); strings.TrimSpace(v) == "" {
		return true
	}
	check, _ := a.props.get("actioncheck")
	for attempt := 0; ; attempt++ {
		if attempt > 0 && strings.TrimSpace(check) != "" {
			before := func() bool {
				if tag == "actionunban" {
					if v, _ := a.props.get("actionrepair_on_unban"); !truthy(v) {
						a.log.Error("Invariant check failed. Unban is impossible.")
						return false
					}
				}
				return true
			}
			if a.invariantCheck(ctx, familyOf(tk.Addr), before, tag != "actionunban") != 1 {
				return false
			}
		}
		s, err := a.Script(ctx, tag, tk)
		if err != nil {
			a.log.Error("substitution", "tag", tag, "err", err)
			return false
		}
		ok := a.run(ctx, s)
		if ok || attempt >= 1 {
			return ok
		}
	}
}

// invariantCheck runs actioncheck and, when it fails, actionrepair (or
// a stop and start); 1 when the environment is sane.
func (a *Action) invariantCheck(ctx context.Context, fam string, before func() bool, forceStart bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	check, err := a.operation("actioncheck", fam)
	if err != nil {
		return 0
	}
	if check == "" || a.run(ctx, Script{Cmd: check}) {
		return 1
	}
	if before != nil && !before() {
		return -1
	}
	a.log.Error("Invariant check failed. Trying to restore a sane environment")
	repair, err := a.operation("actionrepair", fam)
	if err != nil {
		return 0
	}
	if repair != "" {
		if !a.run(ctx, Script{Cmd: repair}) {
			a.started.set(fam, 0)
			a.log.Error("Unable to restore environment")
			return 0
		}
		a.started.set(fam, 1)
	} else {
		a.started.set(fam, 0)
		a.stop(ctx, []string{fam})
		if forceStart || !a.startOnDemand {
			a.start(ctx, []string{fam})
		}
	}
	if a.started.get(fam) != 0 && !a.run(ctx, Script{Cmd: check}) {
		a.log.Error("Unable to restore environment")
		return 0
	}
	return 1
}

// Run executes a script with /bin/sh in its own process group, killing
// the group when the timeout passes.
func Run(ctx context.Context, s Script, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", s.Cmd}, s.Args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startedSet is fail2ban's __started dict: per family, in the order the
// families were first seen.
type startedSet struct {
	m     map[string]int
	order []string
}

func (s *startedSet) get(f string) int { return s.m[f] }

func (s *startedSet) set(f string, v int) {
	if _, ok := s.m[f]; !ok {
		s.order = append(s.order, f)
	}
	s.m[f] = v
}

func (s *startedSet) with(keep func(int) bool) []string {
	var out []string
	for _, f := range s.order {
		if keep(s.m[f]) {
			out = append(out, f)
		}
	}
	return out
}

func (s *startedSet) reset() {
	clear(s.m)
	s.order = nil
}
