// Package native loads f2bx's own TOML configuration: f2bx.toml (server
// settings and jail defaults), jails.d/*.toml and filters.d/*.toml, from
// several layers (the defaults embedded in the binary, then /etc/f2bx),
// into the same model as a fail2ban configuration.
package native

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/fail2ban"
	"github.com/pelletier/go-toml/v2"
)

// Layer is one source of configuration files.
type Layer struct {
	// Name prefixes file names in messages ("/etc/f2bx", "embedded").
	Name string
	FS   fs.FS
}

// Options control Load.
type Options struct {
	// Glob expands a logpath glob; filepath.Glob when nil.
	Glob func(pattern string) ([]string, error)
}

// Defaults of a jail before f2bx.toml's [defaults] and the jail's own file.
func baseJail() JailTable {
	t, f := true, false
	five, s := 5, func(v string) *string { return &v }
	tm := func(v string) *Time { x := &Time{}; _ = x.UnmarshalText([]byte(v)); return x }
	return JailTable{
		Enabled: &f, Backend: s("auto"), MaxRetry: &five,
		FindTime: tm("10m"), BanTime: tm("10m"), IgnoreSelf: &t,
		IgnoreIP: []string{"127.0.0.1/8", "::1"}, UseDNS: s("warn"), LogEncoding: s("auto"),
		Actions: []ActionTable{{Name: "f2bx-xdp"}},
	}
}

// Server defaults of f2bx.
func baseServer() config.Server {
	return config.Server{LogLevel: "INFO", LogTarget: "STDERR", SyslogSocket: "auto", AllowIPv6: "auto",
		DBFile: "/var/lib/f2bx/f2bx.db", DBPurgeAge: config.DurationOf(86400), DBMaxMatches: 10,
		Socket: "/run/f2bx/f2bx.sock", PidFile: "/run/f2bx/f2bx.pid"}
}

// Load reads the layers, later layers overriding earlier ones: a jail's
// settings key by key, a filter file as a whole. Syntax errors, unknown
// keys and wrong types are returned with file:line:column; a jail that
// cannot be resolved (unknown filter, no log file) is listed in the
// result's Errors and left out.
func Load(layers []Layer, o Options) (*config.Config, error) {
	if o.Glob == nil {
		o.Glob = filepath.Glob
	}
	main := MainFile{}
	jails := map[string]*JailTable{}
	jailFile := map[string]string{}
	var jailOrder []string
	filters := map[string]*FilterFile{}
	for _, l := range layers {
		var mf MainFile
		if ok, err := decodeFile(l, "f2bx.toml", &mf); err != nil {
			return nil, err
		} else if ok {
			overlayServer(&main.Server, &mf.Server)
			main.Defaults.overlay(&mf.Defaults)
		}
		names, err := tomlFiles(l, "jails.d")
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			var jf map[string]*JailTable
			if _, err := decodeFile(l, n, &jf); err != nil {
				return nil, err
			}
			keys := make([]string, 0, len(jf))
			for k := range jf {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if jails[k] == nil {
					jails[k] = &JailTable{}
					jailOrder = append(jailOrder, k)
				}
				jails[k].overlay(jf[k])
				jailFile[k] = l.Name + "/" + n
			}
		}
		if err := readFilters(l, filters); err != nil {
			return nil, err
		}
	}
	cfg := &config.Config{Server: baseServer()}
	applyServer(&cfg.Server, &main.Server)
	for _, name := range jailOrder {
		t := baseJail()
		t.overlay(&main.Defaults)
		t.overlay(jails[name])
		if !*t.Enabled {
			continue
		}
		j, warn, err := resolveJail(name, &t, filters, o)
		if err != nil {
			cfg.Errors = append(cfg.Errors, fmt.Sprintf("%s: jail %s skipped: %v", jailFile[name], name, err))
			continue
		}
		cfg.Warnings = append(cfg.Warnings, warn...)
		cfg.Jails = append(cfg.Jails, j)
	}
	return cfg, nil
}

// decodeFile decodes one TOML file strictly; ok is false when it does not
// exist.
func decodeFile(l Layer, name string, v any) (bool, error) {
	data, err := fs.ReadFile(l.FS, name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	d := toml.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return true, positioned(l.Name+"/"+name, err)
	}
	return true, nil
}

// positioned turns go-toml's errors into "file:line:col: message".
func positioned(file string, err error) error {
	var de *toml.DecodeError
	var se *toml.StrictMissingError
	switch {
	case errors.As(err, &se) && len(se.Errors) > 0:
		var msgs []error
		for _, e := range se.Errors {
			row, col := e.Position()
			msgs = append(msgs, fmt.Errorf("%s:%d:%d: unknown key %q", file, row, col, strings.Join(e.Key(), ".")))
		}
		return errors.Join(msgs...)
	case errors.As(err, &de):
		row, col := de.Position()
		return fmt.Errorf("%s:%d:%d: %s", file, row, col, strings.TrimPrefix(de.Error(), "toml: "))
	}
	return fmt.Errorf("%s: %w", file, err)
}

// tomlFiles lists dir/*.toml in a layer, sorted.
func tomlFiles(l Layer, dir string) ([]string, error) {
	entries, err := fs.ReadDir(l.FS, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".toml") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, dir+"/"+e.Name())
		}
	}
	return out, nil
}

func overlayServer(dst, src *ServerTable) {
	setp(&dst.LogLevel, src.LogLevel)
	setp(&dst.LogTarget, src.LogTarget)
	setp(&dst.SyslogSocket, src.SyslogSocket)
	setp(&dst.AllowIPv6, src.AllowIPv6)
	setp(&dst.DBFile, src.DBFile)
	setp(&dst.DBPurgeAge, src.DBPurgeAge)
	setp(&dst.DBMaxMatches, src.DBMaxMatches)
	setp(&dst.Socket, src.Socket)
	setp(&dst.PidFile, src.PidFile)
}

func applyServer(s *config.Server, t *ServerTable) {
	setv(&s.LogLevel, t.LogLevel)
	setv(&s.LogTarget, t.LogTarget)
	setv(&s.SyslogSocket, t.SyslogSocket)
	setv(&s.AllowIPv6, t.AllowIPv6)
	setv(&s.DBFile, t.DBFile)
	setv(&s.Socket, t.Socket)
	setv(&s.PidFile, t.PidFile)
	setv(&s.DBMaxMatches, t.DBMaxMatches)
	if t.DBPurgeAge != nil {
		s.DBPurgeAge = config.DurationOf(t.DBPurgeAge.Seconds)
	}
}

// resolveJail turns a merged jail table into the model.
func resolveJail(name string, t *JailTable, filters map[string]*FilterFile, o Options) (*config.Jail, []string, error) {
	j := config.NewJail(name)
	var warn []string
	if t.Filter == nil || *t.Filter == "" {
		return nil, nil, fmt.Errorf("no filter set")
	}
	filt, journal, err := resolveFilter(*t.Filter, filters)
	if err != nil {
		return nil, nil, err
	}
	j.Filter = filt
	setv(&j.Filter.PrefRegex, t.PrefRegex)
	if t.FailRegex != nil {
		j.Filter.FailRegex = t.FailRegex
	}
	if t.IgnoreRegex != nil {
		j.Filter.IgnoreRegex = t.IgnoreRegex
	}
	setv(&j.Filter.MaxLines, t.MaxLines)
	setv(&j.Filter.DatePattern, t.DatePattern)
	setv(&j.Filter.UseDNS, t.UseDNS)
	if len(j.Filter.FailRegex) == 0 {
		return nil, nil, fmt.Errorf("filter %q has no failregex", *t.Filter)
	}
	if t.JournalMatch != nil {
		journal = t.JournalMatch
	}
	for _, m := range journal {
		j.JournalMatch = append(j.JournalMatch, strings.Fields(m))
	}
	setv(&j.Backend, t.Backend)
	setv(&j.MaxRetry, t.MaxRetry)
	j.MaxMatches = j.MaxRetry
	setv(&j.MaxMatches, t.MaxMatches)
	if t.FindTime != nil {
		j.FindTime = config.DurationOf(t.FindTime.Seconds)
	}
	if t.BanTime != nil {
		j.BanTime = config.DurationOf(t.BanTime.Seconds)
	}
	if i := t.Increment; i != nil {
		setv(&j.Increment.Enabled, i.Enabled)
		setv(&j.Increment.Factor, i.Factor)
		setv(&j.Increment.Formula, i.Formula)
		setv(&j.Increment.Multipliers, i.Multipliers)
		setv(&j.Increment.OverallJails, i.OverallJails)
		if i.MaxTime != nil {
			d := config.DurationOf(i.MaxTime.Seconds)
			j.Increment.MaxTime = &d
		}
		if i.RndTime != nil {
			d := config.DurationOf(i.RndTime.Seconds)
			j.Increment.RndTime = &d
		}
	}
	j.IgnoreIP = t.IgnoreIP
	setv(&j.IgnoreSelf, t.IgnoreSelf)
	setv(&j.IgnoreCommand, t.IgnoreCmd)
	setv(&j.IgnoreCache, t.IgnoreCache)
	setv(&j.LogEncoding, t.LogEncoding)
	setv(&j.LogTimezone, t.LogTimezone)
	for _, a := range t.Actions {
		if a.Name == "" {
			return nil, nil, fmt.Errorf("an action has no name")
		}
		act := config.Action{Name: a.Name}
		if fail2ban.Builtins[a.Name] {
			act.Set(config.BackendOption, a.Name)
		}
		keys := make([]string, 0, len(a.Options))
		for k := range a.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			act.Set(k, a.Options[k])
		}
		j.Actions = append(j.Actions, act)
	}
	if !strings.HasPrefix(j.Backend, "systemd") {
		found := false
		for _, lp := range t.LogPath {
			p, tail := lp, false
			if i := strings.LastIndexByte(lp, ' '); i >= 0 && (lp[i+1:] == "tail" || lp[i+1:] == "head") {
				p, tail = lp[:i], lp[i+1:] == "tail"
			}
			j.LogPaths = append(j.LogPaths, config.LogPath{Path: p, Tail: tail})
			if strings.HasPrefix(p, config.RingPrefix) {
				found = true // a shared-memory ring, created when missing
			} else if m, err := o.Glob(p); err == nil && len(m) > 0 {
				found = true
			}
		}
		if !found {
			switch {
			case j.Backend == "auto" && len(j.JournalMatch) > 0:
				warn = append(warn, fmt.Sprintf("jail %s: no log file found for %v; reading the systemd journal", name, t.LogPath))
				j.Backend, j.LogPaths = "systemd", nil
			default:
				return nil, nil, fmt.Errorf("have not found any log file for %s jail", name)
			}
		}
	}
	return j, warn, nil
}

func setv[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// resolveFilter resolves "name[mode=m]" against the filter files: the
// failregexes of every mode and of the chosen one, and the filter's
// journal matches.
func resolveFilter(spec string, filters map[string]*FilterFile) (config.Filter, []string, error) {
	var c config.Filter
	fname, params, err := fail2ban.ExtractOptions(spec)
	if err != nil {
		return c, nil, fmt.Errorf("filter %q: %v", spec, err)
	}
	f := filters[fname]
	if f == nil {
		return c, nil, fmt.Errorf("filter %q not found in filters.d", fname)
	}
	mode := f.DefaultMode
	for _, k := range params.Keys() {
		if k != "mode" {
			return c, nil, fmt.Errorf("filter %q: unknown parameter %q (native filters take mode=)", spec, k)
		}
		mode = params.Str(k)
	}
	extra, err := f.modeRegexes(mode, map[string]bool{})
	if err != nil {
		return c, nil, fmt.Errorf("filter %q: %v", fname, err)
	}
	c = config.Filter{
		Name:        fname,
		UseDNS:      config.DefaultUseDNS,
		PrefRegex:   f.PrefRegex,
		FailRegex:   append(append([]string(nil), f.FailRegex...), extra...),
		IgnoreRegex: f.IgnoreRegex,
		DatePattern: f.DatePattern,
		MaxLines:    config.DefaultMaxLines,
	}
	if f.MaxLines > 0 {
		c.MaxLines = f.MaxLines
	}
	return c, f.JournalMatch, nil
}

// LoadFilter reads the filters of the layers and resolves one filter
// ("sshd[mode=aggressive]"), for f2bx regex.
func LoadFilter(layers []Layer, spec string) (config.Filter, error) {
	filters := map[string]*FilterFile{}
	for _, l := range layers {
		if err := readFilters(l, filters); err != nil {
			return config.Filter{}, err
		}
	}
	c, _, err := resolveFilter(spec, filters)
	return c, err
}

// readFilters reads a layer's filters.d/*.toml into filters, replacing
// filters of the same name from lower layers.
func readFilters(l Layer, filters map[string]*FilterFile) error {
	names, err := tomlFiles(l, "filters.d")
	if err != nil {
		return err
	}
	for _, n := range names {
		var ff FilterFile
		if _, err := decodeFile(l, n, &ff); err != nil {
			return err
		}
		filters[strings.TrimSuffix(path.Base(n), ".toml")] = &ff
	}
	return nil
}
