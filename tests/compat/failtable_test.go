package compat

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/f2bx/f2bx/jail/failtable"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// TestFailTableAgainstFail2ban feeds the same failures, at irregular log
// times from a few addresses, to fail2ban's FailManager and to f2bx's
// table, and requires the same counts and the same bans after each one.
func TestFailTableAgainstFail2ban(t *testing.T) {
	pkg := fail2banpkg.Get(t)
	type failure struct {
		IP   string  `json:"ip"`
		Time float64 `json:"time"`
	}
	rng := rand.New(rand.NewPCG(7, 11))
	ips := []string{"192.0.2.1", "192.0.2.2", "2001:db8::1", "198.51.100.7"}
	var in []failure
	now := 1_700_000_000.0
	for range 3000 {
		// Mostly close together, sometimes a long pause, sometimes a late line.
		switch r := rng.IntN(20); {
		case r == 0:
			now += float64(rng.IntN(3000))
		case r == 1:
			now -= float64(rng.IntN(100))
		default:
			now += rng.Float64() * 120
		}
		in = append(in, failure{ips[rng.IntN(len(ips))], now})
	}
	script := `import sys, json
from fail2ban.server.failmanager import FailManager
from fail2ban.server.ticket import FailTicket
fm = FailManager(); fm.setMaxRetry(5); fm.setMaxTime(600); fm.maxMatches = 0
out = []
for f in json.load(sys.stdin):
    att = fm.addFailure(FailTicket(f["ip"], f["time"]))
    ban = None
    if att >= fm.getMaxRetry():
        t = fm.toBan(f["ip"])
        ban = [t.getRetry(), t.getAttempt()]
    out.append({"attempts": att, "ban": ban})
print(json.dumps(out))
`
	data, _ := json.Marshal(in)
	cmd := pkg.Script(script)
	cmd.Stdin = bytes.NewReader(data)
	var want []struct {
		Attempts int
		Ban      []int
	}
	if err := json.Unmarshal([]byte(run(t, cmd)), &want); err != nil {
		t.Fatal(err)
	}
	tb := failtable.New[string](failtable.Config{MaxRetry: 5, FindTime: 600})
	bans := 0
	for i, f := range in {
		e, ban := tb.Add(f.IP, failtable.Failure{Time: f.Time})
		w := want[i]
		if int(e.Retry) != w.Attempts || ban != (w.Ban != nil) {
			t.Fatalf("failure %d (%s at %.3f): retry %d ban %v; fail2ban %d %v", i, f.IP, f.Time, e.Retry, ban, w.Attempts, w.Ban)
		}
		if ban {
			bans++
			if int(e.Retry) != w.Ban[0] || int(e.Failures) != w.Ban[1] {
				t.Fatalf("failure %d: banned with %d/%d, fail2ban %v", i, e.Retry, e.Failures, w.Ban)
			}
		}
	}
	t.Logf("%d failures, %d bans, identical to fail2ban's FailManager", len(in), bans)
}
