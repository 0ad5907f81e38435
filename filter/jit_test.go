//go:build pcre2 && cgo

package filter

import "testing"

// In a PCRE2 build, every RE2 regex of f2bx's sshd filter runs on PCRE2's
// JIT (the conformance tests then check its matches against fail2ban's).
func TestOwnFiltersRunOnJIT(t *testing.T) {
	f := ownFilter(&testing.B{}, "sshd")
	for i, r := range append([]*Regex{f.Pref}, f.Fail...) {
		if r.Engine == EngineRE2 && !r.JIT() {
			t.Errorf("regex %d (%s) is not on the JIT", i, r.Source)
		}
	}
}
