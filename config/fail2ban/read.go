// Package fail2ban reads a fail2ban configuration directory exactly as
// fail2ban's client does and turns it into fail2ban's command stream, the
// one "fail2ban-client -d" prints.
//
// The layering (.conf, .d/*.conf, .local, .d/*.local, includes), the
// interpolation (%(x)s, known/, default/, section/), the tag substitution in
// filters and actions, the parameter syntax and the order of the commands
// follow fail2ban 1.0.2. Where fail2ban gives up on the whole configuration
// for one broken jail, f2bx reports the jail and skips it.
package fail2ban

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Command is one command of the stream: strings, ints, bools, nil and
// lists of them, printed as a Python literal.
type Command []any

// String renders the command as fail2ban-client -d prints it.
func (c Command) String() string { return pyRepr([]any(c)) }

// Options tell Read how fail2ban-client was invoked.
type Options struct {
	// AllowNoFiles makes a jail whose logpath matches no file a warning
	// (as with -d) rather than an error.
	AllowNoFiles bool
	// Jail, when set, reads only this jail.
	Jail string
}

// Result is what reading a configuration gives.
type Result struct {
	Stream   []Command
	Warnings []string
	// Errors are problems that skipped a jail or a setting; a non-empty
	// list means the configuration is not clean.
	Errors []string
	// Socket and PidFile are the server's, from fail2ban.conf.
	Socket, PidFile string
	// LogGlobs are each jail's logpath globs as written, which the stream
	// only carries as the files they match now.
	LogGlobs map[string][]LogGlob
	// Parts name the files each jail's filter and actions came from.
	Parts map[string]JailParts
}

// JailParts names the filter.d and action.d files of a jail (without
// their extension): what the stream does not carry.
type JailParts struct {
	Filter string
	// Actions maps each action's name to its file ("iptables-multiport",
	// "smtp.py", or a built-in's name).
	Actions map[string]string
}

// Read reads the fail2ban configuration below dir.
func Read(dir string, o Options) (*Result, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("base configuration directory %s does not exist", dir)
	}
	fs := newFiles(dir)
	d := &diag{}
	general, early, err := readServer(fs, d)
	if err != nil {
		return nil, err
	}
	jails, err := readJails(fs, d, o)
	if err != nil {
		return nil, err
	}
	res := &Result{Stream: general, LogGlobs: map[string][]LogGlob{}, Parts: map[string]JailParts{}, Socket: early.str("socket"), PidFile: early.str("pidfile")}
	var started []string
	for _, j := range jails {
		st, err := j.stream(o.AllowNoFiles)
		var de *jailDefError
		if errors.As(err, &de) {
			j.reportDefError(de)
			st, err = j.stream(o.AllowNoFiles)
		}
		if err != nil {
			return nil, err
		}
		res.Stream = append(res.Stream, st...)
		res.LogGlobs[j.name] = j.globs
		parts := JailParts{Filter: j.filterName, Actions: map[string]string{}}
		for _, a := range j.actions {
			parts.Actions[a.name] = a.file
		}
		res.Parts[j.name] = parts
		if j.configErr == "" {
			started = append(started, j.name)
		}
	}
	for _, n := range started {
		res.Stream = append(res.Stream, Command{"start", n})
	}
	res.Warnings, res.Errors = d.warnings, d.errors
	return res, nil
}

// readJails reads every enabled jail of jail.conf and its layers.
func readJails(fs *files, d *diag, o Options) ([]*jail, error) {
	cfg, found, err := fs.read("jail")
	if err != nil {
		return nil, err
	}
	if !found {
		d.error("Found no accessible config files for 'jail' under %s", fs.base)
		return nil, nil
	}
	sections := cfg.Sections()
	if o.Jail != "" {
		sections = []string{o.Jail}
		if !cfg.HasSection(o.Jail) {
			return nil, fmt.Errorf("jail %q was not found among available jails", o.Jail)
		}
	}
	var out []*jail
	for _, name := range sections {
		if name == "INCLUDES" {
			continue
		}
		j := &jail{name: name, cfg: cfg, fs: fs, diag: d}
		if err := j.read(); err != nil {
			return nil, fmt.Errorf("jail %s: %w", name, err)
		}
		if j.configErr != "" {
			d.error("Errors in jail %s. Skipping...", pyRepr(name))
		}
		if j.configErr != "" || j.enabled() {
			out = append(out, j)
		}
	}
	return out, nil
}

var serverEarlySpec = []optSpec{
	{optString, "socket", "/var/run/fail2ban/fail2ban.sock"},
	{optString, "pidfile", "/var/run/fail2ban/fail2ban.pid"},
	{optString, "loglevel", "INFO"},
	{optString, "logtarget", "/var/log/fail2ban.log"},
	{optString, "syslogsocket", "auto"},
}

var serverSpec = []optSpec{
	{optString, "loglevel", "INFO"},
	{optString, "logtarget", "STDERR"},
	{optString, "syslogsocket", "auto"},
	{optString, "allowipv6", "auto"},
	{optString, "dbfile", "/var/lib/fail2ban/fail2ban.sqlite3"},
	{optInt, "dbmaxmatches", nil},
	{optString, "dbpurgeage", "1d"},
}

// serverOrder is the order fail2ban sends the server settings in.
var serverOrder = []string{"thread", "syslogsocket", "loglevel", "logtarget", "allowipv6", "dbfile", "dbmaxmatches", "dbpurgeage"}

var logLevels = map[string]bool{
	"CRITICAL": true, "ERROR": true, "WARNING": true, "NOTICE": true, "INFO": true,
	"DEBUG": true, "TRACEDEBUG": true, "HEAVYDEBUG": true, "MSG": true,
}

// readServer reads fail2ban.conf and its layers into the server commands,
// and returns the client's early options (socket, pidfile, ...) too.
func readServer(fs *files, d *diag) ([]Command, *odict, error) {
	cfg, found, err := fs.read("fail2ban")
	if err != nil {
		return nil, nil, err
	}
	if !found {
		d.error("Found no accessible config files for 'fail2ban' under %s", fs.base)
		cfg = nil
	}
	get := func(spec []optSpec) (*odict, error) {
		if cfg == nil {
			o := newODict()
			for _, s := range spec {
				if s.def != nil {
					o.set(s.name, s.def)
				}
			}
			return o, nil
		}
		return getOptions(cfg, "Definition", spec, nil, true, false, d)
	}
	early, err := get(serverEarlySpec)
	if err != nil {
		return nil, nil, err
	}
	opts, err := get(serverSpec)
	if err != nil {
		return nil, nil, err
	}
	// The client passes its own settings, read early, over the server's.
	for _, k := range []string{"socket", "pidfile", "loglevel", "logtarget", "syslogsocket"} {
		if v, ok := early.get(k); ok {
			opts.set(k, v)
		}
	}
	if lvl := strings.ToUpper(opts.str("loglevel")); !logLevels[lvl] {
		if _, err := pyInt(lvl); err != nil {
			return nil, nil, fmt.Errorf("invalid log level %q", opts.str("loglevel"))
		}
	}
	if cfg != nil && cfg.HasSection("Thread") {
		th, err := getOptions(cfg, "Thread", []optSpec{{optInt, "stacksize", nil}}, nil, true, false, d)
		if err != nil {
			return nil, nil, err
		}
		if th.len() > 0 {
			opts.set("thread", th)
		}
	}
	var st []Command
	for _, k := range serverOrder {
		if v, ok := opts.get(k); ok {
			st = append(st, Command{"set", k, v})
		}
	}
	return st, early, nil
}

// ReadFilter reads filter.d/NAME below dir on its own, for jail "jail" with
// the given parameters (as name[k=v] would give them), the way
// fail2ban-regex and fail2ban's sample tests read a filter. It returns the
// filter's commands.
func ReadFilter(dir, name string, params [][2]string) ([]Command, error) {
	fs := newFiles(dir)
	d := &diag{}
	init := newODict()
	for _, p := range params {
		init.set(p[0], p[1])
	}
	r := newDefInit(pyJoin("filter.d", name), "jail", init, filterSpec, d)
	found, err := r.read(fs)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no filter %q in %s/filter.d", name, dir)
	}
	if err := r.getOptions(nil, false); err != nil {
		return nil, err
	}
	comb, err := r.combined(nil)
	if err != nil {
		return nil, err
	}
	return fillStream(nil, comb, "jail")
}
