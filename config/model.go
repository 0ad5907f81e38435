// Package config is f2bx's resolved configuration: the server settings and
// the jails with their filters and actions, whichever format they came from
// (fail2ban's directory, f2bx's TOML, or the embedded defaults).
package config

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/f2bx/f2bx/config/fail2ban"
)

// Defaults fail2ban's server applies to what a jail does not set.
const (
	DefaultMaxRetry = 3
	DefaultFindTime = 10 * time.Minute
	DefaultBanTime  = 10 * time.Minute
	DefaultUseDNS   = "warn"
	DefaultMaxLines = 1
)

// Config is a loaded configuration.
type Config struct {
	// Source says where the configuration came from.
	Source Source  `json:"source"`
	Server Server  `json:"server"`
	Jails  []*Jail `json:"jails"`
	// Warnings are problems that changed nothing important.
	Warnings []string `json:"warnings,omitempty"`
	// Errors are problems that skipped a jail or a setting.
	Errors []string `json:"errors,omitempty"`
}

// Jail returns the named jail, or nil.
func (c *Config) Jail(name string) *Jail {
	for _, j := range c.Jails {
		if j.Name == name {
			return j
		}
	}
	return nil
}

// Source is where a configuration was read from.
type Source struct {
	// Kind is "fail2ban", "f2bx" or "embedded".
	Kind string `json:"kind"`
	Dir  string `json:"dir,omitempty"`
}

// Server holds the daemon-wide settings (fail2ban.conf's [Definition]).
type Server struct {
	LogLevel     string   `json:"loglevel"`
	LogTarget    string   `json:"logtarget"`
	SyslogSocket string   `json:"syslogsocket"`
	AllowIPv6    string   `json:"allowipv6"`
	DBFile       string   `json:"dbfile"`
	DBPurgeAge   Duration `json:"dbpurgeage"`
	DBMaxMatches int      `json:"dbmaxmatches"`
	// Socket and PidFile are where the daemon listens and writes its pid.
	Socket  string `json:"socket"`
	PidFile string `json:"pidfile"`
	// ThreadStackSize is [Thread] stacksize in KiB, 0 when unset.
	ThreadStackSize int `json:"thread_stacksize,omitempty"`
}

// Jail is one resolved jail.
type Jail struct {
	Name string `json:"name"`
	// Backend is auto, polling, pyinotify, or systemd[...] (the journal).
	Backend      string     `json:"backend"`
	LogPaths     []LogPath  `json:"logpaths,omitempty"`
	JournalMatch [][]string `json:"journalmatch,omitempty"`
	Filter       Filter     `json:"filter"`

	MaxRetry   int      `json:"maxretry"`
	MaxMatches int      `json:"maxmatches"`
	FindTime   Duration `json:"findtime"`
	// BanTime is negative for a permanent ban.
	BanTime   Duration         `json:"bantime"`
	Increment BanTimeIncrement `json:"bantime_increment"`

	IgnoreIP      []string `json:"ignoreip,omitempty"`
	IgnoreSelf    bool     `json:"ignoreself"`
	IgnoreCommand string   `json:"ignorecommand,omitempty"`
	IgnoreCache   string   `json:"ignorecache,omitempty"`

	LogEncoding string `json:"logencoding"`
	LogTimezone string `json:"logtimezone,omitempty"`

	Actions []Action `json:"actions"`
}

// LogPath is a log file a jail follows, from its head or its tail.
type LogPath struct {
	Path string `json:"path"`
	Tail bool   `json:"tail"`
}

// Filter is the part of a jail that turns log lines into failures.
type Filter struct {
	// Name is the filter file the jail names ("sshd"), for reports; it
	// does not change what the filter matches.
	Name        string   `json:"name,omitempty"`
	UseDNS      string   `json:"usedns"`
	PrefRegex   string   `json:"prefregex,omitempty"`
	FailRegex   []string `json:"failregex"`
	IgnoreRegex []string `json:"ignoreregex,omitempty"`
	MaxLines    int      `json:"maxlines"`
	DatePattern string   `json:"datepattern,omitempty"`
}

// BanTimeIncrement is fail2ban's bantime.* settings.
type BanTimeIncrement struct {
	Enabled      bool      `json:"enabled"`
	Factor       string    `json:"factor,omitempty"`
	Formula      string    `json:"formula,omitempty"`
	Multipliers  string    `json:"multipliers,omitempty"`
	MaxTime      *Duration `json:"maxtime,omitempty"`
	RndTime      *Duration `json:"rndtime,omitempty"`
	OverallJails bool      `json:"overalljails"`
}

// Action is one action of a jail: a fail2ban action.d command action (its
// options, commands included, in the order fail2ban sends them, tags not
// yet substituted), a fail2ban Python action, or an f2bx built-in backend.
type Action struct {
	Name string `json:"name"`
	// Options are the action's settings, in order.
	Options []Option `json:"options,omitempty"`
	// PythonPath is set for a fail2ban Python action (action.d/*.py);
	// PythonArgs is its JSON keyword arguments.
	PythonPath string `json:"python_path,omitempty"`
	PythonArgs string `json:"python_args,omitempty"`
	// File is the action.d file (without extension) or built-in the
	// action came from, when known; it does not change what it does.
	File string `json:"file,omitempty"`
}

// RingPrefix marks a logpath that is a shared-memory ring ("ring:NAME").
const RingPrefix = fail2ban.RingPrefix

// BackendOption is the option that names an action's built-in backend.
const BackendOption = fail2ban.BackendOption

// Built-in backends.
const (
	BackendXDP      = fail2ban.BackendXDP
	BackendNftables = fail2ban.BackendNftables
)

// Backend names the built-in backend that enforces the action (BackendXDP,
// BackendNftables), or "" for a command or Python action.
func (a *Action) Backend() string { v, _ := a.Get(BackendOption); return v }

// Get returns the value of the named option.
func (a *Action) Get(key string) (string, bool) {
	for _, o := range a.Options {
		if o.Key == key {
			return o.Value, true
		}
	}
	return "", false
}

// Set sets an option, keeping its position when it exists.
func (a *Action) Set(key, value string) {
	for i := range a.Options {
		if a.Options[i].Key == key {
			a.Options[i].Value = value
			return
		}
	}
	a.Options = append(a.Options, Option{Key: key, Value: value})
}

// Option is one key and value.
type Option struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Duration is a length of time; negative means forever. It is written as
// seconds in JSON.
type Duration time.Duration

// Seconds returns d in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// DurationOf converts seconds to a Duration.
func DurationOf(seconds float64) Duration {
	return Duration(math.Round(seconds * float64(time.Second)))
}

// MarshalJSON writes d as a number of seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(d.Seconds(), 'f', -1, 64)), nil
}

// UnmarshalJSON reads a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*d = DurationOf(s)
	return nil
}
