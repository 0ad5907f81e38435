package fail2ban

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/f2bx/f2bx/ini"
)

// CompatVersion is the fail2ban release whose configuration semantics f2bx
// reproduces; configurations see it as %(fail2ban_version)s.
const CompatVersion = "1.0.2"

var jailSpec1st = []optSpec{
	{optBool, "enabled", false},
	{optString, "backend", "auto"},
	{optString, "filter", ""},
}

var filterSpec = []optSpec{
	{optString, "usedns", nil},
	{optString, "prefregex", nil},
	{optString, "ignoreregex", nil},
	{optString, "failregex", nil},
	{optInt, "maxlines", nil},
	{optString, "datepattern", nil},
	{optString, "journalmatch", nil},
}

var jailSpec = append([]optSpec{
	{optBool, "enabled", false},
	{optString, "backend", "auto"},
	{optInt, "maxretry", nil},
	{optInt, "maxmatches", nil},
	{optString, "findtime", nil},
	{optString, "bantime", nil},
	{optBool, "bantime.increment", nil},
	{optString, "bantime.factor", nil},
	{optString, "bantime.formula", nil},
	{optString, "bantime.multipliers", nil},
	{optString, "bantime.maxtime", nil},
	{optString, "bantime.rndtime", nil},
	{optBool, "bantime.overalljails", nil},
	{optString, "ignorecommand", nil},
	{optBool, "ignoreself", nil},
	{optString, "ignoreip", nil},
	{optString, "ignorecache", nil},
	{optString, "filter", ""},
	{optString, "logtimezone", nil},
	{optString, "logencoding", nil},
	{optString, "logpath", nil},
	{optString, "action", ""},
}, filterSpec...)

var actionSpec = []optSpec{
	{optString, "actionstart", nil},
	{optBool, "actionstart_on_demand", nil},
	{optString, "actionstop", nil},
	{optString, "actionflush", nil},
	{optString, "actionreload", nil},
	{optString, "actioncheck", nil},
	{optString, "actionrepair", nil},
	{optBool, "actionrepair_on_unban", nil},
	{optString, "actionban", nil},
	{optString, "actionprolong", nil},
	{optString, "actionreban", nil},
	{optString, "actionunban", nil},
	{optBool, "norestored", nil},
}

// actionIgnoreTags are substituted only when a ban happens.
var actionIgnoreTags = map[string]bool{"matches": true, "ipmatches": true, "ipjailmatches": true, "timeout": true, "bantime": true}

// jailIgnoreOpts are not sent as plain "set" commands.
var jailIgnoreOpts = func() map[string]bool {
	m := map[string]bool{"action": true, "filter": true, "enabled": true}
	for _, o := range filterSpec {
		m[o.name] = true
	}
	return m
}()

// jailDefError is a problem that skips one jail; pos is the file:line of
// the option at fault, when known.
type jailDefError struct{ msg, pos string }

func (e *jailDefError) Error() string { return e.msg }

// action is an action.d file read for a jail, a Python action, or one of
// f2bx's built-in backends (its commands ready).
type action struct {
	name    string
	file    string // the action.d file, without extension (or the built-in)
	reader  *defInit
	python  Command
	builtin []Command
}

// f2bx's built-in backends, as action names.
const (
	BackendXDP      = "f2bx-xdp"
	BackendNftables = "f2bx-nftables"
)

// Builtins are the action names f2bx enforces itself; they win over an
// action.d file of the same name.
// RingPrefix marks a logpath that is one of f2bx's shared-memory rings
// ("ring:NAME").
const RingPrefix = "ring:"

var Builtins = map[string]bool{BackendXDP: true, BackendNftables: true}

// BackendOption marks a built-in action in the stream: its value is the
// backend's name.
const BackendOption = "f2bx-backend"

// jail reads one jail section.
type jail struct {
	name       string
	cfg        *ini.Config
	fs         *files
	diag       *diag
	opts       *odict
	filter     *defInit
	filterName string // the filter.d file, without extension
	actions    []action
	configErr  string
	globs      []LogGlob
}

// LogGlob is a jail's logpath entry as written: a glob and "head" or
// "tail".
type LogGlob struct {
	Pattern string
	Tail    string
}

func (j *jail) enabled() bool {
	v, _ := j.opts.get("enabled")
	b, _ := v.(bool)
	return b
}

// read reads the jail's options, its filter and its actions. A jail whose
// filter or action cannot be read records configErr; other errors are
// returned.
func (j *jail) read() error {
	j.cfg.Defaults.Set("fail2ban_version", ini.Value{Raw: CompatVersion})
	j.cfg.Defaults.Set("fail2ban_confpath", ini.Value{Raw: j.fs.base})
	opts, err := getOptions(j.cfg, j.name, jailSpec1st, nil, true, true, j.diag)
	if err != nil {
		return err
	}
	j.opts = opts
	if !j.enabled() {
		return nil
	}
	if err := j.readParts(); err != nil {
		if de, ok := err.(*jailDefError); ok {
			j.reportDefError(de)
			return nil
		}
		return err
	}
	return nil
}

// reportDefError records a problem that skips the jail, naming where the
// jail set the option at fault.
func (j *jail) reportDefError(de *jailDefError) {
	msg := fmt.Sprintf("jail %s: %s", pyRepr(j.name), de.msg)
	if de.pos != "" {
		msg = de.pos + ": " + msg
	}
	j.diag.error("%s", msg)
	j.configErr = de.msg
}

// pos returns where the jail's option is set (its section or DEFAULT).
func (j *jail) pos(option string) string {
	v, _ := j.cfg.Raw(j.name, option)
	return v.Pos()
}

func (j *jail) readParts() error {
	if flt := j.opts.str("filter"); flt != "" {
		name, fopts, err := ExtractOptions(flt)
		if err != nil {
			return &jailDefError{fmt.Sprintf("Invalid filter definition %s: %v", pyRepr(flt), err), j.pos("filter")}
		}
		j.filterName = name
		j.filter = newDefInit(pyJoin("filter.d", name), j.name, fopts, filterSpec, j.diag)
		found, err := j.filter.read(j.fs)
		if err != nil {
			return &jailDefError{fmt.Sprintf("Unable to read the filter %s: %v", pyRepr(name), err), j.pos("filter")}
		}
		if !found {
			return &jailDefError{fmt.Sprintf("Unable to read the filter %s", pyRepr(name)), j.pos("filter")}
		}
		if !j.filter.initOpts.has("logtype") && !j.filter.cfg.HasOption("Definition", "logtype", false) {
			logtype := "file"
			if strings.HasPrefix(j.opts.str("backend"), "systemd") {
				logtype = "journal"
			}
			j.filter.initOpts.set("logtype", logtype)
		}
		if err := j.filter.getOptions(j.opts, true); err != nil {
			return err
		}
		comb, err := j.filter.combined(nil)
		if err != nil {
			return err
		}
		known := ini.NewSection("")
		for _, k := range comb.keys {
			known.Set(k, ini.Value{Raw: pyStr(comb.m[k])})
		}
		j.cfg.MergeSection(j.name, known, "known/")
	} else {
		j.filter = nil
		j.diag.warn("No filter set for jail %s", j.name)
	}
	opts, err := getOptions(j.cfg, j.name, jailSpec, nil, true, false, j.diag)
	if err != nil {
		return err
	}
	j.opts = opts
	if j.filter != nil {
		if err := j.filter.getOptions(j.opts, false); err != nil {
			return err
		}
	}
	for _, act := range SplitWithOptions(j.opts.str("action")) {
		if act = pyStrip(act); act == "" {
			continue
		}
		if err := j.readAction(act); err != nil {
			return err
		}
	}
	if len(j.actions) == 0 {
		j.diag.warn("No actions were defined for %s", j.name)
	}
	return nil
}

func (j *jail) readAction(act string) error {
	name, aopts, err := ExtractOptions(act)
	if err != nil {
		return &jailDefError{fmt.Sprintf("Invalid action definition %s: %v", pyRepr(act), err), j.pos("action")}
	}
	if strings.HasSuffix(name, ".py") {
		actname := strings.TrimSuffix(name, path.Ext(name))
		if v, ok := aopts.get("actname"); ok {
			actname = pyStr(v)
			rest := newODict()
			for _, k := range aopts.keys {
				if k != "actname" {
					rest.set(k, aopts.m[k])
				}
			}
			aopts = rest
		}
		j.actions = append(j.actions, action{name: actname, file: name, python: Command{
			"set", j.name, "addaction", actname, pyJoin(pyJoin(j.fs.base, "action.d"), name), jsonDumps(aopts),
		}})
		return nil
	}
	if Builtins[name] {
		actname := name
		if aopts.has("actname") {
			actname = aopts.str("actname")
		}
		cmds := []Command{{"set", j.name, "addaction", actname}, {"set", j.name, "action", actname, BackendOption, name}}
		for _, k := range aopts.keys {
			if k != "actname" {
				cmds = append(cmds, Command{"set", j.name, "action", actname, k, aopts.str(k)})
			}
		}
		j.actions = append(j.actions, action{name: actname, file: name, builtin: cmds})
		return nil
	}
	n := aopts.str("name")
	if !aopts.has("name") {
		n = j.name
		aopts.set("name", n)
	}
	actname := aopts.str("actname")
	if !aopts.has("actname") {
		actname = name
		if n != j.name {
			if strings.HasPrefix(n, j.name) {
				actname += n[len(j.name):]
			} else {
				actname += "-" + n
			}
		}
		aopts.set("actname", actname)
	}
	r := newDefInit(pyJoin("action.d", name), j.name, aopts, actionSpec, j.diag)
	found, err := r.read(j.fs)
	if err != nil {
		return &jailDefError{fmt.Sprintf("Unable to read action %s: %v", pyRepr(name), err), j.pos("action")}
	}
	if !found {
		return &jailDefError{fmt.Sprintf("Unable to read action %s", pyRepr(name)), j.pos("action")}
	}
	if err := r.getOptions(j.opts, false); err != nil {
		return fmt.Errorf("Error in action definition %s: %w", pyRepr(act), err)
	}
	j.actions = append(j.actions, action{name: actname, file: name, reader: r})
	return nil
}

// stream converts the jail to commands, as "fail2ban-client -d" prints
// them. With allowNoFiles a logpath that matches nothing is a warning,
// otherwise an error.
func (j *jail) stream(allowNoFiles bool) ([]Command, error) {
	if j.configErr != "" {
		return []Command{{"config-error", fmt.Sprintf("Jail '%s' skipped, because of wrong configuration: %s", j.name, j.configErr)}}, nil
	}
	var st []Command
	j.globs = nil
	if j.filter != nil {
		comb, err := j.filter.combined(nil)
		if err != nil {
			return nil, err
		}
		st, err = fillStream(st, comb, j.name)
		if err != nil {
			return nil, err
		}
	}
	st, err := fillStream(st, j.opts, j.name)
	if err != nil {
		return nil, err
	}
	var logs []Command
	var backend any
	for _, opt := range j.opts.keys {
		value := j.opts.m[opt]
		switch {
		case opt == "logpath":
			if strings.HasPrefix(j.opts.str("backend"), "systemd") {
				continue
			}
			found := 0
			for _, p := range strings.Split(pyStr(value), "\n") {
				tail := "head"
				if i := strings.LastIndexByte(p, ' '); i >= 0 {
					p, tail = p[:i], p[i+1:]
				}
				j.globs = append(j.globs, LogGlob{Pattern: p, Tail: tail})
				if strings.HasPrefix(p, RingPrefix) {
					// f2bx's shared-memory ring: not a file.
					found++
					logs = append(logs, Command{"set", j.name, "addlogpath", p, tail})
					continue
				}
				matches, err := globFiles(p)
				if err != nil {
					return nil, fmt.Errorf("jail %s: logpath %q: %w", j.name, p, err)
				}
				if len(matches) == 0 {
					j.diag.warn("No file(s) found for glob %s", p)
				}
				for _, m := range matches {
					found++
					logs = append(logs, Command{"set", j.name, "addlogpath", m, tail})
				}
			}
			if found == 0 {
				msg := fmt.Sprintf("Have not found any log file for %s jail", j.name)
				if !allowNoFiles {
					return nil, &jailDefError{msg, j.pos("logpath")}
				}
				j.diag.warn("%s", msg)
			}
		case opt == "backend":
			backend = value
		case opt == "ignoreip":
			c := Command{"set", j.name, "addignoreip"}
			for _, w := range splitWords(pyStr(value)) {
				c = append(c, w)
			}
			st = append(st, c)
		case !jailIgnoreOpts[opt]:
			st = append(st, Command{"set", j.name, opt, value})
		}
	}
	st = append(st, logs...)
	for _, a := range j.actions {
		if a.python != nil {
			st = append(st, a.python)
			continue
		}
		if a.builtin != nil {
			st = append(st, a.builtin...)
			continue
		}
		cmds, err := a.reader.actionStream(a.name)
		if err != nil {
			return nil, err
		}
		st = append(st, cmds...)
	}
	return append([]Command{{"add", j.name, backend}}, st...), nil
}

// actionStream converts an action to its addaction and action commands.
func (r *defInit) actionStream(name string) ([]Command, error) {
	opts, err := r.combined(actionIgnoreTags)
	if err != nil {
		return nil, err
	}
	isAction := map[string]bool{}
	for _, o := range actionSpec {
		isAction[o.name] = true
	}
	st := []Command{{"set", r.jailName, "addaction", name}}
	var multi []any
	for _, k := range opts.keys {
		if isAction[k] && !strings.HasPrefix(k, "known/") {
			multi = append(multi, []any{k, opts.m[k]})
		}
	}
	for _, k := range r.initOpts.keys {
		if !isAction[k] && !strings.HasPrefix(k, "known/") {
			multi = append(multi, []any{k, r.initOpts.m[k]})
		}
	}
	switch {
	case len(multi) > 1:
		st = append(st, Command{"multi-set", r.jailName, "action", name, multi})
	case len(multi) == 1:
		st = append(st, append(Command{"set", r.jailName, "action", name}, multi[0].([]any)...))
	}
	return st, nil
}

// fillStream adds the filter options among opts to the stream: usedns
// first, then maxlines and prefregex, regex lists as add commands.
func fillStream(st []Command, opts *odict, jail string) ([]Command, error) {
	prio := 0
	for _, opt := range opts.keys {
		value := opts.m[opt]
		if value == nil {
			continue
		}
		switch {
		case opt == "failregex" || opt == "ignoreregex":
			var multi []string
			for _, re := range strings.Split(pyStr(value), "\n") {
				if re != "" {
					multi = append(multi, re)
				}
			}
			if len(multi) > 1 {
				st = append(st, Command{"multi-set", jail, "add" + opt, multi})
			} else if len(multi) == 1 {
				st = append(st, Command{"set", jail, "add" + opt, multi[0]})
			}
		case opt == "usedns" || opt == "maxlines" || opt == "prefregex":
			at := prio
			if opt == "usedns" {
				at = 0
			}
			st = append(st[:at], append([]Command{{"set", jail, opt, value}}, st[at:]...)...)
			prio++
		case strings.Contains("datepattern", opt):
			// fail2ban tests `opt in ('datepattern')`, a substring test.
			st = append(st, Command{"set", jail, opt, value})
		case opt == "journalmatch":
			for _, m := range strings.Split(pyStr(value), "\n") {
				if m == "" {
					continue
				}
				words, err := shlexSplit(m)
				if err != nil {
					return nil, fmt.Errorf("jail %s: journalmatch %q: %v", jail, m, err)
				}
				c := Command{"set", jail, "addjournalmatch"}
				for _, w := range words {
					c = append(c, w)
				}
				st = append(st, c)
			}
		}
	}
	return st, nil
}

// globFiles expands a logpath glob, leaving out dangling links.
func globFiles(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), ".") && !strings.HasPrefix(filepath.Base(pattern), ".") {
			continue
		}
		if _, err := os.Stat(m); err == nil {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out, nil
}
