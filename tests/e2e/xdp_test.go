package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx/internal/netns"
)

// TestXDPInNamespace: the daemon runs in a namespace with the XDP action
// on its veth; the address that fails is dropped by the program, and
// "f2bx banned" shows the drops.
func TestXDPInNamespace(t *testing.T) {
	lab := netns.TestLab(t, "f2bxe2e")
	src := netip.MustParseAddr("10.77.1.5")
	if err := lab.AddSources([]netip.Addr{src}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	// The default action: f2bx-xdp.
	os.WriteFile(filepath.Join(e.dir, "conf", "jails.d", "test.toml"), []byte(fmt.Sprintf(`[sshd]
enabled = true
filter = "sshd"
logpath = [%q]
maxretry = 3
bantime = "1h"
ignoreself = false
ignoreip = []
`, e.log)), 0o644)
	got, err := lab.Send([]netip.Addr{src}, 10, 300*time.Millisecond)
	if err != nil || got[src] != 10 {
		t.Fatalf("before the ban %d of 10 arrived (%v)", got[src], err)
	}
	e.startArgs([]string{"ip", "netns", "exec", lab.Dut.Name}, "start", "-f", "-c", filepath.Join(e.dir, "conf"), "-s", e.sock,
		"-p", filepath.Join(e.dir, "run", "f2bx.pid"), "--db", filepath.Join(e.dir, "f2bx.db"), "--logtarget", filepath.Join(e.dir, "f2bx.log"),
		"--pin-dir", "none", "--xdp-interface", lab.DutIf)
	e.fail(e.log, src.String(), 3)
	e.waitStatus("sshd", "Banned IP list:\t"+src.String())
	eventually(t, 5*time.Second, func() string {
		got, err := lab.Send([]netip.Addr{src}, 10, 300*time.Millisecond)
		if err != nil || got[src] != 0 {
			return fmt.Sprintf("after the ban %d of 10 arrived (%v)\n%s", got[src], err, e.daemonLog())
		}
		return ""
	})
	out, code := e.cli("banned", "--json")
	var rows []struct {
		ID       string `json:"id"`
		Packets  uint64 `json:"packets"`
		Enforced bool   `json:"enforced"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].ID != src.String() || !rows[0].Enforced || rows[0].Packets < 10 {
		t.Fatalf("banned: %d %s", code, out)
	}
	if out, _ := e.cli("banned"); !contains(out, "ADDRESS", src.String(), "yes") {
		t.Fatalf("banned table:\n%s", out)
	}
	e.stop()
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
