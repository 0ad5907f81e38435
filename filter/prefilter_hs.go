//go:build hyperscan

package filter

import (
	"fmt"

	"github.com/f2bx/f2bx/filter/hsblock"
	"github.com/f2bx/f2bx/filter/pyre"
	"github.com/flier/gohs/hyperscan"
)

// HyperscanAvailable reports whether this build prefilters with Hyperscan.
const HyperscanAvailable = true

// hsPrefilter scans blocks of lines with one Hyperscan database of all
// failregexes of one or more filters (a pattern's id is member*64+regex).
// gohs compiles the database; hsblock scans with it, marking candidates in
// C rather than in a Go callback per match.
type hsPrefilter struct {
	db      *hsblock.Database
	scanner *hsblock.Scanner
	always  []uint64 // per member: failregexes that run on every line
	modes   []string // per pattern id
}

func newPrefilter(pref *Regex, fails []*Regex, maxLines int) (prefilter, []string, error) {
	if maxLines > 1 || len(fails) > maxPrefilterRegexes {
		return nil, nil, nil
	}
	p, err := newSharedPrefilter([]prefilterSource{{pref, fails}})
	if p == nil || err != nil {
		return nil, nil, err
	}
	return p, p.modes[:len(fails)], nil
}

// newSharedPrefilter builds one database for the failregexes of several
// filters; nil when none can be prefiltered.
func newSharedPrefilter(srcs []prefilterSource) (*hsPrefilter, error) {
	p := &hsPrefilter{always: make([]uint64, len(srcs)), modes: make([]string, len(srcs)*maxPrefilterRegexes)}
	flags := hyperscan.MultiLine | hyperscan.AllowEmpty
	var compiled []*hyperscan.Pattern
	for m, src := range srcs {
		if len(src.fails) > maxPrefilterRegexes {
			return nil, nil
		}
		patterns, ok := prefilterPatterns(src.pref, src.fails)
		for i, s := range patterns {
			id := m*maxPrefilterRegexes + i
			if lits, ok := requiredLiterals(src.fails[i]); ok {
				// A literal set is far cheaper to scan for than the
				// regex's own pattern (a multi-literal matcher).
				for _, l := range lits {
					pat := hyperscan.NewPattern(literalPattern(l), 0)
					pat.Id = id
					compiled = append(compiled, pat)
				}
				p.modes[id] = "hyperscan literals"
				continue
			}
			pc, err := "", error(nil)
			if ok[i] {
				pc, err = pyre.HyperscanSuperset(s)
			}
			if !ok[i] || err != nil {
				p.always[m] |= 1 << i
				p.modes[id] = "every line"
				continue
			}
			pat := hyperscan.NewPattern(pc, flags)
			pat.Id = id
			p.modes[id] = "hyperscan"
			compiled = append(compiled, pat)
		}
	}
	if _, err := hyperscan.NewBlockDatabase(compiled...); err != nil && len(compiled) > 0 {
		// Some pattern has what Hyperscan lacks (lookarounds,
		// backreferences, conditionals): find it and compile an
		// approximation that matches at least what the regex matches.
		var kept []*hyperscan.Pattern
		for _, pat := range compiled {
			id := pat.Id
			if _, err := hyperscan.NewBlockDatabase(pat); err != nil {
				pat = hyperscan.NewPattern(string(pat.Expression), flags|hyperscan.PrefilterMode)
				pat.Id = id
				if _, err := hyperscan.NewBlockDatabase(pat); err != nil {
					p.always[id/maxPrefilterRegexes] |= 1 << (id % maxPrefilterRegexes)
					p.modes[id] = "every line"
					continue
				}
				p.modes[id] = "hyperscan prefilter"
			}
			kept = append(kept, pat)
		}
		compiled = kept
	}
	if len(compiled) == 0 {
		return nil, nil
	}
	db, err := hyperscan.NewBlockDatabase(compiled...)
	if err != nil {
		return nil, fmt.Errorf("hyperscan: %w", err)
	}
	serialized, err := db.Marshal()
	_ = db.Close()
	if err != nil {
		return nil, fmt.Errorf("hyperscan: %w", err)
	}
	if p.db, err = hsblock.Load(serialized); err != nil {
		return nil, err
	}
	if p.scanner, err = p.db.NewScanner(); err != nil {
		return nil, err
	}
	return p, nil
}

// clone shares the database, with a scratch space of its own (one per
// goroutine that scans).
func (p *hsPrefilter) clone() (prefilter, error) {
	s, err := p.db.NewScanner()
	if err != nil {
		return nil, err
	}
	c := *p
	c.scanner = s
	return &c, nil
}

func (p *hsPrefilter) scan(block []byte, starts []int, cand []uint64, stride int) error {
	for i := range cand {
		cand[i] = p.always[i%stride]
	}
	return p.scanner.Scan(block, starts, cand, stride)
}
