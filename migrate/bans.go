package migrate

import (
	"context"
	"fmt"
	"sort"

	"github.com/f2bx/f2bx/store"
)

// BanReport is the import of fail2ban's bans.
type BanReport struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Active counts the bans still running in fail2ban's database, for
	// jails that were converted; Imported those written (or, on a dry
	// run, to be written), Permanent those of them that never end.
	Active    int `json:"active"`
	Imported  int `json:"imported"`
	Permanent int `json:"permanent"`
	// History counts the expired bans carried over for ban counts
	// (bantime.increment).
	History int `json:"history"`
	// Present counts bans the target already holds (an earlier run).
	Present int `json:"already_present"`
	// Skipped counts active bans per jail that was not converted.
	Skipped map[string]int `json:"skipped,omitempty"`
}

// ImportBans reads fail2ban's database from and writes the bans of the
// converted jails into f2bx's database to, unless dryRun. Each ban keeps
// its time and ban time, so it ends when it would have ended under
// fail2ban; permanent bans stay permanent. now is Unix seconds.
func (p *Plan) ImportBans(ctx context.Context, from, to string, now float64, dryRun bool) error {
	jails := map[string]*JailReport{}
	banTime := map[string]float64{}
	for _, j := range p.Jails {
		if j.jail != nil {
			jails[j.Jail] = j
			banTime[j.Jail] = j.jail.BanTime.Seconds()
		}
	}
	src, err := store.OpenFail2ban(from)
	if err != nil {
		return err
	}
	defer src.Close()
	_, history, err := src.Import(ctx, now, func(jail string) float64 { return banTime[jail] })
	if err != nil {
		return err
	}
	rep := &BanReport{From: from, To: to, Skipped: map[string]int{}}
	p.Bans = rep
	var present map[[2]string]int64
	var dst *store.Store
	if !dryRun {
		if dst, err = store.Open(to); err != nil {
			return err
		}
		defer dst.Close()
		have, err := dst.History(ctx)
		if err != nil {
			return err
		}
		present = map[[2]string]int64{}
		for _, b := range have {
			present[[2]string{b.Jail, b.ID}] = b.Time
		}
	}
	sort.SliceStable(history, func(a, b int) bool { return history[a].Time < history[b].Time })
	var out []store.Ban
	for _, b := range history {
		end, timed := b.End()
		active := !timed || end > now
		r := jails[b.Jail]
		if r == nil {
			if active {
				rep.Skipped[b.Jail]++
			}
			continue
		}
		if active {
			rep.Active++
		}
		if t, ok := present[[2]string{b.Jail, b.ID}]; ok && t >= b.Time {
			if active {
				rep.Present++
			}
			continue
		}
		out = append(out, b)
		if !active {
			rep.History++
			continue
		}
		rep.Imported++
		r.BansImported++
		if !timed {
			rep.Permanent++
		}
	}
	if dryRun || len(out) == 0 {
		return nil
	}
	if err := dst.AddBans(ctx, out); err != nil {
		return fmt.Errorf("import bans into %s: %w", to, err)
	}
	return nil
}
