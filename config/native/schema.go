package native

import (
	"fmt"

	"github.com/f2bx/f2bx/config"
)

// Time is a fail2ban time string ("10m", "1d12h", "1h+30m", "-1").
type Time struct {
	Text    string
	Seconds float64
}

// UnmarshalText parses and checks the time string.
func (t *Time) UnmarshalText(b []byte) error {
	s, err := config.ParseSeconds(string(b))
	if err != nil {
		return err
	}
	t.Text, t.Seconds = string(b), s
	return nil
}

// MainFile is f2bx.toml: server settings and defaults for every jail.
type MainFile struct {
	Server   ServerTable `toml:"server"`
	Defaults JailTable   `toml:"defaults"`
}

// ServerTable is the [server] table.
type ServerTable struct {
	LogLevel     *string `toml:"loglevel"`
	LogTarget    *string `toml:"logtarget"`
	SyslogSocket *string `toml:"syslogsocket"`
	AllowIPv6    *string `toml:"allowipv6"`
	DBFile       *string `toml:"dbfile"`
	DBPurgeAge   *Time   `toml:"dbpurgeage"`
	DBMaxMatches *int    `toml:"dbmaxmatches"`
	Socket       *string `toml:"socket"`
	PidFile      *string `toml:"pidfile"`
}

// JailTable is one jail in jails.d/*.toml (or [defaults] in f2bx.toml).
// An unset field (nil) takes the value of the layer below.
type JailTable struct {
	Enabled      *bool         `toml:"enabled"`
	Filter       *string       `toml:"filter"`
	LogPath      []string      `toml:"logpath"`
	Backend      *string       `toml:"backend"`
	JournalMatch []string      `toml:"journalmatch"`
	MaxRetry     *int          `toml:"maxretry"`
	MaxMatches   *int          `toml:"maxmatches"`
	FindTime     *Time         `toml:"findtime"`
	BanTime      *Time         `toml:"bantime"`
	Increment    *IncrementTab `toml:"bantime_increment"`
	IgnoreIP     []string      `toml:"ignoreip"`
	IgnoreSelf   *bool         `toml:"ignoreself"`
	IgnoreCmd    *string       `toml:"ignorecommand"`
	IgnoreCache  *string       `toml:"ignorecache"`
	UseDNS       *string       `toml:"usedns"`
	LogEncoding  *string       `toml:"logencoding"`
	LogTimezone  *string       `toml:"logtimezone"`
	PrefRegex    *string       `toml:"prefregex"`
	FailRegex    []string      `toml:"failregex"`
	IgnoreRegex  []string      `toml:"ignoreregex"`
	MaxLines     *int          `toml:"maxlines"`
	DatePattern  *string       `toml:"datepattern"`
	Actions      []ActionTable `toml:"actions"`
}

// IncrementTab is a jail's [NAME.bantime_increment] table.
type IncrementTab struct {
	Enabled      *bool   `toml:"enabled"`
	Factor       *string `toml:"factor"`
	Formula      *string `toml:"formula"`
	Multipliers  *string `toml:"multipliers"`
	MaxTime      *Time   `toml:"maxtime"`
	RndTime      *Time   `toml:"rndtime"`
	OverallJails *bool   `toml:"overalljails"`
}

// ActionTable is one [[NAME.actions]] entry: a built-in backend
// (f2bx-xdp, f2bx-nftables) or a fail2ban action.d command action given by
// its commands.
type ActionTable struct {
	Name    string            `toml:"name"`
	Options map[string]string `toml:"options"`
}

// FilterFile is filters.d/NAME.toml.
type FilterFile struct {
	Description  string              `toml:"description"`
	PrefRegex    string              `toml:"prefregex"`
	FailRegex    []string            `toml:"failregex"`
	IgnoreRegex  []string            `toml:"ignoreregex"`
	DatePattern  string              `toml:"datepattern"`
	MaxLines     int                 `toml:"maxlines"`
	JournalMatch []string            `toml:"journalmatch"`
	DefaultMode  string              `toml:"default_mode"`
	Modes        map[string]ModeSpec `toml:"modes"`
}

// ModeSpec adds failregexes for one mode, and those of the modes it
// includes.
type ModeSpec struct {
	Include   []string `toml:"include"`
	FailRegex []string `toml:"failregex"`
}

// overlay sets in j every field that o sets.
func (j *JailTable) overlay(o *JailTable) {
	if o == nil {
		return
	}
	setp(&j.Enabled, o.Enabled)
	setp(&j.Filter, o.Filter)
	sets(&j.LogPath, o.LogPath)
	setp(&j.Backend, o.Backend)
	sets(&j.JournalMatch, o.JournalMatch)
	setp(&j.MaxRetry, o.MaxRetry)
	setp(&j.MaxMatches, o.MaxMatches)
	setp(&j.FindTime, o.FindTime)
	setp(&j.BanTime, o.BanTime)
	if o.Increment != nil {
		if j.Increment == nil {
			j.Increment = &IncrementTab{}
		}
		i, n := j.Increment, o.Increment
		setp(&i.Enabled, n.Enabled)
		setp(&i.Factor, n.Factor)
		setp(&i.Formula, n.Formula)
		setp(&i.Multipliers, n.Multipliers)
		setp(&i.MaxTime, n.MaxTime)
		setp(&i.RndTime, n.RndTime)
		setp(&i.OverallJails, n.OverallJails)
	}
	sets(&j.IgnoreIP, o.IgnoreIP)
	setp(&j.IgnoreSelf, o.IgnoreSelf)
	setp(&j.IgnoreCmd, o.IgnoreCmd)
	setp(&j.IgnoreCache, o.IgnoreCache)
	setp(&j.UseDNS, o.UseDNS)
	setp(&j.LogEncoding, o.LogEncoding)
	setp(&j.LogTimezone, o.LogTimezone)
	setp(&j.PrefRegex, o.PrefRegex)
	sets(&j.FailRegex, o.FailRegex)
	sets(&j.IgnoreRegex, o.IgnoreRegex)
	setp(&j.MaxLines, o.MaxLines)
	setp(&j.DatePattern, o.DatePattern)
	sets(&j.Actions, o.Actions)
}

func setp[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

func sets[T any](dst *[]T, src []T) {
	if src != nil {
		*dst = src
	}
}

// modeRegexes returns the failregexes of mode, its includes first.
func (f *FilterFile) modeRegexes(mode string, seen map[string]bool) ([]string, error) {
	if seen[mode] {
		return nil, fmt.Errorf("mode %q includes itself", mode)
	}
	spec, ok := f.Modes[mode]
	if !ok {
		if mode == "normal" || mode == "" {
			return nil, nil
		}
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	seen[mode] = true
	var out []string
	for _, inc := range spec.Include {
		r, err := f.modeRegexes(inc, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	delete(seen, mode)
	return append(out, spec.FailRegex...), nil
}
