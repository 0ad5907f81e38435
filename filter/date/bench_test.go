package date

import (
	"testing"
	"time"
)

// BenchmarkNewDetector builds a detector of fail2ban's default templates,
// as every filter does.
func BenchmarkNewDetector(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := New("", Options{Now: time.Now}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkMatch finds the dates of lines with fail2ban's default
// templates, as a filter without a datepattern does.
func benchmarkMatch(b *testing.B, lines []string) {
	d, err := New("", Options{Now: func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }, Loc: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := d.Match(lines[i%len(lines)]); !ok {
			b.Fatal("no date in", lines[i%len(lines)])
		}
	}
}

// BenchmarkMatchISOMicroseconds: the flood bench's lines, ISO dates whose
// microseconds change from line to line.
func BenchmarkMatchISOMicroseconds(b *testing.B) {
	lines := make([]string, 4096)
	start := time.Date(2026, 11, 22, 23, 44, 40, 0, time.UTC)
	for i := range lines {
		lines[i] = start.Add(time.Duration(i)*7*time.Microsecond).Format("2006-01-02 15:04:05.000000") + " Invalid request from 10.77.1.9"
	}
	benchmarkMatch(b, lines)
}

// BenchmarkMatchSyslog: syslog dates, 50 lines a second.
func BenchmarkMatchSyslog(b *testing.B) {
	lines := make([]string, 4096)
	start := time.Date(2026, 11, 22, 23, 44, 40, 0, time.UTC)
	for i := range lines {
		lines[i] = start.Add(time.Duration(i)*20*time.Millisecond).Format(time.Stamp) + " server sshd[123]: Invalid user x from 10.77.1.9 port 22"
	}
	benchmarkMatch(b, lines)
}
