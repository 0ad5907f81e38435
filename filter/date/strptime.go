package date

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

var (
	monthAbbr = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	monthFull = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	dayAbbr   = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	dayFull   = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

func indexOf(list []string, s string) int {
	s = strings.ToLower(s)
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Field codes: the strptime fields a template's groups fill.
const (
	fA = iota // %A, full weekday
	fa        // %a
	fB        // %B, full month
	fb        // %b
	fd
	fH
	fI
	fj
	fM
	fm
	fp
	fS
	fU
	fW
	fw
	fy
	fY
	fz
	fZ
	fValue // the epoch or TAI64N text
	nFields
)

var fieldCodes = map[string]int{
	"A": fA, "a": fa, "B": fB, "b": fb, "d": fd, "H": fH, "I": fI, "j": fj, "M": fM, "m": fm,
	"p": fp, "S": fS, "U": fU, "W": fW, "w": fw, "y": fy, "Y": fY, "z": fz, "Z": fZ,
}

// fields are the values of a match, "" for a field not matched.
type fields [nFields]string

// fieldsTime turns strptime fields into a time as fail2ban does: a missing
// year is now's year, or last year when that puts the date more than a
// day in the future; a missing month and day are today, or yesterday when
// that is in the future; without a zone in the line the default zone
// (minutes east of UTC) applies, else the local time zone loc.
func fieldsTime(fv *fields, now time.Time, loc *time.Location, defaultTZ *int) (time.Time, error) {
	year, month, day := -1, -1, -1
	hour, minute, second := 0, 0, 0
	var tzoff *int
	julian, week, weekday, weekStart := -1, -1, -1, 0
	atoi := func(k int) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(fv[k]))
		if err != nil {
			return 0, fmt.Errorf("date field %q: %v", fv[k], err)
		}
		return n, nil
	}
	var err error
	for k := 0; k < fValue; k++ {
		v := fv[k]
		if v == "" {
			continue
		}
		switch k {
		case fy:
			if year, err = atoi(k); err == nil && year <= 2000 {
				year += 2000
			}
		case fY:
			year, err = atoi(k)
		case fm:
			month, err = atoi(k)
		case fB:
			month = indexOf(monthFull, v) + 1
		case fb:
			month = indexOf(monthAbbr, v) + 1
		case fd:
			day, err = atoi(k)
		case fH:
			hour, err = atoi(k)
		case fI:
			if hour, err = atoi(k); err == nil {
				switch strings.ToLower(fv[fp]) {
				case "", "am":
					if hour == 12 {
						hour = 0
					}
				case "pm":
					if hour != 12 {
						hour += 12
					}
				}
			}
		case fM:
			minute, err = atoi(k)
		case fS:
			second, err = atoi(k)
		case fA:
			weekday = indexOf(dayFull, v)
		case fa:
			weekday = indexOf(dayAbbr, v)
		case fw:
			if weekday, err = atoi(k); err == nil {
				if weekday--; weekday < 0 {
					weekday = 6
				}
			}
		case fj:
			julian, err = atoi(k)
		case fU, fW:
			if week, err = atoi(k); err == nil && k == fW {
				weekStart = 1
			}
		case fz, fZ:
			o := 0
			if v != "Z" && v != "UTC" && v != "GMT" {
				if o, err = ParseZone(v); err != nil {
					return time.Time{}, err
				}
			}
			tzoff = &o
		}
		if err != nil {
			return time.Time{}, err
		}
	}
	assumeYear := year < 0
	if assumeYear {
		year = now.In(loc).Year()
	}
	if month < 0 || day < 0 {
		if julian < 0 && week >= 0 && weekday >= 0 {
			julian = julianFromWeek(year, week, weekday, weekStart)
		}
		if julian > 0 {
			d := time.Date(year, 1, julian, 0, 0, 0, 0, time.UTC)
			year, month, day = d.Year(), int(d.Month()), d.Day()
		}
	}
	assumeToday := month < 0 && day < 0
	if assumeToday {
		n := now.In(loc)
		month, day = int(n.Month()), n.Day()
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, fmt.Errorf("date out of range")
	}
	if tzoff == nil && defaultTZ != nil {
		tzoff = defaultTZ
	}
	// fail2ban compares naive wall-clock times: the line's time (moved to
	// UTC when it has a zone) against now's local wall clock.
	wall := func(y int) time.Time {
		t := time.Date(y, time.Month(month), day, hour, minute, second, 0, time.UTC)
		if tzoff != nil {
			t = t.Add(-time.Duration(*tzoff) * time.Minute)
		}
		return t
	}
	n := now.In(loc)
	nowWall := time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), n.Nanosecond(), time.UTC)
	t := wall(year)
	if assumeToday && t.After(nowWall) {
		t = t.AddDate(0, 0, -1)
	}
	if assumeYear && t.After(nowWall.Add(24*time.Hour)) {
		if day > daysIn(year-1, month) {
			return time.Time{}, fmt.Errorf("date out of range")
		}
		t = wall(year - 1)
	}
	if tzoff != nil {
		return t, nil
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// julianFromWeek is the day of the year of weekday (0 = Monday) in week
// (%U weeks start on Sunday, %W on Monday).
func julianFromWeek(year, week, weekday, weekStart int) int {
	firstWeekday := int(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Weekday()+6) % 7 // Monday = 0
	if weekStart == 0 {                                                              // %U
		firstWeekday = (firstWeekday + 1) % 7
		weekday = (weekday + 1) % 7
	}
	weekZeroLen := (7 - firstWeekday) % 7
	if week == 0 {
		return 1 + weekday - firstWeekday
	}
	return 1 + weekZeroLen + (week-1)*7 + weekday
}
