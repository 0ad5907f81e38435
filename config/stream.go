package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/f2bx/f2bx/config/fail2ban"
)

// FromStream builds the configuration from fail2ban's command stream, the
// way fail2ban's server builds its jails from what the client sends. Values
// that do not convert are errors naming the jail and option; that jail is
// left out.
func FromStream(cmds []fail2ban.Command) (*Config, error) {
	c := &Config{Server: Server{LogLevel: "INFO", LogTarget: "STDERR", SyslogSocket: "auto", AllowIPv6: "auto",
		DBFile: "/var/lib/fail2ban/fail2ban.sqlite3", DBPurgeAge: Duration(24 * 60 * 60 * 1e9)}}
	jails := map[string]*Jail{}
	bad := map[string]bool{}
	setMaxMatches := map[string]bool{}
	for _, cmd := range cmds {
		if len(cmd) == 0 {
			continue
		}
		verb := str(cmd[0])
		switch {
		case verb == "config-error" && len(cmd) > 1:
			c.Errors = append(c.Errors, str(cmd[1]))
		case verb == "add" && len(cmd) == 3:
			j := NewJail(str(cmd[1]))
			j.Backend = str(cmd[2])
			jails[j.Name] = j
		case verb == "start" && len(cmd) == 2:
			if j := jails[str(cmd[1])]; j != nil && !bad[j.Name] {
				c.Jails = append(c.Jails, j)
			}
		case (verb == "set" || verb == "multi-set") && len(cmd) == 3:
			if err := c.Server.set(str(cmd[1]), cmd[2]); err != nil {
				return nil, err
			}
		case (verb == "set" || verb == "multi-set") && len(cmd) > 3:
			j := jails[str(cmd[1])]
			if j == nil {
				return nil, fmt.Errorf("command %v names jail %q before adding it", cmd, str(cmd[1]))
			}
			setMaxMatches[j.Name] = setMaxMatches[j.Name] || str(cmd[2]) == "maxmatches"
			if err := j.set(str(cmd[2]), cmd[3:]); err != nil {
				c.Errors = append(c.Errors, fmt.Sprintf("jail %s: %v", j.Name, err))
				bad[j.Name] = true
			}
		default:
			return nil, fmt.Errorf("unknown command %v", cmd)
		}
	}
	for _, j := range c.Jails {
		if !setMaxMatches[j.Name] {
			j.MaxMatches = j.MaxRetry
		}
	}
	return c, nil
}

// NewJail returns a jail with fail2ban's server defaults.
func NewJail(name string) *Jail {
	return &Jail{
		Name: name, Backend: "auto",
		MaxRetry: DefaultMaxRetry, MaxMatches: DefaultMaxRetry,
		FindTime: Duration(DefaultFindTime), BanTime: Duration(DefaultBanTime),
		IgnoreSelf: true, LogEncoding: "auto",
		Filter: Filter{UseDNS: DefaultUseDNS, MaxLines: DefaultMaxLines},
	}
}

func (s *Server) set(opt string, v any) error {
	switch opt {
	case "loglevel":
		s.LogLevel = str(v)
	case "logtarget":
		s.LogTarget = str(v)
	case "syslogsocket":
		s.SyslogSocket = str(v)
	case "allowipv6":
		s.AllowIPv6 = str(v)
	case "dbfile":
		s.DBFile = str(v)
	case "dbmaxmatches":
		n, err := toInt(v)
		if err != nil {
			return fmt.Errorf("dbmaxmatches: %v", err)
		}
		s.DBMaxMatches = n
	case "dbpurgeage":
		d, err := toDuration(v)
		if err != nil {
			return fmt.Errorf("dbpurgeage: %v", err)
		}
		s.DBPurgeAge = d
	case "thread":
		// [Thread] stacksize; a dict in the stream.
		if m, ok := v.(interface{ Get(string) (any, bool) }); ok {
			if n, ok := m.Get("stacksize"); ok {
				s.ThreadStackSize, _ = toInt(n)
			}
		}
	default:
		return fmt.Errorf("unknown server setting %q", opt)
	}
	return nil
}

func (j *Jail) set(opt string, args []any) error {
	one := func() any {
		if len(args) > 0 {
			return args[0]
		}
		return nil
	}
	var err error
	switch opt {
	case "usedns":
		j.Filter.UseDNS = str(one())
	case "prefregex":
		j.Filter.PrefRegex = str(one())
	case "maxlines":
		j.Filter.MaxLines, err = toInt(one())
	case "datepattern":
		j.Filter.DatePattern = str(one())
	case "addfailregex":
		j.Filter.FailRegex = append(j.Filter.FailRegex, strs(one())...)
	case "addignoreregex":
		j.Filter.IgnoreRegex = append(j.Filter.IgnoreRegex, strs(one())...)
	case "addjournalmatch":
		j.JournalMatch = append(j.JournalMatch, strs(args))
	case "addlogpath":
		lp := LogPath{Path: str(one())}
		if len(args) > 1 {
			lp.Tail = str(args[1]) == "tail"
		}
		j.LogPaths = append(j.LogPaths, lp)
	case "addignoreip":
		j.IgnoreIP = append(j.IgnoreIP, strs(args)...)
	case "maxretry":
		j.MaxRetry, err = toInt(one())
	case "maxmatches":
		j.MaxMatches, err = toInt(one())
	case "findtime":
		j.FindTime, err = toDuration(one())
	case "bantime":
		j.BanTime, err = toDuration(one())
	case "bantime.increment":
		j.Increment.Enabled = toBool(one())
	case "bantime.factor":
		j.Increment.Factor = str(one())
	case "bantime.formula":
		j.Increment.Formula = str(one())
	case "bantime.multipliers":
		j.Increment.Multipliers = str(one())
	case "bantime.maxtime":
		var d Duration
		d, err = toDuration(one())
		j.Increment.MaxTime = &d
	case "bantime.rndtime":
		var d Duration
		d, err = toDuration(one())
		j.Increment.RndTime = &d
	case "bantime.overalljails":
		j.Increment.OverallJails = toBool(one())
	case "ignorecommand":
		j.IgnoreCommand = str(one())
	case "ignoreself":
		j.IgnoreSelf = toBool(one())
	case "ignorecache":
		j.IgnoreCache = str(one())
	case "logencoding":
		j.LogEncoding = str(one())
	case "logtimezone":
		j.LogTimezone = str(one())
	case "addaction":
		a := Action{Name: str(one())}
		if len(args) == 3 {
			a.PythonPath, a.PythonArgs = str(args[1]), str(args[2])
		}
		j.Actions = append(j.Actions, a)
	case "action":
		if len(args) < 2 {
			return fmt.Errorf("action: missing arguments")
		}
		a := j.action(str(args[0]))
		if a == nil {
			return fmt.Errorf("action %q is set before it is added", str(args[0]))
		}
		if list, ok := args[1].([]any); ok && len(args) == 2 {
			for _, kv := range list {
				p, _ := kv.([]any)
				if len(p) == 2 {
					a.Set(str(p[0]), str(p[1]))
				}
			}
		} else if len(args) == 3 {
			a.Set(str(args[1]), str(args[2]))
		}
	default:
		return fmt.Errorf("unknown option %q", opt)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", opt, err)
	}
	return nil
}

func (j *Jail) action(name string) *Action {
	for i := range j.Actions {
		if j.Actions[i].Name == name {
			return &j.Actions[i]
		}
	}
	return nil
}

// str renders a stream value as fail2ban's server reads it.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int:
		return strconv.Itoa(x)
	}
	return fmt.Sprint(v)
}

func strs(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = str(e)
		}
		return out
	case nil:
		return nil
	}
	return []string{str(v)}
}

func toInt(v any) (int, error) {
	if n, ok := v.(int); ok {
		return n, nil
	}
	return strconv.Atoi(strings.TrimSpace(str(v)))
}

func toBool(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	return fail2ban.AsBool(str(v))
}

func toDuration(v any) (Duration, error) {
	if n, ok := v.(int); ok {
		return DurationOf(float64(n)), nil
	}
	s, err := ParseSeconds(str(v))
	if err != nil {
		return 0, err
	}
	return DurationOf(s), nil
}

// Fail2banFilter reads filter.d/NAME of a fail2ban directory on its own,
// with parameters (as name[k=v] gives them), into the model; it also
// returns the filter's commands.
func Fail2banFilter(dir, name string, params [][2]string) (Filter, []fail2ban.Command, error) {
	cmds, err := fail2ban.ReadFilter(dir, name, params)
	if err != nil {
		return Filter{}, nil, err
	}
	st := append([]fail2ban.Command{{"add", "jail", "auto"}}, cmds...)
	c, err := FromStream(append(st, fail2ban.Command{"start", "jail"}))
	if err != nil {
		return Filter{}, nil, err
	}
	if len(c.Jails) != 1 {
		return Filter{}, nil, fmt.Errorf("filter %s: %v", name, c.Errors)
	}
	return c.Jails[0].Filter, cmds, nil
}
