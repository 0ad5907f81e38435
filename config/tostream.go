package config

import (
	"strconv"
	"strings"

	"github.com/f2bx/f2bx/config/fail2ban"
)

// Stream renders c as fail2ban's command stream, in the order fail2ban's
// client sends the same settings, so a native configuration can be
// compared with a fail2ban one. Times are given in seconds and log paths
// as the files their globs match now (glob expands a pattern).
func (c *Config) Stream(glob func(string) ([]string, error)) []fail2ban.Command {
	s := c.Server
	st := []fail2ban.Command{
		{"set", "syslogsocket", s.SyslogSocket},
		{"set", "loglevel", s.LogLevel},
		{"set", "logtarget", s.LogTarget},
		{"set", "allowipv6", s.AllowIPv6},
		{"set", "dbfile", s.DBFile},
		{"set", "dbmaxmatches", s.DBMaxMatches},
		{"set", "dbpurgeage", secs(s.DBPurgeAge)},
	}
	for _, j := range c.Jails {
		st = append(st, j.stream(glob)...)
	}
	for _, j := range c.Jails {
		st = append(st, fail2ban.Command{"start", j.Name})
	}
	return st
}

func (j *Jail) stream(glob func(string) ([]string, error)) []fail2ban.Command {
	n := j.Name
	f := j.Filter
	st := []fail2ban.Command{{"add", n, j.Backend}, {"set", n, "usedns", f.UseDNS}}
	if f.PrefRegex != "" {
		st = append(st, fail2ban.Command{"set", n, "prefregex", f.PrefRegex})
	}
	st = append(st, fail2ban.Command{"set", n, "maxlines", f.MaxLines})
	st = appendList(st, n, "addfailregex", f.FailRegex)
	st = appendList(st, n, "addignoreregex", f.IgnoreRegex)
	if f.DatePattern != "" {
		st = append(st, fail2ban.Command{"set", n, "datepattern", f.DatePattern})
	}
	for _, m := range j.JournalMatch {
		c := fail2ban.Command{"set", n, "addjournalmatch"}
		for _, w := range m {
			c = append(c, w)
		}
		st = append(st, c)
	}
	st = append(st,
		fail2ban.Command{"set", n, "maxretry", j.MaxRetry},
		fail2ban.Command{"set", n, "maxmatches", j.MaxMatches},
		fail2ban.Command{"set", n, "findtime", secs(j.FindTime)},
		fail2ban.Command{"set", n, "bantime", secs(j.BanTime)},
	)
	if i := j.Increment; i.Enabled {
		st = append(st, fail2ban.Command{"set", n, "bantime.increment", true})
		for _, kv := range [][2]string{{"factor", i.Factor}, {"formula", i.Formula}, {"multipliers", i.Multipliers}} {
			if kv[1] != "" {
				st = append(st, fail2ban.Command{"set", n, "bantime." + kv[0], kv[1]})
			}
		}
		if i.MaxTime != nil {
			st = append(st, fail2ban.Command{"set", n, "bantime.maxtime", secs(*i.MaxTime)})
		}
		if i.RndTime != nil {
			st = append(st, fail2ban.Command{"set", n, "bantime.rndtime", secs(*i.RndTime)})
		}
		st = append(st, fail2ban.Command{"set", n, "bantime.overalljails", i.OverallJails})
	}
	st = append(st, fail2ban.Command{"set", n, "ignorecommand", j.IgnoreCommand},
		fail2ban.Command{"set", n, "ignoreself", j.IgnoreSelf})
	if len(j.IgnoreIP) > 0 {
		c := fail2ban.Command{"set", n, "addignoreip"}
		for _, ip := range j.IgnoreIP {
			c = append(c, ip)
		}
		st = append(st, c)
	}
	if j.IgnoreCache != "" {
		st = append(st, fail2ban.Command{"set", n, "ignorecache", j.IgnoreCache})
	}
	if j.LogTimezone != "" {
		st = append(st, fail2ban.Command{"set", n, "logtimezone", j.LogTimezone})
	}
	st = append(st, fail2ban.Command{"set", n, "logencoding", j.LogEncoding})
	if !strings.HasPrefix(j.Backend, "systemd") {
		for _, lp := range j.LogPaths {
			files, _ := glob(lp.Path)
			for _, f := range files {
				tail := "head"
				if lp.Tail {
					tail = "tail"
				}
				st = append(st, fail2ban.Command{"set", n, "addlogpath", f, tail})
			}
		}
	}
	for _, a := range j.Actions {
		if a.PythonPath != "" {
			st = append(st, fail2ban.Command{"set", n, "addaction", a.Name, a.PythonPath, a.PythonArgs})
			continue
		}
		st = append(st, fail2ban.Command{"set", n, "addaction", a.Name})
		var kv []any
		for _, o := range a.Options {
			kv = append(kv, []any{o.Key, o.Value})
		}
		switch len(kv) {
		case 0:
		case 1:
			st = append(st, append(fail2ban.Command{"set", n, "action", a.Name}, kv[0].([]any)...))
		default:
			st = append(st, fail2ban.Command{"multi-set", n, "action", a.Name, kv})
		}
	}
	return st
}

func appendList(st []fail2ban.Command, jail, cmd string, list []string) []fail2ban.Command {
	switch len(list) {
	case 0:
		return st
	case 1:
		return append(st, fail2ban.Command{"set", jail, cmd, list[0]})
	}
	return append(st, fail2ban.Command{"multi-set", jail, cmd, append([]string(nil), list...)})
}

// secs renders a duration as fail2ban accepts it: whole seconds, or -1.
func secs(d Duration) string {
	s := d.Seconds()
	if s == float64(int64(s)) {
		return strconv.FormatInt(int64(s), 10)
	}
	return strconv.FormatFloat(s, 'f', -1, 64)
}
