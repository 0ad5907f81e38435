// Package bantime computes ban times as fail2ban's bantime.increment does:
// a ban of an address that was banned before lasts longer, by a formula or
// by multipliers, bounded by maxtime and mixed with a random rndtime.
package bantime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Config is fail2ban's bantime.* settings; durations in seconds, nil when
// unset.
type Config struct {
	Factor      string
	Formula     string
	Multipliers string
	MaxTime     *float64
	RndTime     *float64
}

// DefaultFormula is fail2ban's default bantime.formula.
const DefaultFormula = "ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor"

// Increment computes increased ban times.
type Increment struct {
	factor      float64
	multipliers []float64
	formula     expr
	maxTime     *float64
	rndTime     *float64
	random      func() float64
}

// New compiles the settings. random returns a number in [0, 1) for
// rndtime (math/rand/v2's Float64; tests pass a fixed one).
func New(c Config, random func() float64) (*Increment, error) {
	in := &Increment{maxTime: c.MaxTime, rndTime: c.RndTime, random: random}
	factor := strings.TrimSpace(c.Factor)
	if factor == "" {
		factor = "1"
	}
	f, err := compile(factor)
	if err != nil {
		return nil, fmt.Errorf("bantime.factor %q: %w", c.Factor, err)
	}
	fv, err := f(&env{})
	if err != nil {
		return nil, fmt.Errorf("bantime.factor %q: %w", c.Factor, err)
	}
	in.factor = fv.f
	if m := strings.TrimSpace(c.Multipliers); m != "" {
		// fail2ban splits on single spaces and converts with int().
		for _, s := range strings.Split(c.Multipliers, " ") {
			v, err := strconv.Atoi(s)
			if err != nil {
				return nil, fmt.Errorf("bantime.multipliers %q: %q is not an integer", c.Multipliers, s)
			}
			in.multipliers = append(in.multipliers, float64(v))
		}
		return in, nil
	}
	formula := c.Formula
	if strings.TrimSpace(formula) == "" {
		formula = DefaultFormula
	}
	if in.formula, err = compile(formula); err != nil {
		return nil, fmt.Errorf("bantime.formula %q: %w", formula, err)
	}
	// Evaluate once for the usual values so that an expression that
	// cannot be computed fails at load, not at the first ban.
	if _, err := in.Calc(600, 1); err != nil {
		return nil, fmt.Errorf("bantime.formula %q: %w", formula, err)
	}
	return in, nil
}

// Calc is fail2ban's evformula: the ban time for an address banned
// banCount times before, from the jail's ban time.
func (in *Increment) Calc(banTime float64, banCount int) (float64, error) {
	var t float64
	if in.multipliers != nil {
		m := in.multipliers[len(in.multipliers)-1]
		if banCount < len(in.multipliers) {
			m = in.multipliers[banCount]
		}
		t = banTime * in.factor * m
	} else {
		v, err := in.formula(&env{time: banTime, count: float64(banCount), factor: in.factor})
		if err != nil {
			return 0, err
		}
		t = math.Max(banTime, v.f)
	}
	if in.maxTime != nil {
		t = math.Min(t, *in.maxTime)
	}
	if in.rndTime != nil && in.random != nil {
		t += in.random() * *in.rndTime
	}
	return t, nil
}

// Next is the ban time of a new ban (fail2ban's incrBanTime): the jail's
// ban time for an address never banned before, Calc otherwise. A
// permanent ban (-1) stays permanent; a formula that fails keeps the
// jail's ban time.
func (in *Increment) Next(banTime float64, banCount int) float64 {
	if banTime <= 0 || banCount <= 0 {
		return banTime
	}
	t, err := in.Calc(banTime, banCount)
	if err != nil {
		return banTime
	}
	return t
}

// MaxTime is the longest ban the increment gives, or -1 (fail2ban's
// getMaxBanTime when the increment is on).
func (in *Increment) MaxTime() float64 {
	if in.maxTime == nil {
		return -1
	}
	return *in.maxTime
}

// RetryFor is the count one failure of a known-bad address weighs:
// fail2ban's observer gives an address banned banCount times before
// 2^banCount/2+1 retries, at most maxRetry.
func RetryFor(banCount, maxRetry int) int {
	r := (1<<min(banCount, 20))/2 + 1
	return min(r, maxRetry)
}
