package filter

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/tests/bench/sshdlog"
)

func benchLines(b *testing.B, failures float64) []string {
	data := sshdlog.Generate(sshdlog.Spec{Lines: 100000, Failures: failures, Addresses: 50000, IPv6: 0.05, Start: time.Now().Add(-time.Hour), Seed: 1})
	var lines []string
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		lines = append(lines, string(l))
	}
	return lines
}

// ownFilter compiles one of f2bx's shipped filters.
func ownFilter(b *testing.B, spec string) *Filter {
	c, err := native.LoadFilter([]native.Layer{{Name: "embedded", FS: f2bx.Defaults}}, spec)
	if err != nil {
		b.Fatal(err)
	}
	f, err := New(c, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func benchmarkOwnSSHD(b *testing.B, failures float64) {
	f := ownFilter(b, "sshd")
	lines := benchLines(b, failures)
	b.ReportAllocs()
	b.ResetTimer()
	found := 0
	for i := 0; i < b.N; i++ {
		found += len(f.ProcessLine(lines[i%len(lines)]))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if b.N > len(lines) && found == 0 {
		b.Fatal("no failures found")
	}
}

func BenchmarkOwnSSHD5(b *testing.B)  { benchmarkOwnSSHD(b, 0.05) }
func BenchmarkOwnSSHD50(b *testing.B) { benchmarkOwnSSHD(b, 0.50) }

// benchmarkBatch runs the batch path (the Hyperscan prefilter in
// Hyperscan builds) over blocks of 512 lines.
func benchmarkBatch(b *testing.B, spec string, failures float64) {
	runBatches(b, ownFilter(b, spec), benchLines(b, failures), failures)
}

// runBatches runs f over lines, again and again, in batches of 512.
func runBatches(b *testing.B, f *Filter, lines []string, failures float64) {
	runGroupBatches(b, f, false, lines, failures)
}

// runGroupBatches runs f, as a group of one that lends its failures or
// not (as the daemon's does), over lines in batches of 512.
func runGroupBatches(b *testing.B, f *Filter, lend bool, lines []string, failures float64) {
	g, err := NewGroup(f)
	if err != nil {
		b.Fatal(err)
	}
	g.Lend = lend
	var p Prepared
	b.ReportAllocs()
	b.ResetTimer()
	found, n := 0, 0
	for n < b.N {
		for s := 0; s < len(lines) && n < b.N; s += 512 {
			chunk := lines[s:min(s+512, len(lines))]
			if b.N-n < len(chunk) {
				chunk = chunk[:b.N-n]
			}
			g.Prepare(chunk, &p)
			if err := g.Match(&p, func(int, int, []Failure) { found++ }); err != nil {
				b.Fatal(err)
			}
			n += len(chunk)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if b.N > len(lines) && found == 0 && failures > 0 {
		b.Fatal("no failures found")
	}
}

func BenchmarkBatchOwnSSHD0(b *testing.B)  { benchmarkBatch(b, "sshd", 0) }
func BenchmarkBatchOwnSSHD5(b *testing.B)  { benchmarkBatch(b, "sshd", 0.05) }
func BenchmarkBatchOwnSSHD50(b *testing.B) { benchmarkBatch(b, "sshd", 0.50) }

// benchmarkBatchFail2ban runs fail2ban's sshd.conf (downloaded by the
// tests into .cache) through the batch path.
func benchmarkBatchFail2ban(b *testing.B, failures float64) {
	c, _, err := config.Fail2banFilter("../.cache/fail2ban/root/etc/fail2ban", "sshd", nil)
	if err != nil {
		b.Skip("fail2ban's package is not in .cache (run the tests once):", err)
	}
	f, err := New(c, Options{})
	if err != nil {
		b.Fatal(err)
	}
	runBatches(b, f, benchLines(b, failures), failures)
}

func BenchmarkBatchFail2banSSHD5(b *testing.B)  { benchmarkBatchFail2ban(b, 0.05) }
func BenchmarkBatchFail2banSSHD50(b *testing.B) { benchmarkBatchFail2ban(b, 0.50) }

// BenchmarkBatchFlood is the flood bench's filter (one regex, every line a
// failure, ISO dates with microseconds) over lines like its server's.
func BenchmarkBatchFlood(b *testing.B) { benchmarkFlood(b, false) }

// BenchmarkBatchFloodLent is BenchmarkBatchFlood with the failures lent
// from the batch (Group.Lend), as the daemon runs filters.
func BenchmarkBatchFloodLent(b *testing.B) { benchmarkFlood(b, true) }

func benchmarkFlood(b *testing.B, lend bool) {
	f, err := New(config.Filter{FailRegex: []string{`^\s*Invalid request from <ADDR>\s*$`}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	lines := make([]string, 100000)
	start := time.Date(2026, 11, 22, 23, 44, 40, 0, time.UTC)
	for i := range lines {
		t := start.Add(time.Duration(i) * 2 * time.Microsecond)
		lines[i] = t.Format("2006-01-02 15:04:05.000000") + " Invalid request from 10.77.1." + strconv.Itoa(1+i%254)
	}
	runGroupBatches(b, f, lend, lines, 1)
}

// BenchmarkPrefilterScanOwnSSHD50 times the prefilter's scan alone (per
// line) over blocks of 512 lines of the 50 % log, dates cut out.
func BenchmarkPrefilterScanOwnSSHD50(b *testing.B) {
	f := ownFilter(b, "sshd")
	if f.pre == nil {
		b.Skip("no prefilter in this build")
	}
	lines := benchLines(b, 0.50)
	var blocks [][]byte
	var starts [][]int
	for s := 0; s+512 <= len(lines); s += 512 {
		var block []byte
		var st []int
		for _, l := range lines[s : s+512] {
			tl, _, _ := f.prepare(l)
			st = append(st, len(block))
			block = append(append(append(block, tl[0]...), tl[2]...), '\n')
		}
		blocks, starts = append(blocks, block), append(starts, st)
	}
	cand := make([]uint64, 512)
	b.ResetTimer()
	for n := 0; n < b.N; n += 512 {
		k := n / 512 % len(blocks)
		if err := f.pre.scan(blocks[k], starts[k], cand, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
