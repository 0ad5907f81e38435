package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/f2bx/f2bx/internal/netns"
	"github.com/f2bx/f2bx/tests/fail2banpkg"
)

// ips is an intrusion prevention system under test, running as its own
// process in dut.
type ips struct {
	name string
	cmd  *exec.Cmd
	dir  string
	// processed returns the log lines the IPS has read so far (-1 when
	// it cannot tell).
	processed func() int64
	stderr    bytes.Buffer
	exited    chan struct{} // closed when the process has ended
}

// start starts the command and notes when it ends.
func (p *ips) start() error {
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		return err
	}
	p.exited = make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	return nil
}

// running reports whether the process has not ended.
func (p *ips) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// ipsSpec says what to start: the jail reads logPath (or the ring) with
// maxretry and bantime.
type ipsSpec struct {
	dut      *netns.NS
	dutIf    string
	dir      string
	logPath  string
	ring     string // ring name, "" for the file
	cpu      string // taskset CPU list for the IPS, "" for any
	maxRetry int
	banTime  time.Duration
}

// command runs a program in dut, on the IPS's CPUs.
func (s ipsSpec) command(args ...string) *exec.Cmd {
	args = append([]string{"ip", "netns", "exec", s.dut.Name}, args...)
	if s.cpu != "" {
		args = append([]string{"taskset", "-c", s.cpu}, args...)
	}
	return exec.Command(args[0], args[1:]...)
}

// startF2bx starts f2bx (the binary at bin) in dut with the XDP action on
// dut's veth and a flood jail, and waits until it answers.
func startF2bx(bin string, s ipsSpec) (*ips, error) {
	conf := filepath.Join(s.dir, "conf")
	for _, d := range []string{"jails.d", "filters.d"} {
		if err := os.MkdirAll(filepath.Join(conf, d), 0o755); err != nil {
			return nil, err
		}
	}
	logpath := s.logPath
	if s.ring != "" {
		logpath = "ring:" + s.ring
	}
	jail := fmt.Sprintf(`[sshd]
enabled = false

[flood]
enabled = true
filter = "flood"
logpath = [%q]
maxretry = %d
findtime = "10m"
bantime = "%ds"
ignoreself = false
ignoreip = []
`, logpath, s.maxRetry, int(s.banTime.Seconds()))
	filter := `description = "Invalid requests to the flood bench's UDP server"
failregex = ['^\s*Invalid request from <ADDR>\s*$']
`
	if err := os.WriteFile(filepath.Join(conf, "jails.d", "flood.toml"), []byte(jail), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(conf, "filters.d", "flood.toml"), []byte(filter), 0o644); err != nil {
		return nil, err
	}
	metrics := "127.0.0.1:9191"
	sock := filepath.Join(s.dir, "f2bx.sock")
	p := &ips{name: "f2bx", dir: s.dir}
	p.cmd = s.command(bin, "start", "-f", "-c", conf, "-s", sock,
		"-p", filepath.Join(s.dir, "f2bx.pid"), "--db", filepath.Join(s.dir, "f2bx.db"),
		"--logtarget", filepath.Join(s.dir, "f2bx.log"), "--loglevel", "NOTICE",
		"--pin-dir", "none", "--xdp-interface", s.dutIf, "--metrics", metrics)
	if err := p.start(); err != nil {
		return nil, err
	}
	p.processed = func() int64 { return f2bxLines(s.dut, metrics) }
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && p.running(); time.Sleep(50 * time.Millisecond) {
		// Ready once the jail runs (its filters compiled, its sources
		// read), as fail2ban below once it logs the jail started: ping
		// answers from the moment the socket listens.
		if exec.Command(bin, "status", "flood", "-s", sock, "--timeout", "1s").Run() == nil && p.processed() >= 0 {
			return p, nil
		}
	}
	p.stop()
	b, _ := os.ReadFile(filepath.Join(s.dir, "f2bx.log"))
	return nil, fmt.Errorf("f2bx did not start: %s\n%s", p.stderr.String(), b)
}

// f2bxLines reads f2bx_lines_total from the daemon's metrics in dut.
func f2bxLines(dut *netns.NS, addr string) int64 {
	// The connection is made on this goroutine's thread, inside dut
	// (http.Transport would dial on another goroutine, outside).
	var body []byte
	err := dut.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			return err
		}
		r, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer r.Body.Close()
		body, err = io.ReadAll(r.Body)
		return err
	})
	if err != nil {
		return -1
	}
	var n float64
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "f2bx_lines_total{") {
			if f := strings.Fields(l); len(f) == 2 {
				v, _ := strconv.ParseFloat(f[1], 64)
				n += v
			}
		}
	}
	return int64(n)
}

// startFail2ban starts Debian's fail2ban-server (extracted, run with
// python3) in dut, with its own configuration, socket, database and log
// in s.dir and its nftables action (all ports, UDP, drop) inside dut.
func startFail2ban(pkg *fail2banpkg.Package, s ipsSpec) (*ips, error) {
	if s.ring != "" {
		return nil, fmt.Errorf("fail2ban cannot read the ring")
	}
	conf := filepath.Join(s.dir, "fail2ban")
	if out, err := exec.Command("cp", "-a", pkg.ConfDir(), conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy fail2ban's configuration: %v: %s", err, out)
	}
	// Debian's jail.d enables sshd, whose log this machine may lack.
	os.RemoveAll(filepath.Join(conf, "jail.d"))
	os.Mkdir(filepath.Join(conf, "jail.d"), 0o755)
	log := filepath.Join(s.dir, "fail2ban.log")
	sock := filepath.Join(s.dir, "fail2ban.sock")
	files := map[string]string{
		"fail2ban.local": fmt.Sprintf("[Definition]\nloglevel = INFO\nlogtarget = %s\nsocket = %s\npidfile = %s\ndbfile = %s\n",
			log, sock, filepath.Join(s.dir, "fail2ban.pid"), filepath.Join(s.dir, "fail2ban.sqlite3")),
		"filter.d/flood.conf": "[Definition]\nfailregex = ^\\s*Invalid request from <HOST>\\s*$\n",
		"jail.local": fmt.Sprintf(`[DEFAULT]
ignoreip = 127.0.0.1/8
ignoreself = false
backend = pyinotify

[flood]
enabled = true
filter = flood
logpath = %s
maxretry = %d
findtime = 600
bantime = %d
action = nftables[name=flood, type=allports, protocol=udp, blocktype=drop]
`, s.logPath, s.maxRetry, int(s.banTime.Seconds())),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(conf, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	python := "/usr/bin/python3" // Debian's, with python3-pyinotify
	if _, err := os.Stat(python); err != nil {
		python = fail2banpkg.Python()
	}
	p := &ips{name: "fail2ban", dir: s.dir}
	p.cmd = s.command(python, filepath.Join(pkg.Root, "usr", "bin", "fail2ban-server"),
		"-f", "-x", "-c", conf)
	p.cmd.Env = append(os.Environ(), "PYTHONPATH="+pkg.PythonPath(), "PYTHONDONTWRITEBYTECODE=1")
	if err := p.start(); err != nil {
		return nil, err
	}
	found := &foundCounter{path: log}
	p.processed = found.count
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && p.running(); time.Sleep(100 * time.Millisecond) {
		if b, _ := os.ReadFile(log); bytes.Contains(b, []byte("Jail 'flood' started")) {
			return p, nil
		}
	}
	b, _ := os.ReadFile(log)
	p.stop()
	return nil, fmt.Errorf("fail2ban did not start: %s\n%s", p.stderr.String(), b)
}

// foundCounter counts fail2ban's "Found" log lines (one per failure line
// it read) as the file grows.
type foundCounter struct {
	path string
	off  int64
	n    int64
	part []byte
}

func (f *foundCounter) count() int64 {
	fh, err := os.Open(f.path)
	if err != nil {
		return f.n
	}
	defer fh.Close()
	fh.Seek(f.off, io.SeekStart)
	r := bufio.NewReaderSize(fh, 1<<20)
	for {
		l, err := r.ReadSlice('\n')
		f.off += int64(len(l))
		if err == bufio.ErrBufferFull {
			f.part = append(f.part, l...)
			continue
		}
		if err != nil {
			f.off -= int64(len(l)) // a partial line: read it again
			return f.n
		}
		if len(f.part) > 0 {
			l, f.part = append(f.part, l...), f.part[:0]
		}
		if bytes.Contains(l, []byte("] Found ")) {
			f.n++
		}
	}
}

// usage returns the process's CPU time and resident memory.
func (p *ips) usage() (cpu time.Duration, rss int64) {
	pid := p.cmd.Process.Pid
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name (which may hold spaces).
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			f := strings.Fields(string(b[i+2:]))
			if len(f) > 13 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				f := strings.Fields(l)
				if len(f) >= 2 {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					rss = kb << 10
				}
			}
		}
	}
	return cpu, rss
}

// stop ends the process we started (by PID): SIGTERM, then SIGKILL after
// 15 s.
func (p *ips) stop() {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}
