package config

import "testing"

// Values printed by fail2ban 1.0.2's str2seconds (tests/compat checks the
// full list against fail2ban itself).
func TestParseSeconds(t *testing.T) {
	tests := map[string]float64{
		"10m": 600, "1h": 3600, "-1": -1, "1d12h": 129600, "1h+30m": 5400, "1y-6mo": 15778800,
		"6 months": 15778800, "1 week 2 days": 777600, "2w": 1209600, "3600": 3600, "1year": 31557600,
		"1mo": 2629800, "90s": 90, "1H 30M": 5400, "0d 1h 30m": 5400, "1hour+30min": 5400,
		"1d 2h 3m 4s": 93784, "1h30": 3630, "2dd": 172800, "5 min": 300, "1.5h": 5400, "10mm": 600,
	}
	for in, want := range tests {
		got, err := ParseSeconds(in)
		if err != nil || got != want {
			t.Errorf("ParseSeconds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ten minutes", "1 2 3", "5x", "1/0", "(1h"} {
		if v, err := ParseSeconds(bad); err == nil {
			t.Errorf("ParseSeconds(%q) = %v, want an error", bad, v)
		}
	}
}

func FuzzParseSeconds(f *testing.F) {
	for _, s := range []string{"10m", "1d12h", "1y-6mo", "(1h+30m)/2", "1 week 2 days"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseSeconds(s)
	})
}
