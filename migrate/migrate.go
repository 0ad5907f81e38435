// Package migrate converts a fail2ban installation to f2bx: the enabled
// jails with their filters and actions into f2bx's TOML (jails.d,
// filters.d, f2bx.toml), and the active bans of fail2ban's database into
// f2bx's. Every converted jail is loaded back and compared with the jail
// it came from before anything is written.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter"
)

// Statuses of a jail in the report.
const (
	Converted          = "converted"
	ConvertedWithNotes = "converted with notes"
	NotConverted       = "not converted"
)

// Options control Convert.
type Options struct {
	// KeepFirewall maps fail2ban's firewall actions to f2bx's nftables
	// backend instead of XDP.
	KeepFirewall bool
	// DBFile, when set, is written as f2bx.toml's dbfile.
	DBFile string
	// Embedded is f2bx's built-in layer (filters it ships); f2bx.Defaults
	// when nil.
	Embedded fs.FS
	// Progress, when set, is told how many jails are done.
	Progress func(done, total int)
}

// Plan is a converted configuration: the files to write below the target
// directory and the report.
type Plan struct {
	// Files maps a path relative to the target directory to its content.
	Files map[string]string `json:"-"`
	// Server lists what happened to fail2ban.conf's settings.
	Server []string      `json:"server,omitempty"`
	Jails  []*JailReport `json:"jails"`
	// Bans is the ban import, when a database was given.
	Bans *BanReport `json:"bans,omitempty"`
}

// JailReport says how one jail was converted.
type JailReport struct {
	Jail   string `json:"jail"`
	Status string `json:"status"`
	// Files are the files written for the jail.
	Files []string `json:"files,omitempty"`
	// Notes say what changed and why, or why the jail was not converted.
	Notes []string `json:"notes,omitempty"`
	// Hints suggest what to do next; they change nothing.
	Hints []string `json:"hints,omitempty"`
	// Regexes counts the jail's regexes per engine ("re2", "regexp2").
	Regexes map[string]int `json:"regexes,omitempty"`
	// BansImported is how many active bans of the jail were imported.
	BansImported int `json:"bans_imported"`

	jail *config.Jail // the converted jail, as f2bx will load it
}

func (r *JailReport) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// Convert converts the jails of a configuration read from a fail2ban
// directory (config/load with Kind fail2ban).
func Convert(cfg *config.Config, o Options) (*Plan, error) {
	if o.Embedded == nil {
		o.Embedded = f2bx.Defaults
	}
	p := &Plan{Files: map[string]string{}}
	p.Files["f2bx.toml"] = p.serverFile(cfg.Server, o)
	for _, e := range cfg.Errors {
		if m := skippedJail.FindStringSubmatch(e); m != nil {
			p.Jails = append(p.Jails, &JailReport{Jail: m[1], Status: NotConverted, Notes: []string{"fail2ban itself skips this jail: " + m[2]}})
		}
	}
	native := nativeFilters(o.Embedded)
	names := fileNames{"disabled-defaults": true}
	for i, j := range cfg.Jails {
		r := &JailReport{Jail: j.Name, Regexes: map[string]int{}}
		p.Jails = append(p.Jails, r)
		name := names.name(j.Name)
		filterName := "fail2ban-" + name
		jailFile, filterFile := "jails.d/"+name+".toml", "filters.d/"+filterName+".toml"
		files, conv := convertJail(j, r, filterName, o)
		if conv != nil {
			p.Files[jailFile], p.Files[filterFile] = files[0], files[1]
			r.Files = []string{jailFile, filterFile}
			r.jail = conv
		}
		if r.Status == "" {
			r.Status = Converted
			if len(r.Notes) > 0 {
				r.Status = ConvertedWithNotes
			}
		}
		if native[j.Filter.Name] && r.Status != NotConverted {
			r.Hints = append(r.Hints, fmt.Sprintf("f2bx ships its own linear-time filter %q: set filter = %q in %s to use it", j.Filter.Name, j.Filter.Name, jailFile))
		}
		if o.Progress != nil {
			o.Progress(i+1, len(cfg.Jails))
		}
	}
	p.disableDefaults(cfg, o.Embedded)
	if err := p.verify(o.Embedded); err != nil {
		return nil, err
	}
	sort.SliceStable(p.Jails, func(a, b int) bool { return p.Jails[a].Jail < p.Jails[b].Jail })
	return p, nil
}

// disableDefaults writes jails.d/disabled-defaults.toml, which turns off
// the jails f2bx enables by default (sshd) that fail2ban did not run.
func (p *Plan) disableDefaults(cfg *config.Config, embedded fs.FS) {
	defaults, err := native.Load([]native.Layer{{Name: "embedded", FS: embedded}},
		native.Options{Glob: func(p string) ([]string, error) { return []string{p}, nil }})
	if err != nil {
		return
	}
	var w tomlWriter
	for _, j := range defaults.Jails {
		if cfg.Jail(j.Name) != nil {
			continue
		}
		if w.b.Len() == 0 {
			w.comment("f2bx enables these jails by default; fail2ban did not run them.")
		}
		w.blank()
		w.table(j.Name)
		w.boolean("enabled", false)
		p.Server = append(p.Server, fmt.Sprintf("f2bx's default jail %s is disabled, as it was in fail2ban", j.Name))
	}
	if w.b.Len() > 0 {
		p.Files["jails.d/disabled-defaults.toml"] = w.String()
	}
}

// skippedJail matches fail2ban's message for a jail it does not start.
var skippedJail = regexp.MustCompile(`^Jail '(.*)' skipped, because of wrong configuration: (.*)$`)

// Converted returns the jails that were converted, as f2bx loads them.
func (p *Plan) Converted() []*config.Jail {
	var out []*config.Jail
	for _, r := range p.Jails {
		if r.jail != nil {
			out = append(out, r.jail)
		}
	}
	return out
}

// serverFile writes f2bx.toml from fail2ban.conf's settings. The socket,
// pid file and (unless o.DBFile) database are f2bx's own.
func (p *Plan) serverFile(s config.Server, o Options) string {
	var w tomlWriter
	w.comment("Converted from fail2ban's configuration by f2bx migrate.\nThe socket, pid file and database are f2bx's own (see f2bx --help).")
	w.blank()
	w.table("server")
	w.str("loglevel", s.LogLevel)
	w.str("logtarget", s.LogTarget)
	w.str("syslogsocket", s.SyslogSocket)
	w.str("allowipv6", s.AllowIPv6)
	w.time("dbpurgeage", s.DBPurgeAge)
	w.integer("dbmaxmatches", s.DBMaxMatches)
	if o.DBFile != "" {
		w.str("dbfile", o.DBFile)
	}
	p.Server = append(p.Server, fmt.Sprintf("loglevel %s, logtarget %s, dbpurgeage %s and dbmaxmatches %d kept", s.LogLevel, s.LogTarget, timeString(s.DBPurgeAge.Seconds()), s.DBMaxMatches))
	if s.DBFile != "" {
		db := o.DBFile
		if db == "" {
			db = "f2bx's default"
		}
		p.Server = append(p.Server, fmt.Sprintf("dbfile: f2bx keeps its bans in its own database (%s); fail2ban's (%s) is only read, for the ban import", db, s.DBFile))
	}
	return w.String()
}

// nativeFilters lists the filters f2bx ships.
func nativeFilters(embedded fs.FS) map[string]bool {
	out := map[string]bool{}
	names, _ := fs.Glob(embedded, "filters.d/*.toml")
	for _, n := range names {
		out[strings.TrimSuffix(path.Base(n), ".toml")] = true
	}
	return out
}

// fileNames gives each jail a file name that is safe and distinct.
type fileNames map[string]bool

// name returns the jail's name cleaned for a file name, made distinct
// (case-insensitively) from the names given before.
func (n fileNames) name(jail string) string {
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, jail)
	base = strings.TrimLeft(base, ".")
	if base == "" {
		base = "jail"
	}
	name := base
	for i := 2; n[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	n[strings.ToLower(name)] = true
	return name
}

// convertJail writes a jail's two files (jails.d, filters.d) and returns
// the jail f2bx must load from them; nil when it cannot be converted.
func convertJail(j *config.Jail, r *JailReport, filterName string, o Options) ([2]string, *config.Jail) {
	var files [2]string
	if bad := invalidText(j); bad != "" {
		r.Status = NotConverted
		r.note("%s is not valid UTF-8, which TOML cannot hold", bad)
		return files, nil
	}
	if !checkRegexes(j, r) {
		r.Status = NotConverted
		return files, nil
	}
	want := *j
	want.Actions = mapActions(j, r, o.KeepFirewall)
	want.Filter.Name = filterName
	files[0] = jailTOML(&want, filterName, r)
	files[1] = filterTOML(&want)
	return files, &want
}

// checkRegexes compiles the jail's regexes as f2bx will and counts their
// engines; false when one does not compile.
func checkRegexes(j *config.Jail, r *JailReport) bool {
	multi := j.Filter.MaxLines > 1
	check := func(what, src string) bool {
		re, err := filter.CompileRegex(src, j.Filter.UseDNS, multi)
		if err != nil {
			r.note("%s does not compile: %v", what, err)
			return false
		}
		r.Regexes[re.Engine]++
		if re.Engine == filter.EngineRegexp2 {
			r.note("%s keeps Python's semantics on regexp2 (backtracking, with a match timeout): %s", what, re.Why)
		}
		return true
	}
	ok := true
	if j.Filter.PrefRegex != "" {
		ok = check("prefregex", j.Filter.PrefRegex) && ok
	}
	for i, s := range j.Filter.FailRegex {
		ok = check(fmt.Sprintf("failregex %d", i+1), s) && ok
	}
	for i, s := range j.Filter.IgnoreRegex {
		ok = check(fmt.Sprintf("ignoreregex %d", i+1), s) && ok
	}
	return ok
}

// invalidText names a setting of j that is not valid UTF-8, or "".
func invalidText(j *config.Jail) string {
	f := j.Filter
	for _, set := range []struct {
		name  string
		texts []string
	}{
		{"prefregex", []string{f.PrefRegex}}, {"failregex", f.FailRegex}, {"ignoreregex", f.IgnoreRegex},
		{"datepattern", []string{f.DatePattern}}, {"ignoreip", j.IgnoreIP}, {"ignorecommand", []string{j.IgnoreCommand}},
	} {
		for _, s := range set.texts {
			if !utf8.ValidString(s) {
				return set.name
			}
		}
	}
	for _, lp := range j.LogPaths {
		if !utf8.ValidString(lp.Path) {
			return "logpath"
		}
	}
	for _, a := range j.Actions {
		for _, o := range a.Options {
			if !utf8.ValidString(o.Value) {
				return "action " + a.Name + " " + o.Key
			}
		}
	}
	return ""
}

// jailTOML writes jails.d/NAME.toml: every setting explicit, so that the
// jail does not depend on f2bx's defaults.
func jailTOML(j *config.Jail, filterName string, r *JailReport) string {
	var w tomlWriter
	w.comment(fmt.Sprintf("Jail %s, converted from fail2ban's configuration by f2bx migrate.", j.Name))
	w.blank()
	w.table(j.Name)
	w.boolean("enabled", true)
	w.str("filter", filterName)
	w.str("backend", j.Backend)
	if len(j.LogPaths) > 0 {
		var lps []string
		for _, lp := range j.LogPaths {
			s := lp.Path
			if lp.Tail {
				s += " tail"
			}
			lps = append(lps, s)
		}
		w.list("logpath", lps)
	}
	if len(j.JournalMatch) > 0 {
		var ms []string
		for _, m := range j.JournalMatch {
			for _, f := range m {
				if strings.ContainsAny(f, " \t") {
					r.note("journalmatch %q holds a space, which f2bx's journalmatch cannot", f)
				}
			}
			ms = append(ms, strings.Join(m, " "))
		}
		w.list("journalmatch", ms)
	}
	w.integer("maxretry", j.MaxRetry)
	w.integer("maxmatches", j.MaxMatches)
	w.time("findtime", j.FindTime)
	w.time("bantime", j.BanTime)
	w.list("ignoreip", j.IgnoreIP)
	w.boolean("ignoreself", j.IgnoreSelf)
	if j.IgnoreCommand != "" {
		w.str("ignorecommand", j.IgnoreCommand)
	}
	if j.IgnoreCache != "" {
		w.str("ignorecache", j.IgnoreCache)
	}
	w.str("usedns", j.Filter.UseDNS)
	w.str("logencoding", j.LogEncoding)
	if j.LogTimezone != "" {
		w.str("logtimezone", j.LogTimezone)
	}
	if len(j.Actions) == 0 {
		w.raw("actions", "[]")
	}
	if inc := j.Increment; inc != (config.BanTimeIncrement{}) {
		w.blank()
		w.table(j.Name, "bantime_increment")
		w.boolean("enabled", inc.Enabled)
		if inc.Factor != "" {
			w.str("factor", inc.Factor)
		}
		if inc.Formula != "" {
			w.str("formula", inc.Formula)
		}
		if inc.Multipliers != "" {
			w.str("multipliers", inc.Multipliers)
		}
		if inc.MaxTime != nil {
			w.time("maxtime", *inc.MaxTime)
		}
		if inc.RndTime != nil {
			w.time("rndtime", *inc.RndTime)
		}
		w.boolean("overalljails", inc.OverallJails)
	}
	for _, a := range j.Actions {
		w.blank()
		w.arrayTable(j.Name, "actions")
		w.str("name", a.Name)
		var opts []config.Option
		for _, o := range a.Options {
			if o.Key != config.BackendOption {
				opts = append(opts, o)
			}
		}
		if len(opts) > 0 {
			w.table(j.Name, "actions", "options")
			for _, o := range opts {
				w.str(o.Key, o.Value)
			}
		}
	}
	return w.String()
}

// filterTOML writes filters.d/fail2ban-NAME.toml: the jail's filter as
// fail2ban resolved it (its parameters and the jail's overrides applied).
func filterTOML(j *config.Jail) string {
	var w tomlWriter
	w.comment(fmt.Sprintf("The filter of jail %s as fail2ban resolves it, converted by f2bx migrate.\nThe regexes are fail2ban's, unchanged: f2bx runs each on RE2 (linear time)\nwhen its Python syntax translates exactly, else on regexp2 with a timeout.", j.Name))
	w.blank()
	w.str("description", fmt.Sprintf("fail2ban's filter for jail %s", j.Name))
	if j.Filter.PrefRegex != "" {
		w.str("prefregex", j.Filter.PrefRegex)
	}
	w.list("failregex", j.Filter.FailRegex)
	if len(j.Filter.IgnoreRegex) > 0 {
		w.list("ignoreregex", j.Filter.IgnoreRegex)
	}
	if j.Filter.DatePattern != "" {
		w.str("datepattern", j.Filter.DatePattern)
	}
	w.integer("maxlines", j.Filter.MaxLines)
	return w.String()
}
