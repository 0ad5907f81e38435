package daemon

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/control"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/logging"
)

// Handle carries out one fail2ban-client command (["status"], ["set",
// "sshd", "banip", "192.0.2.1"], ...) and returns what fail2ban's server
// returns for it.
func (d *Daemon) Handle(ctx context.Context, cmd []string) (any, error) {
	if len(cmd) == 0 {
		return nil, control.Invalid("")
	}
	switch cmd[0] {
	case "ping":
		return "pong", nil
	case "version":
		return d.o.Version, nil
	case "echo":
		return cmd[1:], nil
	case "server-status":
		return "Server ready", nil
	case "stop":
		if len(cmd) == 1 || cmd[1] == "--flush" {
			d.Stop(len(cmd) > 1)
			return nil, nil
		}
		// "stop JAIL" and "stop --all" stop jails; the daemon runs on.
		r := reloadRequest{jail: cmd[1], stop: true}
		if r.jail == "--all" {
			r.jail = ""
		}
		if _, err := d.handleReload(ctx, r); err != nil {
			return nil, err
		}
		return nil, nil
	case "flushlogs":
		return d.flushLogs()
	case "reload":
		return d.handleReload(ctx, parseReload(cmd[1:]))
	case "restart":
		// fail2ban-client's "restart JAIL" restarts one jail; a bare
		// "restart" reloads everything here (the client restarts the
		// process itself).
		r := parseReload(cmd[1:])
		r.restart = r.jail != ""
		return d.handleReload(ctx, r)
	case "status":
		return d.status(cmd[1:])
	case "banned":
		return d.banned(cmd[1:]), nil
	case "unban":
		return d.unban(ctx, cmd[1:])
	case "set":
		return d.set(ctx, cmd[1:])
	case "get":
		return d.get(cmd[1:])
	case "xdp-banned":
		return d.xdpBanned(cmd[1:])
	}
	return nil, control.Invalid("Invalid command %q", cmd[0])
}

// running returns the pipeline. A command that comes while the daemon
// starts (it answers ping from the moment its socket listens) waits for
// it, startWait at most.
func (d *Daemon) running() (*pipeline, error) {
	if p := d.pipeline(); p != nil {
		return p, nil
	}
	select {
	case <-d.started:
		return d.pipeline(), nil
	case <-time.After(startWait):
		return nil, control.Invalid("the daemon is starting")
	}
}

// startWait bounds how long a command waits for the daemon to start.
const startWait = 10 * time.Second

func (d *Daemon) jail(name string) (*pipeline, *jailRT, error) {
	p, err := d.running()
	if err != nil {
		return nil, nil, err
	}
	rt, ok := p.rt[name]
	if !ok {
		return nil, nil, control.UnknownJail(name)
	}
	return p, rt, nil
}

// parseReload reads "reload [--restart] [--unban] [--all] [--if-exists]
// [JAIL]".
func parseReload(args []string) reloadRequest {
	var r reloadRequest
	for _, a := range args {
		switch a {
		case "--unban":
			r.unban = true
		case "--restart":
			r.restart = true
		case "--if-exists":
			r.ifExists = true
		case "--all":
		default:
			r.jail = a
		}
	}
	return r
}

func (d *Daemon) handleReload(ctx context.Context, r reloadRequest) (any, error) {
	r.done = make(chan error, 1)
	select {
	case d.reload <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-r.done:
		if err != nil {
			return nil, err
		}
		return "OK", nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// status is fail2ban's "status" and "status JAIL [flavor]".
func (d *Daemon) status(args []string) (any, error) {
	if len(args) == 0 {
		p, err := d.running()
		if err != nil {
			return nil, err
		}
		names := p.names()
		return control.Pairs{{Key: "Number of jail", Value: len(names)}, {Key: "Jail list", Value: strings.Join(names, ", ")}}, nil
	}
	_, rt, err := d.jail(args[0])
	if err != nil {
		return nil, err
	}
	flavor := "basic"
	if len(args) > 1 {
		flavor = args[1]
	}
	s := rt.j.Status()
	filter := control.Pairs{{Key: "Currently failed", Value: s.CurrentlyFailed}, {Key: "Total failed", Value: s.TotalFailed}}
	if rt.journal() {
		filter = append(filter, control.Pair{Key: "Journal matches", Value: []string{journalMatchKey(rt.cfg.JournalMatch)}})
	} else {
		filter = append(filter, control.Pair{Key: "File list", Value: nonNil(rt.files())})
	}
	actions := control.Pairs{{Key: "Currently banned", Value: s.CurrentlyBanned}, {Key: "Total banned", Value: s.TotalBanned}}
	if flavor != "short" {
		actions = append(actions, control.Pair{Key: "Banned IP list", Value: nonNil(s.Banned)})
	}
	return control.Pairs{{Key: "Filter", Value: filter}, {Key: "Actions", Value: actions}}, nil
}

func (p *pipeline) names() []string { return slices.Sorted(maps.Keys(p.rt)) }

// banned is fail2ban's "banned [IP...]": per jail its bans, or per IP the
// jails that ban it.
func (d *Daemon) banned(ids []string) any {
	p := d.pipeline()
	if p == nil {
		return []any{}
	}
	names := p.names()
	if len(ids) > 0 {
		out := []any{}
		for _, id := range ids {
			in := []string{}
			for _, n := range names {
				if _, ok := p.rt[n].j.Banned(id); ok {
					in = append(in, n)
				}
			}
			out = append(out, in)
		}
		return out
	}
	out := []any{}
	for _, n := range names {
		out = append(out, map[string]any{n: nonNil(p.rt[n].j.Status().Banned)})
	}
	return out
}

func (d *Daemon) unban(ctx context.Context, args []string) (any, error) {
	p, err := d.running()
	if err != nil {
		return nil, err
	}
	if len(args) == 1 && args[0] == "--all" {
		return p.jails.UnbanAll(ctx), nil
	}
	if len(args) == 0 {
		return nil, control.Invalid("")
	}
	n := 0
	for _, j := range p.jails {
		n += len(args) - len(j.Unban(ctx, args))
	}
	return n, nil
}

func (d *Daemon) set(ctx context.Context, args []string) (any, error) {
	if len(args) < 2 {
		return nil, control.Invalid("")
	}
	switch args[0] {
	case "loglevel", "logtarget":
		return d.setLog(args[0], args[1])
	case "dbfile", "dbpurgeage", "dbmaxmatches", "syslogsocket", "allowipv6":
		return nil, control.Invalid("set %s: change it in the configuration and restart", args[0])
	}
	_, rt, err := d.jail(args[0])
	if err != nil {
		return nil, err
	}
	j, what, vals := rt.j, args[1], args[2:]
	need := func(n int) error {
		if len(vals) < n {
			return control.Invalid("")
		}
		return nil
	}
	switch what {
	case "banip":
		if err := need(1); err != nil {
			return nil, err
		}
		before := countBanned(j, vals)
		if err := j.BanManually(ctx, vals); err != nil {
			return nil, err
		}
		after := countBanned(j, vals)
		return after - before, nil
	case "unbanip":
		report := false
		if len(vals) > 0 && vals[0] == "--report-absent" {
			report, vals = true, vals[1:]
		}
		if err := need(1); err != nil {
			return nil, err
		}
		missed := j.Unban(ctx, vals)
		if report && len(missed) > 0 {
			return nil, fmt.Errorf("not banned: %s", control.PyRepr(toAny(missed)))
		}
		return len(vals) - len(missed), nil
	case "maxretry":
		if err := need(1); err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(vals[0])
		if err != nil {
			return nil, control.Invalid("maxretry %q is not a number", vals[0])
		}
		if err := j.SetMaxRetry(n); err != nil {
			return nil, err
		}
	case "findtime", "bantime":
		if err := need(1); err != nil {
			return nil, err
		}
		s, err := config.ParseSeconds(vals[0])
		if err != nil {
			return nil, control.Invalid("%s %q: %v", what, vals[0], err)
		}
		dur := time.Duration(s * float64(time.Second))
		if what == "findtime" {
			if err := j.SetFindTime(dur); err != nil {
				return nil, err
			}
		} else {
			if s < 0 {
				dur = -1
			}
			j.SetBanTime(dur)
		}
	case "addignoreip", "delignoreip":
		if err := need(1); err != nil {
			return nil, err
		}
		if err := d.changeIgnore(ctx, rt, what == "addignoreip", vals); err != nil {
			return nil, err
		}
	default:
		return nil, control.Invalid("Invalid command %q (no set action or not yet implemented)", what)
	}
	return d.get([]string{args[0], strings.TrimPrefix(strings.TrimPrefix(what, "add"), "del")})
}

// setLog changes the log level or target and answers the new one, as
// fail2ban does.
func (d *Daemon) setLog(what, value string) (any, error) {
	lc := d.o.LogControl
	if lc == nil {
		return nil, control.Invalid("set %s: not supported here", what)
	}
	if what == "loglevel" {
		l, err := logging.ParseLevel(value)
		if err != nil {
			return nil, control.Invalid("%v", err)
		}
		lc.SetLevel(l)
		d.log.Info("log level changed", "level", logging.LevelName(l))
		return logging.LevelName(l), nil
	}
	if err := lc.SetTarget(value); err != nil {
		return nil, fmt.Errorf("Failed to change log target: %w", err)
	}
	d.log.Info("log target changed", "target", value)
	return lc.Target(), nil
}

// flushLogs reopens a log file (logrotate's postrotate runs
// "fail2ban-client flushlogs"), answering as fail2ban does.
func (d *Daemon) flushLogs() (any, error) {
	lc := d.o.LogControl
	if lc == nil {
		return "flushed", nil
	}
	rolled, err := lc.Reopen()
	if err != nil {
		return nil, err
	}
	if !rolled {
		return "flushed", nil
	}
	d.log.Info("rollover performed on " + lc.Target())
	return "rolled over", nil
}

func (d *Daemon) get(args []string) (any, error) {
	if len(args) == 0 {
		return nil, control.Invalid("")
	}
	srv := d.config().Server
	switch args[0] {
	case "loglevel":
		if lc := d.o.LogControl; lc != nil {
			return logging.LevelName(lc.Level()), nil
		}
		return srv.LogLevel, nil
	case "logtarget":
		if lc := d.o.LogControl; lc != nil {
			return lc.Target(), nil
		}
		return srv.LogTarget, nil
	case "syslogsocket":
		return srv.SyslogSocket, nil
	case "dbfile":
		if d.st == nil {
			return nil, nil
		}
		return d.dbPath, nil
	case "dbpurgeage":
		if d.st == nil {
			return nil, nil
		}
		return int(srv.DBPurgeAge.Seconds()), nil
	case "dbmaxmatches":
		if d.st == nil {
			return nil, nil
		}
		return srv.DBMaxMatches, nil
	}
	if len(args) < 2 {
		return nil, control.Invalid("")
	}
	_, rt, err := d.jail(args[0])
	if err != nil {
		return nil, err
	}
	c, j := rt.cfg, rt.j
	switch args[1] {
	case "banned":
		if len(args) == 2 {
			return nonNil(j.Status().Banned), nil
		}
		var out []any
		for _, id := range args[2:] {
			_, ok := j.Banned(id)
			out = append(out, boolInt(ok))
		}
		if len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	case "banip":
		return d.banList(rt, len(args) > 2 && args[2] == "--with-time"), nil
	case "maxretry":
		return j.MaxRetry(), nil
	case "findtime":
		return int(j.FindTime().Seconds()), nil
	case "bantime":
		if j.BanTime() < 0 {
			return -1, nil
		}
		return int(j.BanTime().Seconds()), nil
	case "maxmatches":
		return c.MaxMatches, nil
	case "maxlines":
		return c.Filter.MaxLines, nil
	case "usedns":
		return c.Filter.UseDNS, nil
	case "logencoding":
		return c.LogEncoding, nil
	case "logtimezone":
		if c.LogTimezone == "" {
			return nil, nil
		}
		return c.LogTimezone, nil
	case "ignoreself":
		return c.IgnoreSelf, nil
	case "ignoreip":
		return nonNil(rt.ign.IgnoreIP()), nil
	case "ignorecommand":
		return c.IgnoreCommand, nil
	case "ignorecache":
		if c.IgnoreCache == "" {
			return nil, nil
		}
		return c.IgnoreCache, nil
	case "logpath":
		if rt.journal() {
			return []string{}, nil
		}
		return nonNil(rt.files()), nil
	case "journalmatch":
		return nonNil(c.JournalMatch), nil
	case "prefregex":
		return c.Filter.PrefRegex, nil
	case "failregex":
		return nonNil(c.Filter.FailRegex), nil
	case "ignoreregex":
		return nonNil(c.Filter.IgnoreRegex), nil
	case "datepattern":
		if c.Filter.DatePattern == "" {
			return nil, nil
		}
		return []any{c.Filter.DatePattern, c.Filter.DatePattern}, nil
	case "actions":
		var names []string
		for _, a := range c.Actions {
			names = append(names, a.Name)
		}
		return nonNil(names), nil
	}
	if opt, ok := strings.CutPrefix(args[1], "bantime."); ok {
		in := c.Increment
		switch opt {
		case "increment":
			return in.Enabled, nil
		case "factor":
			return in.Factor, nil
		case "formula":
			return in.Formula, nil
		case "multipliers":
			return in.Multipliers, nil
		case "overalljails":
			return in.OverallJails, nil
		case "maxtime":
			if in.MaxTime == nil {
				return nil, nil
			}
			return int(in.MaxTime.Seconds()), nil
		case "rndtime":
			if in.RndTime == nil {
				return nil, nil
			}
			return int(in.RndTime.Seconds()), nil
		}
	}
	return nil, control.Invalid("Invalid command (no get action or not yet implemented)")
}

// banList is fail2ban's "get JAIL banip [--with-time]": the bans ordered
// by their end.
func (d *Daemon) banList(rt *jailRT, withTime bool) []string {
	type ban struct {
		tk  jail.Ticket
		end float64
	}
	var bans []ban
	for _, id := range rt.j.Status().Banned {
		if tk, ok := rt.j.Banned(id); ok {
			end := tk.Time + tk.BanTime
			if tk.BanTime < 0 {
				end = 1e18
			}
			bans = append(bans, ban{tk, end})
		}
	}
	sort.SliceStable(bans, func(i, j int) bool { return bans[i].end < bans[j].end })
	out := make([]string, 0, len(bans))
	t2s := func(s float64) string { return time.Unix(int64(s), 0).Format("2006-01-02 15:04:05") }
	for _, b := range bans {
		if !withTime {
			out = append(out, b.tk.ID)
			continue
		}
		endText := t2s(b.end)
		if b.tk.BanTime < 0 {
			endText = "9999-12-31 23:59:59"
		}
		out = append(out, fmt.Sprintf("%s \t%s + %d = %s", b.tk.ID, t2s(b.tk.Time), int(b.tk.BanTime), endText))
	}
	return out
}

// changeIgnore adds or removes ignoreip entries and resolves the jail's
// ignore list again.
func (d *Daemon) changeIgnore(ctx context.Context, rt *jailRT, add bool, vals []string) error {
	list := rt.ign.IgnoreIP()
	for _, v := range vals {
		if add {
			list = append(list, v)
			continue
		}
		for i, e := range list {
			if e == v {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
	}
	if err := rt.ign.SetIgnoreIP(ctx, list); err != nil {
		return err
	}
	// The XDP program passes ignored addresses even when another jail
	// bans them: its allow list follows.
	return rt.acts.SetAllow(ctx, rt.ign.Prefixes())
}

// xdpBanned lists the bans in the XDP maps with their drop counters: per
// ban its jail(s), end, packets and bytes dropped and the last drop.
func (d *Daemon) xdpBanned(ids []string) (any, error) {
	d.backendMu.Lock()
	bl := d.blacklist
	d.backendMu.Unlock()
	p := d.pipeline()
	var rows []control.BannedRow
	want := map[string]bool{}
	for _, id := range ids {
		want[jail.CanonicalID(id)] = true
	}
	now := d.o.Clock.Now()
	if p != nil {
		for _, n := range p.names() {
			rt := p.rt[n]
			for _, id := range rt.j.Status().Banned {
				if len(want) > 0 && !want[id] {
					continue
				}
				tk, _ := rt.j.Banned(id)
				r := control.BannedRow{ID: id, Jails: []string{n}}
				if end, ok := tk.End(); ok {
					r.End = end.Format(time.RFC3339)
				}
				if a, err := netip.ParseAddr(id); err == nil && bl != nil {
					if c, ok, err := bl.Counters(netip.PrefixFrom(a, a.BitLen()), now); err == nil && ok {
						r.Enforced, r.Packets, r.Bytes = true, c.Packets, c.Bytes
						if !c.LastDrop.IsZero() {
							r.LastDrop = c.LastDrop.Format(time.RFC3339Nano)
						}
					}
				}
				rows = append(rows, r)
			}
		}
	}
	return nonNil(rows), nil
}

// countBanned counts the ids the jail bans.
func countBanned(j *jail.Jail, ids []string) int {
	n := 0
	for _, id := range ids {
		if _, ok := j.Banned(id); ok {
			n++
		}
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
