package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/f2bx/f2bx/action"
	"github.com/f2bx/f2bx/action/command"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/jail/ignore"
	"github.com/f2bx/f2bx/jail/schedule"
)

// pipeline is one configuration's running stages. A reload stops it and
// starts another; the store, the history and the kernel backends outlive
// it.
type pipeline struct {
	d   *Daemon
	cfg *config.Config

	jails jail.Jails
	rt    map[string]*jailRT
	sched *schedule.Scheduler[jail.Key]

	// Sources and filter stages stop first, then the jails (which hand
	// their queues to the actions), then the actions.
	srcCancel  context.CancelFunc
	jailCancel context.CancelFunc
	srcWG      sync.WaitGroup
	jailWG     sync.WaitGroup
	health     *health

	stopOnce sync.Once
}

// jailRT is a running jail with what belongs to it.
type jailRT struct {
	cfg  *config.Jail
	j    *jail.Jail
	ign  *ignore.List
	acts *action.Set
}

// startPipeline builds the jails of cfg, restores their bans, carries the
// failure counts of prev's jails over (but not of those in fresh) and
// starts the sources. A jail that cannot be built is reported and left
// out, as fail2ban does.
func (d *Daemon) startPipeline(ctx context.Context, cfg *config.Config, prev *pipeline, fresh map[string]bool) (*pipeline, error) {
	p := &pipeline{d: d, cfg: cfg, rt: map[string]*jailRT{}}
	p.health = newHealth(d)
	jailCtx, jailCancel := context.WithCancel(context.WithoutCancel(ctx))
	p.jailCancel = jailCancel
	p.sched = schedule.New[jail.Key](d.o.Clock, func(keys []jail.Key) { p.jails.Expired(jailCtx, keys) })
	var merged command.Merged // the tickets' own matches
	for _, jc := range cfg.Jails {
		rt, err := d.buildJail(jailCtx, jc, p.sched, merged)
		if err != nil {
			d.log.Error("jail not started", "jail", jc.Name, "err", err)
			continue
		}
		p.rt[jc.Name] = rt
		p.jails = append(p.jails, rt.j)
		if old, ok := prev.jail(jc.Name); ok && !fresh[jc.Name] {
			if n := rt.j.TakeFailures(old.j); n > 0 {
				d.log.Info("kept failure counts across the reload", "jail", jc.Name, "ids", n)
			}
		}
	}
	p.jailWG.Add(1)
	go func() { defer p.jailWG.Done(); p.sched.Run(jailCtx) }()
	for _, rt := range p.rt {
		p.jailWG.Add(1)
		go func() {
			defer p.jailWG.Done()
			defer p.health.recover("jail " + rt.cfg.Name)
			rt.j.Run(jailCtx)
		}()
		// An action whose start hangs must not hold up the other jails.
		go func() {
			if err := rt.acts.Start(jailCtx); err != nil {
				d.log.Error("starting actions", "jail", rt.cfg.Name, "err", err)
			}
		}()
	}
	if d.st != nil {
		bans, err := d.st.CurrentBans(ctx, "", float64(d.o.Clock.Now().Unix()))
		if err != nil {
			d.log.Error("reading the stored bans", "err", err)
		}
		for _, rt := range p.rt {
			if n := rt.j.Restore(jailCtx, bans); n > 0 {
				d.log.Info("restored bans", "jail", rt.cfg.Name, "count", n)
			}
		}
	}
	srcCtx, srcCancel := context.WithCancel(ctx)
	p.srcCancel = srcCancel
	if err := p.startSources(srcCtx); err != nil {
		p.shutdown(false, nil)
		return nil, err
	}
	p.srcWG.Add(1)
	go func() { defer p.srcWG.Done(); p.health.watch(srcCtx) }()
	d.log.Info("started", "jails", strings.Join(p.names(), ", "))
	return p, nil
}

func (d *Daemon) buildJail(ctx context.Context, jc *config.Jail, sched *schedule.Scheduler[jail.Key], merged command.Merged) (*jailRT, error) {
	c, ic, err := jail.FromConfig(*jc)
	if err != nil {
		return nil, err
	}
	deps := ignore.Deps{Now: d.o.Clock.Now}
	if d.self != nil {
		deps.SelfAddrs = d.self
	} else {
		ic.Self = false
	}
	ign, err := ignore.New(ctx, ic, deps)
	if err != nil {
		if ign == nil {
			return nil, err
		}
		d.log.Warn("ignoreip", "jail", jc.Name, "err", err)
	}
	allow := ign.Prefixes()
	acts, err := action.Build(jc, allow, d.backends(merged))
	if err != nil && usesXDP(jc) {
		// No XDP here (no root, an old kernel): nftables enforces instead.
		d.log.Warn("f2bx-xdp is not available; using f2bx-nftables", "jail", jc.Name, "err", err)
		acts, err = action.Build(xdpToNft(jc), allow, d.backends(merged))
	}
	if err != nil {
		return nil, err
	}
	var actions interface {
		jail.Actions
		jail.Prolonger
	} = acts
	if d.o.AfterBan != nil {
		actions = observed{acts, jc.Name, d.o.AfterBan, d.o.Clock.Now}
	}
	deps2 := jail.Deps{Clock: d.o.Clock, Log: d.log, Ignore: ign, Actions: actions, Scheduler: sched, History: d.history, Store: d.writer}
	j, err := jail.New(c, deps2)
	if err != nil {
		return nil, err
	}
	return &jailRT{cfg: jc, j: j, ign: ign, acts: acts}, nil
}

func usesXDP(jc *config.Jail) bool {
	for _, a := range jc.Actions {
		if a.Backend() == config.BackendXDP {
			return true
		}
	}
	return false
}

// xdpToNft returns a copy of the jail with f2bx-xdp actions replaced by
// f2bx-nftables.
func xdpToNft(jc *config.Jail) *config.Jail {
	c := *jc
	c.Actions = nil
	for _, a := range jc.Actions {
		if a.Backend() == config.BackendXDP {
			b := config.Action{Name: config.BackendNftables}
			for _, o := range a.Options {
				if o.Key == config.BackendOption {
					o.Value = config.BackendNftables
				}
				b.Options = append(b.Options, o)
			}
			a = b
		}
		c.Actions = append(c.Actions, a)
	}
	return &c
}

// jail returns the running jail name; a nil pipeline has none.
func (p *pipeline) jail(name string) (*jailRT, bool) {
	if p == nil {
		return nil, false
	}
	rt, ok := p.rt[name]
	return rt, ok
}

// shutdown stops the sources (saving where they got to), lets the jails
// hand over their queues, stops the actions and writes what the store has
// queued. The kernel keeps dropping a jail's bans (the next pipeline takes
// them over) unless flush, or unless next is a configuration without the
// jail (a jail stopped or disabled by a reload): its bans stay in the
// database only, to be restored if it comes back.
func (p *pipeline) shutdown(flush bool, next *config.Config) {
	p.stopOnce.Do(func() {
		if p.srcCancel != nil {
			p.srcCancel()
		}
		p.srcWG.Wait()
		p.jailCancel()
		// A jail whose action hangs must not hold the daemon forever: its
		// queued bans are in the database and are restored at the next
		// start.
		waited := make(chan struct{})
		go func() { p.jailWG.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(p.d.o.ActionGrace):
			p.d.log.Warn("stopping: some actions are still busy; not waiting for them", "waited", p.d.o.ActionGrace)
		}
		var errs []error
		ctx := context.Background()
		for _, rt := range p.rt {
			var banned []*jail.Ticket
			for _, id := range rt.j.Status().Banned {
				if tk, ok := rt.j.Banned(id); ok {
					banned = append(banned, &tk)
				}
			}
			gone := next != nil && next.Jail(rt.cfg.Name) == nil
			if err := closeActions(ctx, rt, banned, flush || gone, p.d.o.ActionGrace); err != nil {
				errs = append(errs, err)
			}
		}
		if p.d.writer != nil {
			p.d.writer.Flush()
		}
		if err := errors.Join(errs...); err != nil {
			p.d.log.Warn("stopping actions", "err", err)
		}
	})
}

// files returns the log files a jail follows now (its globs expanded).
func (rt *jailRT) files() []string {
	var out []string
	seen := map[string]bool{}
	for _, lp := range rt.cfg.LogPaths {
		if isRing(lp.Path) {
			if !seen[lp.Path] {
				seen[lp.Path] = true
				out = append(out, lp.Path)
			}
			continue
		}
		m, _ := filepath.Glob(lp.Path)
		for _, f := range m {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func (rt *jailRT) journal() bool { return strings.HasPrefix(rt.cfg.Backend, "systemd") }

// closeActions closes a jail's actions, waiting at most grace.
func closeActions(ctx context.Context, rt *jailRT, banned []*jail.Ticket, flush bool, grace time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- rt.acts.Close(ctx, banned, flush) }()
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		return fmt.Errorf("jail %s: actions still stopping after %v", rt.cfg.Name, grace)
	}
}

// observed tells Options.AfterBan of every ban batch the actions carried
// out (benchmarks measure ban latency with it).
type observed struct {
	*action.Set
	jail string
	hook func(jail string, batch []*jail.Ticket, at time.Time)
	now  func() time.Time
}

func (o observed) Ban(ctx context.Context, batch []*jail.Ticket) error {
	err := o.Set.Ban(ctx, batch)
	o.hook(o.jail, batch, o.now())
	return err
}
