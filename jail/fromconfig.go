package jail

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/jail/bantime"
	"github.com/f2bx/f2bx/jail/ignore"
)

// FromConfig returns the rules and ignore settings of a configured jail;
// a bad bantime.formula, factor or multipliers is an error naming the jail.
func FromConfig(c config.Jail) (Config, ignore.Config, error) {
	jc := Config{Name: c.Name, MaxRetry: c.MaxRetry, FindTime: time.Duration(c.FindTime),
		BanTime: time.Duration(c.BanTime), MaxMatches: c.MaxMatches, OverallJails: c.Increment.OverallJails}
	if jc.BanTime < 0 {
		jc.BanTime = -1
	}
	if inc := c.Increment; inc.Enabled {
		bc := bantime.Config{Factor: inc.Factor, Formula: inc.Formula, Multipliers: inc.Multipliers}
		if inc.MaxTime != nil {
			s := inc.MaxTime.Seconds()
			bc.MaxTime = &s
		}
		if inc.RndTime != nil {
			s := inc.RndTime.Seconds()
			bc.RndTime = &s
		}
		in, err := bantime.New(bc, rand.Float64)
		if err != nil {
			return Config{}, ignore.Config{}, fmt.Errorf("jail %s: %w", c.Name, err)
		}
		jc.Increment = in
	}
	ic := ignore.Config{IgnoreIP: c.IgnoreIP, Self: c.IgnoreSelf, Command: c.IgnoreCommand, Cache: c.IgnoreCache}
	return jc, ic, nil
}
