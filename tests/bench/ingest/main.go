// Command ingest measures the daemon's ingestion: a writer process
// appends sshd log lines to a file (or writes them into a shared-memory
// ring) at a fixed rate, half of them failures from N attacking
// addresses, while the daemon (in this process, with the XDP action on the
// loopback interface of a network namespace it creates and deletes)
// follows them. It prints
// the lines/s the daemon kept up with, the lag at the middle and at the
// end of each run (a lag that grows means the rate is not sustained), and
// the ban latency: from the moment an address's maxretry-th failure line
// was written to the moment its ban was in the XDP map (p50/p99).
// Attackers join during the first half of a run, one after another, and
// then fail on every turn of a round-robin among those that joined, so
// bans are spread over the run as new attackers arrive at a running
// daemon, not all in its first milliseconds. Needs root.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/config/load"
	"github.com/f2bx/f2bx/daemon"
	"github.com/f2bx/f2bx/internal/gctune"
	"github.com/f2bx/f2bx/internal/netns"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/ringbuf"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "writer" {
		if err := writerMain(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	rates := flag.String("rates", "100000,300000,1000000,2000000", "writer rates in lines/s")
	addrs := flag.String("addrs", "254,10000", "attacking addresses per run")
	secs := flag.Float64("seconds", 3, "seconds of writing per run")
	sources := flag.String("sources", "file,ring", "file, ring or both")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of all runs to this file")
	memProfile := flag.String("memprofile", "", "write a profile of the allocations of all runs to this file")
	flag.Parse()
	// As f2bx start does (GOGC, when set, overrides): the collector tuned
	// and its headroom made resident.
	tuner := gctune.Start(0)
	defer tuner.Stop()
	tuner.Warm()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			f, err := os.Create(*memProfile)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				log.Print(err)
			}
		}()
	}
	if why := netns.Available(); why != "" {
		log.Fatal(why)
	}
	ns, err := netns.New("f2bxingest")
	if err != nil {
		log.Fatal(err)
	}
	// The namespace goes on every way out: the end, a failed run (fatal
	// below) and Ctrl-C.
	fatal := func(format string, args ...any) {
		ns.Close()
		log.Fatalf(format, args...)
	}
	defer ns.Close()
	sig := make(chan os.Signal, 1)
	// SIGPIPE too: a reader of the output that goes away (| head) must not
	// end the process before it deletes what it created.
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		fatal("interrupted: %v", <-sig)
	}()
	fmt.Printf("%-5s %7s %9s %12s %12s %11s %11s %9s %9s %9s\n", "src", "addrs", "rate", "written/s", "processed/s", "lag mid", "lag end", "bans", "p50", "p99")
	for _, src := range strings.Split(*sources, ",") {
		// A fresh process pays for its first pages and caches in its
		// first tenth of a second; a long-running daemon does not. One
		// short run, not reported, takes that.
		if _, err := runOnce(ns, src, 254, 100000, 500*time.Millisecond); err != nil {
			fatal("%s warm-up: %v", src, err)
		}
		for _, a := range ints(*addrs) {
			for _, r := range ints(*rates) {
				res, err := runOnce(ns, src, a, r, time.Duration(*secs*float64(time.Second)))
				if err != nil {
					fatal("%s %d addrs at %d/s: %v", src, a, r, err)
				}
				fmt.Printf("%-5s %7d %9d %12.0f %12.0f %11d %11d %9d %9s %9s\n", src, a, r, res.written, res.processed, res.lagMid, res.lagEnd, res.bans, fmtDur(res.p50), fmtDur(res.p99))
			}
		}
	}
	fmt.Println("\nlag: lines written but not yet processed (mid-run, and when the writer stopped).")
	fmt.Println("each source had a 0.5 s warm-up run first, not reported; \"-\": banned before the writer noted the time.")
	fmt.Println("fail2ban, measured earlier on this machine (issue 7): ~10k lines/s sustained without bans,")
	fmt.Println("1-2k failure lines/s during ban bursts, ban latency p50 12.9 s.")
}

type result struct {
	written, processed float64
	lagMid, lagEnd     int64
	bans               int
	p50, p99           time.Duration
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		fmt.Sscan(f, &n)
		out = append(out, n)
	}
	return out
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// maxRetry is the jail's maxretry.
const maxRetry = 3

// sshdJail returns the embedded sshd jail with maxretry 3, reading path.
func sshdJail(path string) (*config.Jail, error) {
	res, err := load.Load(load.Options{StandardDirs: []string{}, AllowNoFiles: true})
	if err != nil {
		return nil, err
	}
	j := res.Config.Jail("sshd")
	if j == nil {
		return nil, fmt.Errorf("no embedded sshd jail")
	}
	c := *j
	c.Backend, c.JournalMatch = "auto", nil
	c.LogPaths = []config.LogPath{{Path: path}}
	c.MaxRetry, c.BanTime = maxRetry, config.DurationOf(3600)
	c.IgnoreIP, c.IgnoreSelf = nil, false
	c.Filter.UseDNS = "no"
	c.Actions = []config.Action{{Name: config.BackendXDP, Options: []config.Option{{Key: config.BackendOption, Value: config.BackendXDP}}}}
	return &c, nil
}

func runOnce(ns *netns.NS, src string, nAddrs, rate int, dur time.Duration) (result, error) {
	var res result
	dir, err := os.MkdirTemp("", "f2bx-ingest")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "auth.log")
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		return res, err
	}
	path := logPath
	ringName := fmt.Sprintf("f2bxingest-%d", os.Getpid())
	var ring *ringbuf.Ring
	if src == "ring" {
		ring, err = ringbuf.Create(ringName, ringbuf.Options{Segments: 1})
		if err != nil {
			return res, err
		}
		defer ringbuf.Remove(ringName)
		defer ring.Close()
		path = "ring:" + ringName
	}
	j, err := sshdJail(path)
	if err != nil {
		return res, err
	}
	// Write times of each address's maxretry-th failure, and ban times.
	var mu sync.Mutex
	banned := make([]time.Time, nAddrs)
	index := map[string]int{}
	for i := range nAddrs {
		index[addr(i)] = i
	}
	ready := make(chan struct{})
	d, err := daemon.New(daemon.Options{
		Config: &config.Config{Jails: []*config.Jail{j}}, DBFile: "none",
		XDP:         daemon.XDPOptions{PinDir: "none", Interfaces: []string{"lo"}, Mode: "generic"},
		Log:         slog.New(slog.DiscardHandler),
		RingReaders: 1,
		OnReady:     func() { close(ready) },
		AfterBan: func(_ string, batch []*jail.Ticket, at time.Time) {
			mu.Lock()
			for _, tk := range batch {
				if i, ok := index[tk.ID]; ok && banned[i].IsZero() {
					banned[i] = at
				}
			}
			mu.Unlock()
		},
	})
	if err != nil {
		return res, err
	}
	m := d.Metrics()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- ns.Do(func() error { return d.Run(ctx) }) }()
	select {
	case <-ready:
	case err := <-runErr:
		cancel()
		return res, fmt.Errorf("daemon: %v", err)
	}
	// Start writing once the follower has the file open (its start-up is
	// not ingestion).
	for src == "file" {
		if st, ok := m.Follower(); ok && st.Files > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	processed := func() int64 {
		var n uint64
		for _, s := range m.Sources() {
			n += s.Lines
		}
		return int64(n)
	}
	// Warm up: one address banned before the measured run (the first ban
	// pays for the action's start).
	w, err := newWriter(logPath, ring)
	if err != nil {
		cancel()
		return res, err
	}
	warm := []byte(time.Now().Format("Jan _2 15:04:05") + " host sshd[7]: Failed password for invalid user admin from 198.19.0.1 port 4242 ssh2")
	if err := w.write([][]byte{warm, warm, warm}); err != nil {
		cancel()
		return res, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if v, _ := d.Handle(ctx, []string{"get", "sshd", "banned", "198.19.0.1"}); v == 1 {
			break
		}
	}
	w.close()
	base := processed()
	spec := writerSpec{logPath: logPath, rate: rate, addrs: nAddrs, dur: dur}
	if ring != nil {
		spec.ring = ringName
	}
	wr, err := startWriter(spec)
	if err != nil {
		cancel()
		return res, err
	}
	var lagMid atomic.Int64
	// Half the run from now: the writer's start-up (a process) is not in it.
	mid := time.AfterFunc(dur/2, func() { lagMid.Store(wr.written.Load() - (processed() - base)) })
	end := <-wr.end
	mid.Stop()
	if end.err != nil {
		cancel()
		<-runErr
		return res, end.err
	}
	res.written = float64(end.written) / end.elapsed.Seconds()
	res.lagEnd = end.written - (processed() - base)
	res.lagMid = lagMid.Load()
	third := wr.third
	// Let it catch up (bounded), then stop. When it had caught up by the
	// time the writer's end was read, it took the writer's time.
	done := end.elapsed
	deadline := time.Now().Add(30 * time.Second)
	for processed()-base < end.written && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		done = time.Since(end.start)
	}
	res.processed = float64(processed()-base) / done.Seconds()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-runErr; err != nil {
		return res, fmt.Errorf("daemon: %v", err)
	}
	var lat []time.Duration
	mu.Lock()
	for i := range nAddrs {
		if !banned[i].IsZero() && !third[i].IsZero() {
			l := banned[i].Sub(third[i])
			if l < 0 {
				l = 0 // banned before the writer noted the time (same millisecond batch)
			}
			lat = append(lat, l)
		}
	}
	mu.Unlock()
	res.bans = len(lat)
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return res, nil
}
