//go:build hyperscan

package filter

import (
	"fmt"
	"sort"

	"github.com/f2bx/f2bx/filter/pyre"
	"github.com/flier/gohs/hyperscan"
)

// HyperscanAvailable reports whether this build prefilters with Hyperscan.
const HyperscanAvailable = true

// hsPrefilter scans blocks of lines with one Hyperscan database of all
// failregexes.
type hsPrefilter struct {
	db      hyperscan.BlockDatabase
	scratch *hyperscan.Scratch
	always  uint64 // failregexes that run on every line
	modes   []string
}

func newPrefilter(pref *Regex, fails []*Regex, maxLines int) (prefilter, []string, error) {
	if maxLines > 1 || len(fails) > maxPrefilterRegexes {
		return nil, nil, nil
	}
	patterns, ok := prefilterPatterns(pref, fails)
	p := &hsPrefilter{modes: make([]string, len(fails))}
	flags := hyperscan.MultiLine | hyperscan.AllowEmpty
	var compiled []*hyperscan.Pattern
	for i, src := range patterns {
		pc, err := "", error(nil)
		if ok[i] {
			pc, err = pyre.HyperscanSuperset(src)
		}
		if !ok[i] || err != nil {
			p.always |= 1 << i
			p.modes[i] = "every line"
			continue
		}
		pat := hyperscan.NewPattern(pc, flags)
		pat.Id = i
		p.modes[i] = "hyperscan"
		compiled = append(compiled, pat)
	}
	if _, err := hyperscan.NewBlockDatabase(compiled...); err != nil && len(compiled) > 0 {
		// Some pattern has what Hyperscan lacks (lookarounds,
		// backreferences, conditionals): find it and compile an
		// approximation that matches at least what the regex matches.
		var kept []*hyperscan.Pattern
		for _, pat := range compiled {
			if _, err := hyperscan.NewBlockDatabase(pat); err != nil {
				id := pat.Id
				pat = hyperscan.NewPattern(string(pat.Expression), flags|hyperscan.PrefilterMode)
				pat.Id = id
				if _, err := hyperscan.NewBlockDatabase(pat); err != nil {
					p.always |= 1 << pat.Id
					p.modes[pat.Id] = "every line"
					continue
				}
				p.modes[pat.Id] = "hyperscan prefilter"
			}
			kept = append(kept, pat)
		}
		compiled = kept
	}
	if len(compiled) == 0 {
		return nil, p.modes, nil
	}
	db, err := hyperscan.NewBlockDatabase(compiled...)
	if err != nil {
		return nil, nil, fmt.Errorf("hyperscan: %w", err)
	}
	s, err := hyperscan.NewScratch(db)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("hyperscan scratch: %w", err)
	}
	p.db, p.scratch = db, s
	return p, p.modes, nil
}

func (p *hsPrefilter) scan(block []byte, starts []int, cand []uint64) error {
	for i := range cand {
		cand[i] = p.always
	}
	return p.db.Scan(block, p.scratch, func(id uint, from, to uint64, flags uint, ctx interface{}) error {
		end := int(to) - 1
		if end < 0 {
			end = 0
		}
		i := sort.SearchInts(starts, end+1) - 1
		if i >= 0 && i < len(cand) {
			cand[i] |= 1 << id
		}
		return nil
	}, nil)
}
