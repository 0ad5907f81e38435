//go:build !hyperscan

package filter

// HyperscanAvailable reports whether this build prefilters with Hyperscan.
const HyperscanAvailable = false

// newPrefilter has no prefilter to offer without Hyperscan: every line
// takes the exact path.
func newPrefilter(pref *Regex, fails []*Regex, maxLines int) (prefilter, []string, error) {
	return nil, nil, nil
}

// newSharedPrefilter has nothing to share without Hyperscan.
func newSharedPrefilter(srcs []prefilterSource) (prefilter, error) { return nil, nil }
