// Package date finds and parses the time stamp of a log line as fail2ban
// does: its default templates (syslog, ISO 8601, Apache, US forms, EPOCH,
// TAI64N, ...), datepattern with strptime codes and fail2ban's %Ex forms,
// the specials {^LN-BEG}, {UNB}, {DATE}, {NONE} and {DEFAULT}, a default
// time zone, and the year of a line that has none inferred from "now".
package date

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// fieldRE returns the expression for each strptime code, given the current
// year and the first plausible one (for %ExY).
func fieldRE(now time.Time, first int) map[string]string {
	f := map[string]string{
		"a": `(?P<a>mon|tue|wed|thu|fri|sat|sun)`,
		"A": `(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)`,
		"b": `(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`,
		"B": `(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)`,
		"d": `(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])`,
		"f": `(?P<f>[0-9]{1,6})`,
		"G": `(?P<G>\d\d\d\d)`,
		"H": `(?P<H>[0-1]?\d|2[0-3])`,
		"I": `(?P<I>1[0-2]|0[1-9]|[1-9])`,
		"j": `(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
		"k": ` ?(?P<H>[0-2]?\d)`,
		"l": ` ?(?P<I>1?\d)`,
		"m": `(?P<m>0?[1-9]|1[0-2])`,
		"M": `(?P<M>[0-5]?\d)`,
		"p": `(?P<p>am|pm)`,
		"S": `(?P<S>[0-5]?\d|6[0-1])`,
		"u": `(?P<u>[1-7])`,
		"U": `(?P<U>5[0-3]|[0-4]\d|\d)`,
		"V": `(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`,
		"w": `(?P<w>[0-6])`,
		"W": `(?P<W>5[0-3]|[0-4]\d|\d)`,
		"x": `(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)`,
		"X": `(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)`,
		"y": `(?P<y>\d\d)`,
		"Y": `(?P<Y>\d{4})`,
		"z": `(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`,
		"Z": `(?P<Z>Z|[A-Z]{3,5})`,
		"%": `%`,

		"ExY": `(?P<Y>` + centuries(now, first) + `\d)`,
		"Exy": `(?P<y>\d{2})`,
		"Exd": `(?P<d>[1-2]\d|0[1-9]|3[0-1])`,
		"Exm": `(?P<m>0[1-9]|1[0-2])`,
		"ExH": `(?P<H>[0-1]\d|2[0-3])`,
		"Exk": ` ?(?P<H>[0-1]?\d|2[0-3])`,
		"Exl": ` ?(?P<I>1[0-2]|\d)`,
		"ExM": `(?P<M>[0-5]\d)`,
		"ExS": `(?P<S>[0-5]\d|6[0-1])`,
		"ExZ": `(?P<Z>` + tzAbbrRE + `)`,
		"Exz": `(?P<z>(?:` + tzAbbrRE + `)?[+-][01]\d(?::?\d{2})?|` + tzAbbrRE + `)`,
	}
	return f
}

// fieldNames name the codes in template names (as fail2ban-regex shows
// them).
var fieldNames = map[string]string{
	"a": "DAY", "A": "DAYNAME", "b": "MON", "B": "MONTH", "d": "Day",
	"H": "24hour", "I": "12hour", "j": "Yearday", "m": "Month",
	"M": "Minute", "p": "AMPM", "S": "Second", "U": "Yearweek",
	"w": "Weekday", "W": "Yearweek", "y": "Year2", "Y": "Year", "%": "%",
	"z": "Zone offset", "f": "Microseconds", "Z": "Zone name",
}

func fieldName(code string) string {
	if n, ok := fieldNames[code]; ok {
		return n
	}
	if strings.HasPrefix(code, "Ex") {
		if n, ok := fieldNames[code[2:]]; ok {
			return "Ex" + n
		}
	}
	return "%" + code
}

// codeRE finds strptime codes in a datepattern.
var codeRE = regexp.MustCompile(`%(%|Ex[YyZzdmHkMSl]|[aAbBdfGHIjklmMpSuUVwWxXyYzZ])`)

// centuries is an alternation of the first three digits of the years from
// first (fail2ban: 2000, fail2ban-regex: 1969) to three years after now, so
// that %ExY accepts no implausible year.
func centuries(now time.Time, first int) string {
	var list []string // in order
	set := centurySet(now, first)
	for n := range 1000 {
		if set[n/64]&(1<<(n%64)) != 0 {
			list = append(list, fmt.Sprintf("%03d", n))
		}
	}
	return "(?:" + strings.Join(list, "|") + ")"
}

// centurySet is the set of first three digits centuries alternates.
func centurySet(now time.Time, first int) *yearPrefixes {
	set := new(yearPrefixes)
	add := func(y int) { set[y/10/64] |= 1 << (y / 10 % 64) }
	add(now.Year() - 1)
	add(now.Year() + 3)
	for y := first; y <= now.Year()+1; y += 3 {
		add(y)
	}
	return set
}

// yearPrefixes is a set of three-digit year prefixes ("202" for the
// 2020s), one bit each.
type yearPrefixes [1000/64 + 1]uint64

// has reports whether the set holds the first three bytes of s (digits).
func (c *yearPrefixes) has(s string) bool {
	if len(s) < 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return false
	}
	n := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	return c[n/64]&(1<<(n%64)) != 0
}

// tzAbbrRE is fail2ban's time zone abbreviation.
const tzAbbrRE = `[A-Z](?:[A-Z]{2,4})?`

// tzOffsets are the time zone abbreviations fail2ban knows, in minutes east
// of UTC. Offset-based: CET is always +01:00, CEST +02:00.
var tzOffsets = func() map[string]int {
	table := map[float64]string{
		-12: "Y", -11: "X NUT SST", -10: "W CKT HAST HST TAHT TKT", -9: "V AKST GAMT GIT HADT HNY",
		-8: "U AKDT CIST HAY HNP PST PT", -7: "T HAP HNR MST PDT", -6: "S CST EAST GALT HAR HNC MDT",
		-5: "R CDT COT EASST ECT EST ET HAC HNE PET", -4: "Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT",
		-3: "P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT", -2: "O BRST FNT PMDT UYST WGST",
		-1: "N AZOT CVT EGT", 0: "Z EGST GMT UTC WET WT", 1: "A CET DFT WAT WEDT WEST",
		2: "B CAT CEDT CEST EET SAST WAST", 3: "C EAT EEDT EEST IDT MSK",
		4: "D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT", 5: "E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT",
		6: "F ALMT BIOT BTT IOT KGT NOVT OMST YEKST", 7: "G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB",
		8: "H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST", 9: "I AWDT IRKST JST KST PWT TLT WDT WIT YAKT",
		10: "K AEST ChST PGT VLAT YAKST YAPT", 11: "L AEDT LHDT MAGT NCT PONT SBT VLAST VUT",
		12: "M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT", 13: "FJST NZDT",
		11.5: "NFT", 10.5: "ACDT LHST", 9.5: "ACST", 6.5: "CCT MMT", 5.75: "NPT", 5.5: "SLT",
		4.5: "AFT IRDT", 3.5: "IRST", -2.5: "HAT NDT", -3.5: "HNT NST NT", -4.5: "HLV VET", -9.5: "MART MIT",
	}
	m := map[string]int{"": 0}
	for off, names := range table {
		for _, n := range strings.Fields(names) {
			m[n] = int(off * 60)
		}
	}
	return m
}()

var fixedOffsetTZ = regexp.MustCompile(`^(` + tzAbbrRE + `)?([+-][01]\d(?::?\d{2})?)?$`)

// ParseZone converts a time zone as fail2ban accepts it ("UTC", "CET",
// "+0200", "UTC-05:00", "EST+1") to minutes east of UTC.
func ParseZone(tz string) (int, error) {
	m := fixedOffsetTZ.FindStringSubmatch(tz)
	if m == nil {
		return 0, fmt.Errorf("unknown or unsupported time zone: %q", tz)
	}
	base, ok := tzOffsets[m[1]]
	if !ok {
		return 0, fmt.Errorf("unknown time zone abbreviation: %q", m[1])
	}
	off := m[2]
	if off == "" {
		return base, nil
	}
	sign := 1
	if off[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(off[1:], ":", "")
	h := int(digits[0]-'0')*10 + int(digits[1]-'0')
	if len(digits) <= 2 {
		return base + sign*h*60, nil
	}
	mm := int(digits[2]-'0')*10 + int(digits[3]-'0')
	return base + sign*(h*60+mm), nil
}
