package fail2ban

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/f2bx/f2bx/ini"
)

// files reads configuration files below a base directory the way
// fail2ban's client does, caching each parsed file and each named
// configuration ("jail", "filter.d/sshd", ...) so that every jail using a
// filter shares one read of it.
type files struct {
	base   string
	parsed map[string]*parsedFile
	incl   map[string][]string
	named  map[string]*namedConfig
}

type parsedFile struct {
	file *ini.File
	cfg  *ini.Config // the file alone, for interpolating its [INCLUDES]
	err  error
}

type namedConfig struct {
	cfg   *ini.Config
	found bool
	err   error
}

func newFiles(base string) *files {
	return &files{
		base:   strings.TrimRight(base, "/"),
		parsed: map[string]*parsedFile{},
		incl:   map[string][]string{},
		named:  map[string]*namedConfig{},
	}
}

// read loads NAME.conf, NAME.d/*.conf, NAME.local and NAME.d/*.local (each
// sorted), following includes, later values winning. found is false when
// none of those files exists.
func (f *files) read(name string) (cfg *ini.Config, found bool, err error) {
	if n := f.named[name]; n != nil {
		return n.cfg, n.found, n.err
	}
	n := &namedConfig{}
	f.named[name] = n
	basename := pyJoin(f.base, name)
	candidates := []string{basename + ".conf"}
	candidates = append(candidates, glob(basename+".d", ".conf")...)
	candidates = append(candidates, basename+".local")
	candidates = append(candidates, glob(basename+".d", ".local")...)
	var existing []string
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			existing = append(existing, c)
		}
	}
	if len(existing) == 0 {
		return nil, false, nil
	}
	all, err := f.includes(existing, nil)
	if err != nil {
		n.err = err
		return nil, true, err
	}
	n.cfg, n.found = ini.NewConfig(), true
	for _, p := range all {
		pf := f.parse(p)
		if pf.err != nil {
			n.err = pf.err
			return nil, true, pf.err
		}
		if pf.file != nil {
			n.cfg.Merge(pf.file)
		}
	}
	return n.cfg, true, nil
}

// parse reads one file; a file that cannot be opened yields no file and
// no error, as configparser skips it.
func (f *files) parse(p string) *parsedFile {
	if pf := f.parsed[p]; pf != nil {
		return pf
	}
	pf := &parsedFile{}
	f.parsed[p] = pf
	data, err := os.ReadFile(p)
	if err != nil {
		return pf
	}
	pf.file, pf.err = ini.Parse(p, data)
	if pf.err == nil {
		pf.cfg = ini.NewConfig()
		pf.cfg.Merge(pf.file)
	}
	return pf
}

// includes returns the files to merge for the given ones: each followed by
// its own .local, with [INCLUDES] before= files ahead of it and after=
// files behind it, recursively; a file already on the path is skipped.
func (f *files) includes(names, seen []string) ([]string, error) {
	names = withLocal(names)
	key := strings.Join(names, "\x01")
	if c, ok := f.incl[key]; ok {
		return c, nil
	}
	var all []string
	for _, n := range names {
		l, err := f.includesOf(n, seen)
		if err != nil {
			return nil, err
		}
		all = append(all, l...)
	}
	f.incl[key] = all
	return all, nil
}

func (f *files) includesOf(resource string, seen []string) ([]string, error) {
	pf := f.parse(resource)
	if pf.err != nil {
		return nil, pf.err
	}
	if pf.file == nil {
		return nil, nil
	}
	dir := path.Dir(resource)
	if !strings.Contains(resource, "/") {
		dir = ""
	}
	var lists [2][]string
	if sec := pf.file.Section("INCLUDES"); sec != nil {
		for i, opt := range []string{"before", "after"} {
			if !sec.Has(opt) && !pf.file.Defaults.Has(opt) {
				continue
			}
			val, err := pf.cfg.Get("INCLUDES", opt, nil)
			if err != nil {
				return nil, err
			}
			for _, r := range strings.Split(val, "\n") {
				if !filepath.IsAbs(r) {
					r = pyJoin(dir, r)
				}
				if contains(seen, r) {
					continue
				}
				l, err := f.includes([]string{r}, append(seen[:len(seen):len(seen)], resource))
				if err != nil {
					return nil, err
				}
				lists[i] = append(lists[i], l...)
			}
		}
	}
	out := append(lists[0], resource)
	return append(out, lists[1]...), nil
}

// withLocal puts each file's ".local" right after it, when that exists and
// is not named already.
func withLocal(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n)
		local := strings.TrimSuffix(n, path.Ext(n)) + ".local"
		if contains(names, local) {
			continue
		}
		if st, err := os.Stat(local); err == nil && st.Mode().IsRegular() {
			out = append(out, local)
		}
	}
	return out
}

// glob lists dir/*EXT sorted, skipping hidden files as Python's glob does.
func glob(dir, ext string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ext) {
			continue
		}
		out = append(out, dir+"/"+n)
	}
	sort.Strings(out)
	return out
}

// pyJoin is os.path.join for two parts: an absolute second part wins, and
// nothing is cleaned.
func pyJoin(a, b string) string {
	if strings.HasPrefix(b, "/") || a == "" {
		return b
	}
	if strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
