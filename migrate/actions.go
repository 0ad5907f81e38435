package migrate

import (
	"strings"

	"github.com/f2bx/f2bx/config"
)

// firewallActions are the action.d families that only block addresses in
// a packet filter: f2bx's own backends replace them.
var firewallActions = []string{
	"iptables", "ip6tables", "nftables", "firewallcmd", "ufw", "shorewall",
	"route", "apf", "csf-ip-deny", "pf", "ipfw", "bsd-ipfw", "npf", "ipfilter",
}

// isFirewall reports whether an action.d file is a packet filter action.
func isFirewall(file string) bool {
	for _, f := range firewallActions {
		if file == f || strings.HasPrefix(file, f+"-") {
			return true
		}
	}
	return false
}

// mapActions returns the jail's actions as f2bx runs them: packet filter
// actions become one f2bx-xdp (or f2bx-nftables) action, f2bx's built-ins
// stay, command actions (mail, abuseipdb, ...) stay as they are, and
// Python actions, which f2bx does not run, are dropped with a note.
func mapActions(j *config.Jail, r *JailReport, keepFirewall bool) []config.Action {
	backend := config.BackendXDP
	if keepFirewall {
		backend = config.BackendNftables
	}
	var out []config.Action
	have := map[string]bool{}
	add := func(a config.Action) {
		if b := a.Backend(); b != "" {
			if have[b] {
				return
			}
			have[b] = true
		}
		out = append(out, a)
	}
	for _, a := range j.Actions {
		file := a.File
		if file == "" {
			file = a.Name
		}
		switch {
		case a.Backend() != "":
			add(config.Action{Name: a.Name, Options: a.Options})
		case a.PythonPath != "":
			r.note("action %s (%s) is a Python action, which f2bx does not run: dropped", a.Name, file)
		case isFirewall(file):
			if !have[backend] {
				r.note("action %s (%s) is enforced by %s: %s", a.Name, file, backend, scopeNote(a, backend))
			} else {
				r.note("action %s (%s) is enforced by the same %s action", a.Name, file, backend)
			}
			add(config.Action{Name: backend, Options: []config.Option{{Key: config.BackendOption, Value: backend}}})
		default:
			add(config.Action{Name: a.Name, Options: a.Options})
		}
	}
	if len(out) == 0 && len(j.Actions) > 0 {
		r.note("no action is left: the jail's bans are recorded but not enforced")
	}
	return out
}

// scopeNote says how the f2bx backend's bans differ from the firewall
// action's.
func scopeNote(a config.Action, backend string) string {
	scope := "the address is dropped on every port and protocol"
	if backend == config.BackendXDP {
		scope = "the address's packets are dropped on arrival, on every port and protocol"
	}
	port, _ := a.Get("port")
	typ, _ := a.Get("type")
	if port != "" && typ != "allports" && port != "0:65535" && port != "1:65535" && port != "all" && !strings.Contains(port, "<") {
		return scope + " (fail2ban blocked port " + port + " only)"
	}
	return scope
}
