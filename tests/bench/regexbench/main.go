// Command regexbench measures the filter engine on generated logs of three
// services (sshd, nginx-http-auth, postfix) at 5 % and 50 % failure lines:
// f2bx's own filter and fail2ban's filter of the same name (through the
// compatibility path), on one core, with fail2ban-regex (Debian's package,
// run with python3) on the same files in the same run, and prints lines/s
// and the ratios.
//
//	go run -tags 'hyperscan hyperscan_v54 pcre2' ./tests/bench/regexbench [-lines 1000000] [-no-fail2ban] [-filters sshd,postfix] [-cpuprofile FILE]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/native"
	"github.com/f2bx/f2bx/filter"
	"github.com/f2bx/f2bx/internal/gctune"
)

func main() {
	lines := flag.Int("lines", 1000000, "lines per log")
	noF2B := flag.Bool("no-fail2ban", false, "skip fail2ban-regex")
	root := flag.String("fail2ban", ".cache/fail2ban/root", "extracted fail2ban package (tests download it)")
	only := flag.String("filters", "", "comma-separated filters to measure (default: all)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of f2bx's matching to this file")
	flag.Parse()
	// As f2bx regex does (GOGC, when set, overrides).
	defer gctune.Start(0).Stop()
	runtime.GOMAXPROCS(1)
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(pf))
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "regexbench-")
	check(err)
	defer os.RemoveAll(dir)
	conf := filepath.Join(*root, "etc", "fail2ban")
	fmt.Printf("regexbench: %d-line logs, 50k attacking addresses (5%% IPv6), GOMAXPROCS=1, hyperscan=%v\n", *lines, filter.HyperscanAvailable)
	fmt.Printf("each f2bx run follows an untimed warm-up over the log's first %d lines\n\n", warmUpLines)
	fmt.Printf("%-16s %-9s %-30s %12s %10s %8s\n", "service", "failures", "filter", "lines/s", "failures", "vs f2b")
	for _, svc := range services {
		if *only != "" && !strings.Contains(","+*only+",", ","+svc.name+",") {
			continue
		}
		for _, share := range []float64{0.05, 0.50} {
			data := svc.generate(*lines, share)
			log := filepath.Join(dir, fmt.Sprintf("%s-%02.0f.log", svc.name, share*100))
			check(os.WriteFile(log, data, 0o644))
			text := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")

			var f2bRate float64
			f2bFound := -1
			if !*noF2B {
				f2bRate, f2bFound = fail2banRegex(*root, conf, log, svc.name, len(text))
			}
			own, err := native.LoadFilter([]native.Layer{{Name: "embedded", FS: f2bx.Defaults}}, svc.name)
			check(err)
			compat, _, err := config.Fail2banFilter(conf, svc.name, nil)
			check(err)
			label := fmt.Sprintf("%.0f%%", share*100)
			for _, c := range []struct {
				name string
				flt  config.Filter
			}{{"f2bx (own, RE2)", own}, {"fail2ban's .conf (compat path)", compat}} {
				rate, found := measure(c.flt, text)
				ratio := "-"
				if f2bRate > 0 {
					ratio = fmt.Sprintf("%.0fx", rate/f2bRate)
				}
				fmt.Printf("%-16s %-9s %-30s %12.0f %10d %8s\n", svc.name, label, c.name, rate, found, ratio)
			}
			if f2bFound >= 0 {
				fmt.Printf("%-16s %-9s %-30s %12.0f %10d %8s\n", svc.name, label, "fail2ban-regex", f2bRate, f2bFound, "1x")
			}
		}
	}
}

// warmUpLines is how many lines a throwaway filter runs before each
// measured run: a fresh process pays for its first pages, caches and JIT
// code there (after fail2ban-regex ran, some 30 % of a 200k-line run); a
// running daemon does not.
const warmUpLines = 50000

// measure runs the batch path over the lines in blocks of 512 and returns
// lines/s and the number of failures.
func measure(c config.Filter, lines []string) (float64, int) {
	warm, err := filter.New(c, filter.Options{})
	check(err)
	for s := 0; s < min(warmUpLines, len(lines)); s += 512 {
		check(warm.ProcessLines(lines[s:min(s+512, len(lines))], func(int, []filter.Failure) {}))
	}
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

// fail2banRegex times fail2ban-regex -o id on the log.
func fail2banRegex(root, conf, log, name string, n int) (float64, int) {
	cmd := exec.Command("python3", filepath.Join(root, "usr", "bin", "fail2ban-regex"), "-o", "id", "-c", conf, log, name)
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
