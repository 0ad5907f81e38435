// Package load finds and loads f2bx's configuration: a directory given on
// the command line (fail2ban's or f2bx's kind, recognised by its files),
// else /etc/f2bx, else /etc/fail2ban, else the defaults embedded in the
// binary.
package load

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/fail2ban"
	"github.com/f2bx/f2bx/config/native"
)

// Standard locations.
const (
	NativeDir   = "/etc/f2bx"
	Fail2banDir = "/etc/fail2ban"
)

// Kinds of configuration.
const (
	KindFail2ban = "fail2ban"
	KindNative   = "f2bx"
	KindEmbedded = "embedded"
)

// Options control Load.
type Options struct {
	// Dir is the configuration directory; empty means look in the
	// standard places.
	Dir string
	// AllowNoFiles makes a jail without any log file a warning instead of
	// an error (for dumping a configuration on another machine).
	AllowNoFiles bool
	// Glob expands logpath globs of native configurations; filepath.Glob
	// when nil.
	Glob func(string) ([]string, error)
	// Embedded is the built-in layer; f2bx.Defaults when nil.
	Embedded fs.FS
	// StandardDirs are the directories looked in, in order, when Dir is
	// empty; NativeDir and Fail2banDir when nil.
	StandardDirs []string
}

// Result is a loaded configuration and, for a fail2ban directory, the
// command stream fail2ban's client would send for it.
type Result struct {
	Config *config.Config
	// Stream is set for fail2ban directories.
	Stream []fail2ban.Command
}

// Kind tells which kind of configuration dir holds: fail2ban's (jail.conf,
// jail.local or fail2ban.conf), f2bx's (f2bx.toml, jails.d or filters.d),
// or "" for neither.
func Kind(dir string) string {
	for _, f := range []string{"jail.conf", "jail.local", "fail2ban.conf"} {
		if exists(filepath.Join(dir, f)) {
			return KindFail2ban
		}
	}
	for _, f := range []string{"f2bx.toml", "jails.d", "filters.d"} {
		if exists(filepath.Join(dir, f)) {
			return KindNative
		}
	}
	return ""
}

// Load loads the configuration o names.
func Load(o Options) (*Result, error) {
	if o.Embedded == nil {
		o.Embedded = f2bx.Defaults
	}
	dir, kind := o.Dir, ""
	if dir != "" {
		if !exists(dir) {
			return nil, fmt.Errorf("configuration directory %s does not exist", dir)
		}
		if kind = Kind(dir); kind == "" {
			return nil, fmt.Errorf("%s is neither a fail2ban configuration (jail.conf, fail2ban.conf) nor an f2bx one (f2bx.toml, jails.d, filters.d)", dir)
		}
	} else {
		if o.StandardDirs == nil {
			o.StandardDirs = []string{NativeDir, Fail2banDir}
		}
		kind = KindEmbedded
		for _, d := range o.StandardDirs {
			if k := Kind(d); k != "" {
				dir, kind = d, k
				break
			}
		}
	}
	if kind == KindFail2ban {
		return loadFail2ban(dir, o)
	}
	layers := []native.Layer{{Name: "embedded", FS: o.Embedded}}
	if kind == KindNative {
		layers = append(layers, native.Layer{Name: dir, FS: os.DirFS(dir)})
	}
	cfg, err := native.Load(layers, native.Options{Glob: o.Glob})
	if err != nil {
		return nil, err
	}
	cfg.Source = config.Source{Kind: kind, Dir: dir}
	return &Result{Config: cfg}, nil
}

func loadFail2ban(dir string, o Options) (*Result, error) {
	res, err := fail2ban.Read(dir, fail2ban.Options{AllowNoFiles: o.AllowNoFiles})
	if err != nil {
		return nil, err
	}
	cfg, err := config.FromStream(res.Stream)
	if err != nil {
		return nil, err
	}
	for _, j := range cfg.Jails {
		if parts, ok := res.Parts[j.Name]; ok {
			j.Filter.Name = parts.Filter
			for i := range j.Actions {
				j.Actions[i].File = parts.Actions[j.Actions[i].Name]
			}
		}
		if globs, ok := res.LogGlobs[j.Name]; ok {
			j.LogPaths = nil
			for _, g := range globs {
				j.LogPaths = append(j.LogPaths, config.LogPath{Path: g.Pattern, Tail: g.Tail == "tail"})
			}
		}
	}
	cfg.Source = config.Source{Kind: KindFail2ban, Dir: dir}
	cfg.Server.Socket, cfg.Server.PidFile = res.Socket, res.PidFile
	cfg.Warnings = dedupe(append(res.Warnings, cfg.Warnings...))
	cfg.Errors = dedupe(append(res.Errors, cfg.Errors...))
	return &Result{Config: cfg, Stream: res.Stream}, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
