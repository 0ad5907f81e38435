package fail2ban

import (
	"errors"
	"fmt"

	"github.com/f2bx/f2bx/ini"
)

// optType is how an option's text is converted.
type optType int

const (
	optString optType = iota
	optInt
	optBool
)

// optSpec is one entry of an options template: type, name and default
// (nil: none, the option is left out when not set).
type optSpec struct {
	typ  optType
	name string
	def  any
}

// convert applies the option's type to its text.
func (o optSpec) convert(v string) (any, error) {
	switch o.typ {
	case optInt:
		return pyInt(v)
	case optBool:
		return AsBool(v), nil
	}
	return v, nil
}

// diag collects the warnings and errors met while reading.
type diag struct {
	warnings []string
	errors   []string
}

func (d *diag) warn(format string, args ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
}

func (d *diag) error(format string, args ...any) {
	d.errors = append(d.errors, fmt.Sprintf(format, args...))
}

// getOptions reads the template's options from section sec, with pOpts as
// configparser vars; options already in pOpts are skipped. Missing options
// take their default, with a warning when there is one; a value that does
// not convert takes the default with a warning. Interpolation errors are
// returned.
func getOptions(cfg *ini.Config, sec string, spec []optSpec, pOpts *odict, convert, shouldExist bool, d *diag) (*odict, error) {
	values := newODict()
	vars := pOpts.vars()
	for _, o := range spec {
		if pOpts.has(o.name) {
			continue
		}
		v, err := cfg.Get(sec, o.name, vars)
		var nsErr *ini.NoSectionError
		var noErr *ini.NoOptionError
		switch {
		case errors.As(err, &nsErr):
			if shouldExist {
				return nil, err
			}
			d.error("%v", err)
			values.set(o.name, o.def)
			continue
		case errors.As(err, &noErr):
			if o.def != nil {
				d.warn("'%s' not defined in '%s'. Using default one: %s", o.name, sec, pyRepr(o.def))
				values.set(o.name, o.def)
			}
			continue
		case err != nil:
			return nil, err
		}
		values.set(o.name, v)
		if convert {
			c, err := o.convert(v)
			if err != nil {
				d.warn("Wrong value for '%s' in '%s'. Using default one: '%s'", o.name, sec, pyRepr(o.def))
				c = o.def
			}
			values.set(o.name, c)
		}
	}
	return values, nil
}
