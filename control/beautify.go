package control

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Beautify writes a command's result as fail2ban-client prints it.
func Beautify(cmd []string, v any) string {
	arg := func(i int) string {
		if i < len(cmd) {
			return cmd[i]
		}
		return ""
	}
	switch arg(0) {
	case "ping":
		return "Server replied: " + str(v)
	case "version":
		return str(v)
	case "start":
		return "Jail started"
	case "stop":
		if v == nil {
			if len(cmd) == 1 {
				return "Shutdown successful"
			}
			return "Jail stopped"
		}
	case "status":
		return beautifyStatus(cmd, v)
	case "echo":
		return strings.Join(strs(v), " ")
	case "flushlogs":
		return "logs: " + str(v)
	}
	if len(cmd) >= 2 {
		switch cmd[1] {
		case "logtarget":
			return "Current logging target is:\n`- " + str(v)
		case "syslogsocket":
			return "Current syslog socket is:\n`- " + str(v)
		case "loglevel":
			return "Current logging level is " + pyQuote(str(v))
		case "dbfile":
			if v == nil {
				return "Database currently disabled"
			}
			return "Current database file is:\n`- " + str(v)
		case "dbpurgeage":
			if v == nil {
				return "Database currently disabled"
			}
			return fmt.Sprintf("Current database purge age is:\n`- %sseconds", str(v))
		}
	}
	if len(cmd) >= 3 {
		list, _ := v.([]any)
		switch cmd[2] {
		case "logpath", "addlogpath", "dellogpath":
			if len(list) == 0 {
				return "No file is currently monitored"
			}
			return "Current monitored log file(s):\n" + tree(list)
		case "logencoding":
			return "Current log encoding is set to:\n" + str(v)
		case "journalmatch", "addjournalmatch", "deljournalmatch":
			if len(list) == 0 {
				return "No journal match filter set"
			}
			var parts []string
			for _, m := range list {
				parts = append(parts, strings.Join(strs(m), " "))
			}
			return "Current match filter:\n" + strings.Join(parts, " + ")
		case "ignoreip", "addignoreip", "delignoreip":
			if len(list) == 0 {
				return "No IP address/network is ignored"
			}
			return "These IP addresses/networks are ignored:\n" + tree(list)
		case "failregex", "addfailregex", "delfailregex", "ignoreregex", "addignoreregex", "delignoreregex":
			if len(list) == 0 {
				return "No regular expression is defined"
			}
			var b strings.Builder
			b.WriteString("The following regular expression are defined:\n")
			for i, r := range list {
				p := "|- "
				if i == len(list)-1 {
					p = "`- "
				}
				fmt.Fprintf(&b, "%s[%d]: %s", p, i, str(r))
				if i < len(list)-1 {
					b.WriteByte('\n')
				}
			}
			return b.String()
		case "actions":
			if len(list) == 0 {
				return "No actions for jail " + cmd[1]
			}
			return fmt.Sprintf("The jail %s has the following actions:\n%s", cmd[1], strings.Join(strs(list), ", "))
		case "banip":
			if cmd[0] == "get" {
				if list, ok := v.([]any); ok {
					sep := " "
					if len(cmd) > 3 {
						sep = cmd[3]
					}
					if sep == "--with-time" {
						sep = "\n"
					}
					return strings.Join(strs(list), sep)
				}
			}
		}
	}
	return PyRepr(v)
}

// BeautifyError writes a failed command's error as fail2ban-client does.
func BeautifyError(r Response) string {
	switch r.Kind {
	case KindUnknownJail:
		return "Sorry but the jail '" + r.Error + "' does not exist"
	case KindInvalid:
		if r.Error == "" {
			return "Sorry but the command is invalid"
		}
	}
	return r.Error
}

func beautifyStatus(cmd []string, v any) string {
	pairs, _ := v.([]any)
	var b strings.Builder
	last := func(i, n int) bool { return i == n-1 }
	if len(cmd) > 1 {
		fmt.Fprintf(&b, "Status for the jail: %s", cmd[1])
		for i, p := range pairs {
			k, sub := pair(p)
			p1, p1c := "|-", "|  "
			if last(i, len(pairs)) {
				p1, p1c = "`-", "   "
			}
			fmt.Fprintf(&b, "\n%s %s", p1, k)
			subs, _ := sub.([]any)
			for j, q := range subs {
				k2, v2 := pair(q)
				p2 := "|-"
				if last(j, len(subs)) {
					p2 = "`-"
				}
				fmt.Fprintf(&b, "\n%s%s %s:\t%s", p1c, p2, k2, statusValue(v2))
			}
		}
		return b.String()
	}
	b.WriteString("Status")
	for i, p := range pairs {
		k, val := pair(p)
		p1 := "|-"
		if last(i, len(pairs)) {
			p1 = "`-"
		}
		fmt.Fprintf(&b, "\n%s %s:\t%s", p1, k, statusValue(val))
	}
	return b.String()
}

// statusValue writes a status value: a list as its items joined by spaces.
func statusValue(v any) string {
	if list, ok := v.([]any); ok {
		return strings.Join(strs(list), " ")
	}
	return str(v)
}

// StatusJSON turns a status value (pairs, nested) into a JSON object.
func StatusJSON(v any) ([]byte, error) {
	return json.MarshalIndent(pairsToMap(v), "", "  ")
}

func pairsToMap(v any) any {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return v
	}
	m := orderedObject{}
	for _, p := range list {
		e, ok := p.([]any)
		if !ok || len(e) != 2 {
			return v
		}
		k, ok := e[0].(string)
		if !ok {
			return v
		}
		m = append(m, Pair{Key: k, Value: pairsToMap(e[1])})
	}
	return m
}

// orderedObject is a JSON object that keeps its keys' order.
type orderedObject []Pair

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Key)
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func pair(p any) (string, any) {
	if e, ok := p.([]any); ok && len(e) == 2 {
		return str(e[0]), e[1]
	}
	return str(p), nil
}

func tree(list []any) string {
	var b strings.Builder
	for i, e := range list {
		if i == len(list)-1 {
			b.WriteString("`- " + str(e))
		} else {
			b.WriteString("|- " + str(e) + "\n")
		}
	}
	return b.String()
}

// str is Python's str() of a value.
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return PyRepr(v)
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = str(e)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
