// Command regexbench measures the filter engine on generated sshd logs: f2bx's
// own sshd filter and fail2ban's sshd.conf (through the compatibility path),
// on one core, with fail2ban-regex (Debian's package, run with python3) on the
// same files in the same run, and prints lines/s and the ratios.
//
//	go run -tags 'hyperscan hyperscan_v54' ./tests/bench/regexbench [-lines 1000000] [-no-fail2ban]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/tests/bench/sshdlog"
)

func main() {
	lines := flag.Int("lines", 1000000, "lines per log")
	noF2B := flag.Bool("no-fail2ban", false, "skip fail2ban-regex")
	root := flag.String("fail2ban", ".cache/fail2ban/root", "extracted fail2ban package (tests download it)")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	dir, err := os.MkdirTemp("", "regexbench-")
	check(err)
	defer os.RemoveAll(dir)
	conf := filepath.Join(*root, "etc", "fail2ban")
	fmt.Printf("regexbench: %d-line sshd logs, 50k addresses (5%% IPv6), GOMAXPROCS=1, hyperscan=%v\n\n", *lines, filter.HyperscanAvailable)
	fmt.Printf("%-10s %-34s %12s %10s %10s\n", "failures", "filter", "lines/s", "failures", "vs f2b")
	for _, share := range []float64{0.05, 0.50} {
		data := sshdlog.Generate(sshdlog.Spec{Lines: *lines, Failures: share, Addresses: 50000, IPv6: 0.05, Start: time.Now().Add(-2 * time.Hour), Seed: 7})
		log := filepath.Join(dir, fmt.Sprintf("auth-%02.0f.log", share*100))
		check(os.WriteFile(log, data, 0o644))
		text := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")

		var f2bRate float64
		f2bFound := -1
		if !*noF2B {
			f2bRate, f2bFound = fail2banRegex(*root, conf, log, len(text))
		}
		own, err := native.LoadFilter([]native.Layer{{Name: "embedded", FS: f2bx.Defaults}}, "sshd")
		check(err)
		compat := fail2banFilter(conf)
		label := fmt.Sprintf("%.0f%%", share*100)
		for _, c := range []struct {
			name string
			flt  config.Filter
		}{{"f2bx sshd (own, RE2)", own}, {"fail2ban sshd.conf (compat path)", compat}} {
			rate, found := measure(c.flt, text)
			ratio := "-"
			if f2bRate > 0 {
				ratio = fmt.Sprintf("%.1fx", rate/f2bRate)
			}
			fmt.Printf("%-10s %-34s %12.0f %10d %10s\n", label, c.name, rate, found, ratio)
		}
		if f2bFound >= 0 {
			fmt.Printf("%-10s %-34s %12.0f %10d %10s\n", label, "fail2ban-regex sshd.conf", f2bRate, f2bFound, "1.0x")
		}
	}
}

// measure runs the batch path over the lines in blocks of 512 and returns
// lines/s and the number of failures.
func measure(c config.Filter, lines []string) (float64, int) {
	f, err := filter.New(c, filter.Options{})
	check(err)
	found := 0
	start := time.Now()
	for s := 0; s < len(lines); s += 512 {
		check(f.ProcessLines(lines[s:min(s+512, len(lines))], func(_ int, r []filter.Failure) {
			for _, x := range r {
				if !x.NoFail() && x.ID != "" {
					found++
				}
			}
		}))
	}
	return float64(len(lines)) / time.Since(start).Seconds(), found
}

func fail2banFilter(conf string) config.Filter {
	c, _, err := config.Fail2banFilter(conf, "sshd", nil)
	check(err)
	return c
}

// fail2banRegex times fail2ban-regex -o id on the log.
func fail2banRegex(root, conf, log string, n int) (float64, int) {
	cmd := exec.Command("python3", filepath.Join(root, "usr", "bin", "fail2ban-regex"), "-o", "id", "-c", conf, log, "sshd")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "usr", "lib", "python3", "dist-packages"))
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "fail2ban-regex: %v (run the tests once to download fail2ban)\n", err)
		return 0, -1
	}
	return float64(n) / time.Since(start).Seconds(), bytes.Count(out, []byte("\n"))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "regexbench:", err)
		os.Exit(1)
	}
}
