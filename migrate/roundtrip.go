package migrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"testing/fstest"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
)

// verify loads the plan's files over the embedded layer, as f2bx will
// load the target directory, and compares every converted jail with the
// jail it must be. A jail that differs is marked not converted and its
// files are dropped.
func (p *Plan) verify(embedded fs.FS) error {
	for {
		files := fstest.MapFS{}
		for name, data := range p.Files {
			files[name] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
		}
		cfg, err := native.Load([]native.Layer{{Name: "embedded", FS: embedded}, {Name: "migrated", FS: files}},
			native.Options{Glob: func(p string) ([]string, error) { return []string{p}, nil }})
		if err != nil {
			return fmt.Errorf("load the converted configuration: %w", err)
		}
		dropped := false
		for _, r := range p.Jails {
			if r.jail == nil {
				continue
			}
			got := cfg.Jail(r.Jail)
			diffs := []string{"the jail is not loaded"}
			if got != nil {
				diffs = Diff(r.jail, got)
			}
			if len(diffs) > 0 {
				r.Status = NotConverted
				r.note("loading the converted jail back differs from fail2ban's: %v", diffs)
				for _, f := range r.Files {
					delete(p.Files, f)
				}
				r.Files, r.jail, dropped = nil, nil, true
			}
		}
		if !dropped {
			return nil
		}
	}
}

// Diff compares two resolved jails setting by setting and describes each
// difference ("maxretry: 3 != 5"). It ignores what does not change
// behaviour: the filter's file name, the order of an action's options
// and the action.d file an action came from.
func Diff(want, got *config.Jail) []string {
	a, b := flatten(want), flatten(got)
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		if !bytes.Equal(a[k], b[k]) {
			out = append(out, fmt.Sprintf("%s: %s != %s", k, orNone(a[k]), orNone(b[k])))
		}
	}
	return out
}

func orNone(b []byte) string {
	if b == nil {
		return "(unset)"
	}
	return string(b)
}

// flatten turns a jail into its JSON settings, filter settings
// prefixed "filter.".
func flatten(j *config.Jail) map[string]json.RawMessage {
	c := *j
	c.Filter.Name = ""
	c.Actions = nil
	for _, a := range j.Actions {
		a.File = ""
		a.Options = append([]config.Option(nil), a.Options...)
		sort.SliceStable(a.Options, func(x, y int) bool { return a.Options[x].Key < a.Options[y].Key })
		c.Actions = append(c.Actions, a)
	}
	data, _ := json.Marshal(&c)
	var m map[string]json.RawMessage
	json.Unmarshal(data, &m)
	var f map[string]json.RawMessage
	json.Unmarshal(m["filter"], &f)
	delete(m, "filter")
	for k, v := range f {
		m["filter."+k] = v
	}
	return m
}
