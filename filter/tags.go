package filter

import (
	"fmt"
	"regexp"
	"strings"
)

// Expressions for fail2ban's address tags. The IPv6 one ends in ":" where
// fail2ban writes "(?<=:):": every repetition before it ends in ":", so the
// lookbehind always holds and RE2 can run it.
const (
	reIP4  = `(?:::f{4,6}:)?(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})`
	reIP6  = `(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|:))`
	reDNS  = `(?P<dns>[\w\-.^_]*\w)`
	reCIDR = `(?P<cidr>\d+)`
	reAddr = `\[?(?:` + reIP4 + `|` + reIP6 + `)\]?`
	reHost = `(?:` + reAddr + `|` + reDNS + `)`
	reSub  = `\[?(?:` + reIP4 + `|` + reIP6 + `)(?:/` + reCIDR + `)?\]?`
)

var staticTags = map[string]string{
	"IP4": reIP4, "F-IP4/": reIP4,
	"IP6": reIP6, "F-IP6/": reIP6,
	"ADDR": reAddr, "F-ADDR/": reAddr,
	"CIDR": reCIDR, "F-CIDR/": reCIDR,
	"SUBNET": reSub, "F-SUBNET/": reSub,
	"DNS": reDNS, "F-DNS/": reDNS,
	"F-ID/":   `(?P<fid>\S+)`,
	"F-PORT/": `(?P<fport>\w+)`,
}

var (
	tagRE        = regexp.MustCompile(`</?[\w\-]+/?>`)
	customTagRE  = regexp.MustCompile(`^(/?)F-([A-Z0-9_\-]+)$`)
	globalFlagRE = regexp.MustCompile(`\((?:\?:)?(\(\?[a-z]+)\)`)
)

// groupName maps a tag name to its group name: F-ID is fid, F-PORT fport,
// others lower-cased.
func groupName(tag string) string {
	switch t := strings.ToLower(tag); t {
	case "id":
		return "fid"
	case "port":
		return "fport"
	default:
		return t
	}
}

// ExpandTags replaces fail2ban's tags in a failregex or prefregex with
// their expressions: <HOST> (an address, or with usedns other than "no" a
// DNS name too), <ADDR>, <IP4>, <IP6>, <DNS>, <CIDR>, <SUBNET>, <F-ID/>,
// <F-PORT/>, <SKIPLINES>, and <F-NAME>...</F-NAME> as the capture group
// "name". A closing tag that was not opened, and unknown tags, stay as they
// are. "((?i)...)" becomes "(?i:...)", as fail2ban rewrites it.
func ExpandTags(regex, useDNS string) string {
	open := map[string]bool{}
	skip := 0
	out := tagRE.ReplaceAllStringFunc(regex, func(tag string) string {
		tn := tag[1 : len(tag)-1]
		switch tn {
		case "HOST":
			if useDNS == "no" {
				return reAddr
			}
			return reHost
		case "SKIPLINES":
			skip++
			return fmt.Sprintf(`\n(?P<skiplines%d>(?:(?:.*\n)*?))`, skip-1)
		}
		if r, ok := staticTags[tn]; ok {
			return r
		}
		m := customTagRE.FindStringSubmatch(tn)
		if m == nil {
			return tag
		}
		if m[1] == "/" {
			if open[m[2]] {
				return ")"
			}
			return tag
		}
		open[m[2]] = true
		return "(?P<" + groupName(m[2]) + ">"
	})
	return unescapedGlobalFlags(out)
}

// unescapedGlobalFlags rewrites "((?i)" and "(?:(?i)" into "(?i:" where the
// "(" is not escaped.
func unescapedGlobalFlags(s string) string {
	locs := globalFlagRE.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		if l[0] > 0 && s[l[0]-1] == '\\' {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(s[l[2]:l[3]] + ":")
		last = l[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
