package migrate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Existing lists the plan's files that already exist below dir.
func (p *Plan) Existing(dir string) []string {
	var out []string
	for _, name := range p.names() {
		if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			out = append(out, filepath.Join(dir, name))
		}
	}
	return out
}

// Write writes the plan's files below dir. Unless force, it writes
// nothing when any of them exists. Each file is written whole (a
// temporary file renamed), so a failure leaves no half-written file.
func (p *Plan) Write(dir string, force bool) error {
	if !force {
		if ex := p.Existing(dir); len(ex) > 0 {
			return fmt.Errorf("not overwriting existing files (use --force): %s", strings.Join(ex, ", "))
		}
	}
	for _, name := range p.names() {
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", dst, err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
		if err != nil {
			return fmt.Errorf("write %s: %w", dst, err)
		}
		_, err = io.WriteString(tmp, p.Files[name])
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), dst)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("write %s: %w", dst, err)
		}
	}
	return nil
}

func (p *Plan) names() []string { return slices.Sorted(maps.Keys(p.Files)) }

// Counts returns how many jails have each status.
func (p *Plan) Counts() map[string]int {
	c := map[string]int{}
	for _, r := range p.Jails {
		c[r.Status]++
	}
	return c
}

// WriteReport prints the report for a person.
func (p *Plan) WriteReport(w io.Writer) {
	for _, r := range p.Jails {
		fmt.Fprintf(w, "Jail %s: %s\n", r.Jail, r.Status)
		if len(r.Files) > 0 {
			fmt.Fprintf(w, "  files: %s\n", strings.Join(r.Files, ", "))
		}
		if len(r.Regexes) > 0 {
			fmt.Fprintf(w, "  regexes: %d on RE2, %d on regexp2\n", r.Regexes["re2"], r.Regexes["regexp2"])
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
		for _, h := range r.Hints {
			fmt.Fprintf(w, "  hint: %s\n", h)
		}
		if p.Bans != nil && r.Status != NotConverted {
			fmt.Fprintf(w, "  bans imported: %d\n", r.BansImported)
		}
	}
	for _, s := range p.Server {
		fmt.Fprintf(w, "Server: %s\n", s)
	}
	if b := p.Bans; b != nil {
		fmt.Fprintf(w, "Bans: %d active in %s for the converted jails: %d imported into %s (%d permanent), %d already there, %d expired kept for ban counts\n",
			b.Active, b.From, b.Imported, b.To, b.Permanent, b.Present, b.History)
		jails := make([]string, 0, len(b.Skipped))
		for j := range b.Skipped {
			jails = append(jails, j)
		}
		sort.Strings(jails)
		for _, j := range jails {
			fmt.Fprintf(w, "Bans: %d active of jail %s not imported: the jail was not converted\n", b.Skipped[j], j)
		}
	}
	c := p.Counts()
	fmt.Fprintf(w, "Summary: %d jail(s): %d converted, %d converted with notes, %d not converted\n",
		len(p.Jails), c[Converted], c[ConvertedWithNotes], c[NotConverted])
}
