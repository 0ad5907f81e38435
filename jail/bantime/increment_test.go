package bantime

import (
	"strings"
	"testing"
)

func ptr(f float64) *float64 { return &f }

func TestDefaultFormula(t *testing.T) {
	in, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for count, want := range map[int]float64{0: 600, 1: 1200, 2: 2400, 5: 19200, 20: 600 << 20, 25: 600 << 20} {
		if got, _ := in.Calc(600, count); got != want {
			t.Errorf("count %d: %v, want %v", count, got, want)
		}
	}
	if got := in.Next(600, 0); got != 600 {
		t.Errorf("first ban: %v", got)
	}
	if got := in.Next(-1, 3); got != -1 {
		t.Errorf("permanent ban became %v", got)
	}
}

func TestMultipliersMaxTimeRndTime(t *testing.T) {
	in, err := New(Config{Multipliers: "1 5 30", Factor: "2", MaxTime: ptr(30000), RndTime: ptr(100)}, func() float64 { return 0.5 })
	if err != nil {
		t.Fatal(err)
	}
	for count, want := range map[int]float64{0: 1200 + 50, 1: 6000 + 50, 2: 30000 + 50, 9: 30000 + 50} {
		if got, _ := in.Calc(600, count); got != want {
			t.Errorf("count %d: %v, want %v", count, got, want)
		}
	}
}

func TestExpressions(t *testing.T) {
	cases := []struct {
		src  string
		want float64
	}{
		{"ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)", 600 * 7.38905609893065},
		{"ban.Time * 2 ** ban.Count", 2400},
		{"-2 ** 2 + ban.Time", 596},
		{"ban.Time + (100 if ban.Count >= 2 else 1)", 700},
		{"max(ban.Time, 5000) // 3", 1666},
		{"min(ban.Time * ban.Count, 1e3)", 1000},
		{"ban.Time * (1 << ban.Count) >> 1", 1200},
		{"7 % 3 + ban.Time", 601},
		{"int(2.9) * ban.Time", 1200},
	}
	for _, c := range cases {
		e, err := compile(c.src)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		v, err := e(&env{time: 600, count: 2, factor: 1})
		if err != nil || v.f-c.want > 1e-6 || c.want-v.f > 1e-6 {
			t.Errorf("%s = %v (%v), want %v", c.src, v.f, err, c.want)
		}
	}
}

func TestRejected(t *testing.T) {
	for src, msg := range map[string]string{
		"__import__('os').system('id')": "unsupported character",
		"__import__(1)":                 `unsupported name "__import__"`,
		"ban.Time * os.getpid()":        `unsupported name "os.getpid"`,
		"ban.Time; 1":                   "unsupported character",
		"ban.Time * (2":                 `expected ")"`,
		"ban.Time * 1.5 << 2":           "unsupported operand for <<: float",
		"[ban.Time]":                    "unsupported character",
		"ban.Time if 1":                 `expected "else"`,
	} {
		_, err := New(Config{Formula: src}, nil)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", src, err, msg)
		}
	}
	if _, err := New(Config{Multipliers: "1 2 x"}, nil); err == nil {
		t.Error("bad multipliers accepted")
	}
}

func TestRetryFor(t *testing.T) {
	for count, want := range map[int]int{1: 2, 2: 3, 3: 5, 4: 9, 10: 5} {
		if got := RetryFor(count, 5); got != min(want, 5) {
			t.Errorf("count %d: %d", count, got)
		}
	}
}
