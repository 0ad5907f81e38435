package fail2ban

import (
	"errors"
	"strings"

	"github.com/f2bx/f2bx/ini"
)

// defInit reads a filter.d or action.d file: options in [Definition],
// defaults in [Init] that the jail's parameters (name[k=v]) override.
type defInit struct {
	file     string // "filter.d/NAME" or "action.d/NAME"
	jailName string
	spec     []optSpec
	initOpts *odict // the jail's parameters, then [Init] values
	pOpts    *odict
	opts     *odict
	defCache map[string]any
	cfg      *ini.Config
	diag     *diag
}

func newDefInit(file, jailName string, initOpts *odict, spec []optSpec, d *diag) *defInit {
	return &defInit{file: file, jailName: jailName, spec: spec, initOpts: initOpts, defCache: map[string]any{}, diag: d}
}

// read loads the file's layers; false when no file of that name exists.
func (r *defInit) read(fs *files) (bool, error) {
	cfg, found, err := fs.read(r.file)
	if err != nil || !found {
		return false, err
	}
	r.cfg = cfg
	return true, nil
}

// getOptions reads [Definition] with the jail's options (pOpts) and the
// parameters as vars, and takes [Init] into the parameters (as known/x
// always, as x unless the jail set x). With all, every other
// [Definition] option is read too.
func (r *defInit) getOptions(pOpts *odict, all bool) error {
	if pOpts == nil {
		pOpts = newODict()
	}
	if r.initOpts.len() > 0 {
		pOpts = pOpts.merged(r.initOpts)
	}
	opts, err := getOptions(r.cfg, "Definition", r.spec, pOpts, false, false, r.diag)
	if err != nil {
		return err
	}
	r.opts, r.pOpts = opts, pOpts
	if r.cfg.HasSection("Init") {
		keys, _ := r.cfg.Options("Init", false)
		for _, opt := range keys {
			if opt == "__name__" {
				continue
			}
			var v *string
			getInit := func() (string, error) {
				if v != nil {
					return *v, nil
				}
				s, err := r.cfg.Get("Init", opt, nil)
				v = &s
				return s, err
			}
			if !strings.HasPrefix(opt, "known/") {
				s, err := getInit()
				if err != nil {
					return err
				}
				r.initOpts.set("known/"+opt, s)
			}
			if !r.initOpts.has(opt) {
				s, err := getInit()
				if err != nil {
					return err
				}
				r.initOpts.set(opt, s)
			}
		}
	}
	if all && r.cfg.HasSection("Definition") {
		keys, _ := r.cfg.Options("Definition", true)
		for _, opt := range keys {
			if opt == "__name__" || r.opts.has(opt) {
				continue
			}
			v, err := r.cfg.Get("Definition", opt, nil)
			if err != nil {
				return err
			}
			r.opts.set(opt, v)
		}
	}
	return nil
}

// combOption resolves a tag that is neither an option nor a parameter from
// [Definition] (known/x, default/x and section/x included); nil when it
// does not exist.
func (r *defInit) combOption(name string) (any, error) {
	if v, ok := r.defCache[name]; ok {
		return v, nil
	}
	var res any
	v, err := r.cfg.GetEx("Definition", name, r.pOpts.vars())
	var nsErr *ini.NoSectionError
	var noErr *ini.NoOptionError
	switch {
	case err == nil:
		res = v
	case errors.As(err, &nsErr), errors.As(err, &noErr):
	default:
		return nil, err
	}
	r.defCache[name] = res
	return res, nil
}

// combined returns the options merged with the parameters, tags
// substituted (except those in ignore and those with conditional
// variants), converted to their types.
func (r *defInit) combined(ignore map[string]bool) (*odict, error) {
	comb := r.opts.merged(r.initOpts)
	if comb.len() == 0 {
		return newODict(), nil
	}
	ign := map[string]bool{}
	for k := range ignore {
		ign[k] = true
	}
	for _, k := range comb.keys {
		if base, _, ok := ini.SplitConditional(k); ok {
			ign[base] = true
		}
	}
	opts, err := substituteTags(comb, "", ign, r.combOption)
	if err != nil {
		return nil, err
	}
	opts = opts.clone()
	for _, o := range r.spec {
		v, ok := opts.get(o.name)
		s, isStr := v.(string)
		if !ok || !isStr {
			continue
		}
		c, err := o.convert(s)
		if err != nil {
			r.diag.warn("Wrong %s value %s for %s. Using default one: %s", o.typeName(), pyRepr(s), pyRepr(o.name), pyRepr(o.def))
			c = o.def
		}
		opts.set(o.name, c)
	}
	return opts, nil
}

func (o optSpec) typeName() string {
	switch o.typ {
	case optInt:
		return "int"
	case optBool:
		return "bool"
	}
	return "string"
}
