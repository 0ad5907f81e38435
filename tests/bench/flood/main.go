// Command flood runs the flood experiment of issue 9: a UDP server in a
// network namespace (dut) logs every invalid request (first byte 'B') with
// date and client address, to a log file or to f2bx's shared-memory ring;
// a generator in another namespace (atk) floods it from 254 IPv4 clients
// in a /24 and IPv6 clients, while a few valid clients keep asking. The
// IPS under test (f2bx with its XDP action on dut's veth, or Debian's
// fail2ban with its nftables action inside dut) must ban every flooding
// client and renew the bans every ban cycle. Each second it records the
// invalid requests that reach the server, the valid ones served, the
// IPS's CPU and memory and the log lines it is behind; per client, the
// time from its maxretry-th request reaching the server to its first
// dropped packet (a request, or a probe: see probe.go). It writes a JSON
// result per run, a PNG per rate (f2bx and fail2ban on one figure) and
// prints a summary table.
//
// Needs root. It works only inside the namespaces it creates and deletes
// (also on failure and Ctrl-C), and ends only the processes it started.
//
//	go run -tags 'hyperscan hyperscan_v54 pcre2' ./tests/bench/flood [-rates 10000,100000,0] [-out .cache/flood]
package main

import (
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/f2bx/f2bx/internal/netns"
	"github.com/f2bx/f2bx/ringbuf"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
	"golang.org/x/sys/unix"
)

// config is one bench invocation's parameters.
type config struct {
	rates      []int // invalid requests/s; 0 = as fast as the generator can
	ring       []int // rates that also run f2bx reading the ring
	clients4   int
	clients6   int
	validRate  int
	maxRetry   int
	banTime    time.Duration
	dur        time.Duration
	bin        string
	out        string
	noFail2ban bool
	noBehind   bool
	pin        bool
	layout     string
	keep       bool
}

func main() {
	var c config
	rates := flag.String("rates", "10000,100000,0", "invalid requests/s per run, comma-separated (0: as fast as the generator can)")
	ring := flag.String("ring", "0", "rates at which f2bx also reads the ring instead of the file")
	flag.IntVar(&c.clients4, "clients", 254, "flooding IPv4 clients (in one /24)")
	flag.IntVar(&c.clients6, "clients6", 32, "flooding IPv6 clients")
	flag.IntVar(&c.validRate, "valid-rate", 1000, "valid requests/s")
	flag.IntVar(&c.maxRetry, "maxretry", 3, "the jails' maxretry")
	bantime := flag.Int("bantime", 30, "the jails' bantime in seconds")
	cycles := flag.Int("cycles", 3, "ban cycles per run: bans of each client (the run lasts (cycles-1) × bantime + 5 s)")
	flag.StringVar(&c.bin, "f2bx", "", "f2bx binary (default: built into a temp folder)")
	flag.StringVar(&c.out, "out", ".cache/flood", "folder for the JSON results and plots")
	flag.BoolVar(&c.noFail2ban, "no-fail2ban", false, "run f2bx only")
	flag.BoolVar(&c.pin, "pin", true, "give the generator CPU 0 and the IPS CPU 1 (as if the flood came from another machine)")
	flag.StringVar(&c.layout, "layout", layoutAttacker, "with -pin, where the server runs: "+layoutHost+" (on CPU 1 with the IPS, as on one host) or "+layoutAttacker+" (on CPU 0 with the generator)")
	flag.BoolVar(&c.keep, "keep", false, "keep each run's folder (configuration, logs) and print where")
	flag.BoolVar(&c.noBehind, "no-behind", false, "do not ask the IPS how many lines it read (its metrics, fail2ban's log)")
	flag.Parse()
	c.rates, c.ring = ints(*rates), ints(*ring)
	c.banTime = time.Duration(*bantime) * time.Second
	c.dur = time.Duration(max(1, *cycles)-1)*c.banTime + 5*time.Second
	if why := netns.Available(); why != "" {
		log.Fatal(why)
	}
	if c.layout != layoutHost && c.layout != layoutAttacker {
		log.Fatalf("-layout: %q is neither %s nor %s", c.layout, layoutHost, layoutAttacker)
	}
	if c.pin {
		if runtime.NumCPU() < 2 {
			c.pin = false
		} else if c.layout == layoutAttacker {
			if out, err := exec.Command("taskset", "-a", "-p", "-c", "0", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
				log.Fatalf("taskset: %v: %s", err, out)
			}
		}
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// Layouts of the server: on the IPS's CPU, as on one host under attack
// from another machine (the generator's thread alone has CPU 0), or on
// the generator's CPU (the whole bench process on CPU 0).
const (
	layoutHost     = "host"
	layoutAttacker = "attacker"
)

// cpus returns the CPUs the generator's and the server's threads are
// pinned to, -1 for none (the process's own affinity).
func (c config) cpus() (gen, srv int) {
	if !c.pin || c.layout != layoutHost {
		return -1, -1
	}
	return 0, 1
}

// pinThread locks the calling goroutine to its thread and the thread to
// cpu; nothing for cpu < 0.
func pinThread(cpu int) {
	if cpu < 0 {
		return
	}
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		log.Printf("pinning a thread to CPU %d: %v", cpu, err)
	}
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			log.Fatalf("not a number: %q", f)
		}
		out = append(out, n)
	}
	return out
}

func run(c config) error {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "f2bx-flood-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Fprintln(os.Stderr, "flood: keeping the runs' folders in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if c.bin == "" {
		c.bin = filepath.Join(tmp, "f2bx")
		build := exec.Command("go", "build", "-tags", "hyperscan hyperscan_v54 pcre2", "-o", c.bin, "./cmd/f2bx")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build f2bx: %w", err)
		}
	}
	var pkg *fail2banpkg.Package
	if !c.noFail2ban {
		if pkg, err = fail2banpkg.Fetch(); err != nil {
			return fmt.Errorf("fail2ban package: %w", err)
		}
	}
	lab, err := netns.NewLab("f2bxflood")
	if err != nil {
		return err
	}
	// The namespaces go on every way out: the end, an error and Ctrl-C
	// (the processes in them are ours and end with them).
	sig := make(chan os.Signal, 1)
	// SIGPIPE too: a reader of the output that goes away (| head) must not
	// end the process before it deletes what it created.
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	interrupted := make(chan struct{})
	go func() {
		<-sig
		close(interrupted)
	}()
	defer lab.Close()
	clients := floodClients(c.clients4, c.clients6)
	valid := []netip.Addr{netip.MustParseAddr("10.77.2.1"), netip.MustParseAddr("10.77.2.2"), netip.MustParseAddr("10.77.2.3"), netip.MustParseAddr("fd77::2:1")}
	fmt.Fprintf(os.Stderr, "flood: namespaces %s and %s, %d IPv4 + %d IPv6 flooding clients, %d valid\n", lab.Atk.Name, lab.Dut.Name, c.clients4, c.clients6, len(valid))
	if err := lab.AddSources(append(append([]netip.Addr(nil), clients...), valid...)); err != nil {
		return err
	}
	type job struct {
		ips, source string
		rate        int
	}
	var jobs []job
	for _, r := range c.rates {
		jobs = append(jobs, job{"f2bx", "file", r})
		for _, rr := range c.ring {
			if rr == r {
				jobs = append(jobs, job{"f2bx", "ring", r})
			}
		}
		if !c.noFail2ban {
			jobs = append(jobs, job{"fail2ban", "file", r})
		}
	}
	var results []*result
	for i, j := range jobs {
		select {
		case <-interrupted:
			return fmt.Errorf("interrupted")
		default:
		}
		fmt.Fprintf(os.Stderr, "flood: run %d/%d: %s reading the %s at %s for %s\n", i+1, len(jobs), j.ips, j.source, rateName(j.rate), c.dur)
		r, err := runOnce(c, lab, pkg, j.ips, j.source, j.rate, clients, valid, tmp, interrupted)
		if err != nil {
			return fmt.Errorf("%s/%s at %s: %w", j.ips, j.source, rateName(j.rate), err)
		}
		results = append(results, r)
		if err := writeJSON(filepath.Join(c.out, r.fileName()+".json"), r); err != nil {
			return err
		}
	}
	printSummary(os.Stdout, c, results)
	plots, err := plotRates(c.out, results)
	if err != nil {
		return err
	}
	for _, p := range plots {
		fmt.Println("plot:", p)
	}
	return nil
}

func rateName(r int) string {
	if r == 0 {
		return "max rate"
	}
	return fmt.Sprintf("%d/s", r)
}

// floodClients returns n IPv4 clients in 10.77.1.0/24 and m IPv6 clients
// in fd77::1:0/112.
func floodClients(n, m int) []netip.Addr {
	var out []netip.Addr
	for i := 1; i <= n && i <= 254; i++ {
		out = append(out, netip.AddrFrom4([4]byte{10, 77, 1, byte(i)}))
	}
	for i := 1; i <= m; i++ {
		out = append(out, netip.MustParseAddr(fmt.Sprintf("fd77::1:%x", i)))
	}
	return out
}

// runOnce runs one IPS on one source at one rate.
func runOnce(c config, lab *netns.Lab, pkg *fail2banpkg.Package, name, source string, rate int, clients, valid []netip.Addr, tmp string, interrupted <-chan struct{}) (*result, error) {
	dir, err := os.MkdirTemp(tmp, name+"-")
	if err != nil {
		return nil, err
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	spec := ipsSpec{dut: lab.Dut, dutIf: lab.DutIf, dir: dir, logPath: filepath.Join(dir, "flood.log"), maxRetry: c.maxRetry, banTime: c.banTime}
	if c.pin {
		spec.cpu = "1"
	}
	var ring *ringbuf.Ring
	if source == "ring" {
		spec.ring = fmt.Sprintf("f2bxflood-%d", os.Getpid())
		if ring, err = ringbuf.Create(spec.ring, ringbuf.Options{Segments: 1, Overwrite: true}); err != nil {
			return nil, err
		}
		defer ringbuf.Remove(spec.ring)
		defer ring.Close()
	}
	genCPU, srvCPU := c.cpus()
	srv, err := newServer(clients, c.maxRetry, spec.logPath, ring, srvCPU)
	if err != nil {
		return nil, err
	}
	if err := lab.Dut.Do(func() error { return srv.listen(lab.Port) }); err != nil {
		return nil, err
	}
	defer srv.close()
	var p *ips
	if name == "f2bx" {
		p, err = startF2bx(c.bin, spec)
	} else {
		p, err = startFail2ban(pkg, spec)
	}
	if err != nil {
		return nil, err
	}
	if c.noBehind {
		p.processed = func() int64 { return -1 }
	}
	defer func() {
		p.stop()
		// fail2ban's nftables table, should it have been killed.
		exec.Command("ip", "netns", "exec", lab.Dut.Name, "nft", "flush", "ruleset").Run()
	}()
	dst4 := netip.AddrPortFrom(lab.Server4, uint16(lab.Port))
	dst6 := netip.AddrPortFrom(lab.Server6, uint16(lab.Port))
	var gen *generator
	var vc *validClients
	err = lab.Atk.Do(func() error {
		var err error
		if gen, err = newGenerator(clients, dst4, dst6); err != nil {
			return err
		}
		vc, err = newValidClients(valid, dst4, dst6)
		return err
	})
	if err != nil {
		return nil, err
	}
	pr := newProber(gen, srv.probes)
	defer gen.close()
	defer vc.close()
	drops0 := udpRcvbufErrors(lab.Dut)
	r := &result{IPS: name, Source: source, Rate: rate, Clients4: c.clients4, Clients6: c.clients6,
		MaxRetry: c.maxRetry, BanTime: c.banTime.Seconds(), Duration: c.dur.Seconds()}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		r.Seconds = sample(p, srv, gen, vc, stop)
	}()
	go vc.run(c.validRate, c.dur, stop)
	// The prober stops with the generator; its last probes arrive in the
	// second the run waits after.
	stopProbes, probed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(probed)
		pinThread(genCPU)
		pr.run(stopProbes)
	}()
	start := time.Now()
	genDone := make(chan struct{})
	go func() {
		pinThread(genCPU)
		gen.run(rate, c.dur, interrupted)
		close(genDone)
	}()
	select {
	case <-genDone:
	case <-interrupted:
		<-genDone
	}
	genEnd := time.Now()
	close(stopProbes)
	<-probed
	time.Sleep(time.Second) // the last requests arrive; valid answers return
	close(stop)
	<-sampled
	r.Elapsed = genEnd.Sub(start).Seconds()
	r.SocketDrops = udpRcvbufErrors(lab.Dut) - drops0
	r.summarize(srv, gen, vc, pr, genEnd)
	return r, nil
}

// udpRcvbufErrors reads dut's UDP receive-buffer drops, IPv4 and IPv6
// (requests that got past the IPS but found the server's socket full).
func udpRcvbufErrors(dut *netns.NS) int64 {
	var n int64
	dut.Do(func() error {
		if b, err := os.ReadFile("/proc/thread-self/net/snmp"); err == nil {
			var head []string
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.HasPrefix(l, "Udp: ") {
					continue
				}
				f := strings.Fields(l)
				if head == nil {
					head = f
					continue
				}
				for i, h := range head {
					if h == "RcvbufErrors" && i < len(f) {
						v, _ := strconv.ParseInt(f[i], 10, 64)
						n += v
					}
				}
			}
		}
		if b, err := os.ReadFile("/proc/thread-self/net/snmp6"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "Udp6RcvbufErrors" {
					v, _ := strconv.ParseInt(f[1], 10, 64)
					n += v
				}
			}
		}
		return nil
	})
	return n
}
