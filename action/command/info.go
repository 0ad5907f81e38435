package command

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/f2bx/f2bx/jail"
)

// Merged returns what is known of an address over its bans: all its
// matches and failures, in this jail (jail != "") or in every jail; ok is
// false when nothing more than the ticket is known.
type Merged func(ctx context.Context, ip, jail string) (matches []string, failures int, ok bool)

// info is the dynamic tags of one ticket (fail2ban's ActionInfo), computed
// only when a command uses them.
type info struct {
	ctx    context.Context
	tk     *jail.Ticket
	family string
	now    time.Time
	merged Merged
	lookup func(ctx context.Context, ip string) string
	// defaultBanTime is the jail's, for tickets without one.
	defaultBanTime float64
}

func familyOf(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return ""
	case a.Is4():
		return "inet4"
	default:
		return "inet6"
	}
}

// pyFloat renders a float as Python's str() does for timestamps.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func ptr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	var parts []string
	if a.Is4() {
		b := a.As4()
		for i := 3; i >= 0; i-- {
			parts = append(parts, strconv.Itoa(int(b[i])))
		}
	} else {
		b := a.As16()
		for i := 15; i >= 0; i-- {
			parts = append(parts, fmt.Sprintf("%x", b[i]&0xf), fmt.Sprintf("%x", b[i]>>4))
		}
	}
	return strings.Join(parts, ".") + "."
}

func (i *info) get(tag string) (string, bool) {
	tk := i.tk
	switch tag {
	case "ip":
		if tk.Addr.IsValid() {
			return tk.Addr.String(), true
		}
		return tk.ID, true
	case "family":
		return i.family, true
	case "ip-rev":
		return ptr(tk.Addr), true
	case "ip-host":
		if i.lookup == nil || !tk.Addr.IsValid() {
			return "None", true
		}
		return i.lookup(i.ctx, tk.Addr.String()), true
	case "fid":
		return tk.ID, true
	case "failures":
		return strconv.Itoa(tk.Failures), true
	case "time":
		return pyFloat(tk.Time), true
	case "bantime":
		bt := tk.BanTime
		if bt == 0 {
			bt = i.defaultBanTime
		}
		return strconv.FormatInt(int64(bt), 10), true
	case "bancount":
		return strconv.Itoa(tk.Count), true
	case "matches":
		return strings.Join(tk.Matches, "\n"), true
	case "restored":
		if tk.Restored {
			return "1", true
		}
		return "0", true
	case "ipmatches", "ipjailmatches", "ipfailures", "ipjailfailures":
		j := ""
		if strings.Contains(tag, "jail") {
			j = tk.Jail
		}
		matches, failures, ok := []string(nil), 0, false
		if i.merged != nil {
			matches, failures, ok = i.merged(i.ctx, tk.ID, j)
		}
		if !ok {
			matches, failures = tk.Matches, tk.Failures
		}
		if strings.HasSuffix(tag, "failures") {
			return strconv.Itoa(failures), true
		}
		return strings.Join(matches, "\n"), true
	case "raw-ticket":
		return fmt.Sprintf("BanTicket: ip=%s time=%s bantime=%d bancount=%d #attempts=%d matches=%q", tk.ID, pyFloat(tk.Time), int64(tk.BanTime), tk.Count, tk.Failures, tk.Matches), true
	}
	return "", false
}

func (i *info) field(name string) (string, bool) {
	v, ok := i.tk.Fields.Lookup(name)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "None", true
	case []string:
		return "['" + strings.Join(x, "', '") + "']", true
	}
	return fmt.Sprint(v), true
}

// operationInfo is the dynamic tags of an operation without a ticket
// (start, stop, flush, check): the family and the time.
type operationInfo struct {
	family string
	now    time.Time
}

func (o operationInfo) get(tag string) (string, bool) {
	switch tag {
	case "family":
		return o.family, true
	case "time":
		return pyFloat(float64(o.now.UnixNano()) / 1e9), true
	case "ip", "fid", "matches", "ipmatches", "ipjailmatches", "ip-rev":
		return "", true
	}
	return "", false
}

func (o operationInfo) field(string) (string, bool) { return "", false }

// reverseLookup resolves an address's name, bounded in time; "None" when
// it has none (as fail2ban prints a failed lookup).
func reverseLookup(ctx context.Context, ip string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, ip)
	if err != nil || len(names) == 0 {
		return "None"
	}
	return strings.TrimSuffix(names[0], ".")
}
