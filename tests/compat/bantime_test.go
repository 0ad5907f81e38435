package compat

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/jail/bantime"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// TestBanTimeIncrementAgainstFail2ban compares ban times for ban counts
// 0..25 with fail2ban's own evformula (Jail.setBanTimeExtra), for the
// default formula, factors, multipliers, maxtime and the documented
// exponential formula.
func TestBanTimeIncrementAgainstFail2ban(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	type setting struct {
		BanTime float64           `json:"bantime"`
		Extra   map[string]string `json:"extra"`
	}
	settings := []setting{
		{600, map[string]string{}},
		{600, map[string]string{"factor": "2"}},
		{60, map[string]string{"factor": "1.5", "maxtime": "5w"}},
		{600, map[string]string{"multipliers": "1 2 4 8 16 32 64"}},
		{60, map[string]string{"multipliers": "1 5 30 60 300 720 1440 2880", "factor": "2", "maxtime": "1d"}},
		{600, map[string]string{"formula": "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)", "factor": "2.0 / 2.885385"}},
		{3600, map[string]string{"formula": "ban.Time * (ban.Count + 1) if ban.Count < 5 else ban.Time * 10", "maxtime": "24h"}},
	}
	script := `import sys, json
from fail2ban.server.jail import Jail
from fail2ban.server.observer import ObserverThread
out = []
for s in json.load(sys.stdin):
    j = Jail.__new__(Jail); j._banExtra = {}; j._Jail__db = None
    for k, v in s["extra"].items():
        j.setBanTimeExtra(k, v)
    j.setBanTimeExtra("increment", "true")
    f = j.getBanTimeExtra("evformula")
    out.append([float(f(ObserverThread.BanTimeIncr(s["bantime"], c))) for c in range(26)])
print(json.dumps(out))
`
	data, _ := json.Marshal(settings)
	cmd := pkg.Script(script)
	cmd.Stdin = bytes.NewReader(data)
	var want [][]float64
	if err := json.Unmarshal([]byte(run(t, cmd)), &want); err != nil {
		t.Fatal(err)
	}
	for i, s := range settings {
		c := bantime.Config{Factor: s.Extra["factor"], Formula: s.Extra["formula"], Multipliers: s.Extra["multipliers"]}
		if m, ok := s.Extra["maxtime"]; ok {
			secs, err := config.ParseSeconds(m)
			if err != nil {
				t.Fatal(err)
			}
			c.MaxTime = &secs
		}
		in, err := bantime.New(c, nil)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		for count := range 26 {
			got, err := in.Calc(s.BanTime, count)
			if err != nil || math.Abs(got-want[i][count]) > 1e-9*math.Max(1, want[i][count]) {
				t.Errorf("%v count %d: %v (%v), fail2ban %v", s, count, got, err, want[i][count])
			}
		}
	}
	t.Logf("%d settings x 26 ban counts equal fail2ban's evformula", len(settings))
}
