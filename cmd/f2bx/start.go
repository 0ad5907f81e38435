package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/control"
	"github.com/f2bx/f2bx/daemon"
	"github.com/f2bx/f2bx/internal/gctune"
	"github.com/f2bx/f2bx/internal/sdnotify"
	"github.com/f2bx/f2bx/logging"
	"github.com/f2bx/f2bx/metrics"
	"github.com/spf13/cobra"
)

// serverFlags are fail2ban-server's options, and f2bx's own.
type serverFlags struct {
	conf       confFlags
	socket     string
	pidfile    string
	foreground bool
	background bool
	force      bool
	db         string
	logtarget  string
	loglevel   string
	metrics    string
	xdpIfs     []string
	xdpMode    string
	pinDir     string
	reader     string
	journalctl string
	grace      time.Duration
}

func (f *serverFlags) register(cmd *cobra.Command) {
	f.conf.register(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.socket, "socket", "s", "", "control socket (default: the configuration's, /run/f2bx/f2bx.sock)")
	fl.StringVarP(&f.pidfile, "pidfile", "p", "", "pid file (default: the configuration's, /run/f2bx/f2bx.pid)")
	fl.BoolVarP(&f.foreground, "foreground", "f", false, "run in the foreground (as under systemd)")
	fl.BoolVarP(&f.background, "background", "b", false, "run in the background (the default)")
	fl.BoolVarP(&f.force, "force", "x", false, "remove a stale socket before starting")
	fl.StringVar(&f.db, "db", "", `database file (default: the configuration's dbfile; "none" keeps no database)`)
	fl.StringVar(&f.logtarget, "logtarget", "", "STDERR, STDOUT, SYSTEMD-JOURNAL, SYSLOG or a file (default: the configuration's)")
	fl.StringVar(&f.loglevel, "loglevel", "", "CRITICAL, ERROR, WARNING, NOTICE, INFO or DEBUG (default: the configuration's)")
	fl.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9191)")
	fl.StringSliceVar(&f.xdpIfs, "xdp-interface", nil, "interfaces the XDP program attaches to (default: every interface that is up)")
	fl.StringVar(&f.xdpMode, "xdp-mode", "auto", "XDP attach mode: auto, native or generic")
	fl.StringVar(&f.pinDir, "pin-dir", "", `bpffs folder for the XDP maps (default /sys/fs/bpf/f2bx; "none" pins nothing)`)
	fl.StringVar(&f.reader, "reader", "", `how log files are read: "pread" (default) or "uring"`)
	fl.StringVar(&f.journalctl, "journalctl", "", "journalctl to run for systemd backends")
	_ = fl.MarkHidden("journalctl")
	fl.DurationVar(&f.grace, "action-grace", 10*time.Second, "how long a stop waits for busy actions")
}

func newStartCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the daemon (in the background; -f in the foreground)",
		Long: `Start the daemon: it loads the configuration (/etc/f2bx, else /etc/fail2ban,
else the embedded defaults), restores the stored bans, follows the jails'
logs and bans. With -f it runs in the foreground (under systemd: Type=notify);
otherwise it starts itself in the background and returns once it answers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.foreground {
				return startBackground(cmd, f)
			}
			return runDaemon(cmd, f)
		},
	}
	f.register(cmd)
	return cmd
}

// startBackground starts "f2bx start -f" detached and waits until it
// answers on its socket.
func startBackground(cmd *cobra.Command, f serverFlags) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(exe, f.foregroundArgs()...)
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	child.Stdin, child.Stdout, child.Stderr = devnull, devnull, devnull
	if t := f.logtarget; t == "" || strings.EqualFold(t, "STDERR") {
		// The terminal's own file, not a pipe: a pipe would break (and
		// kill the daemon with SIGPIPE) once this process exits.
		child.Stderr = os.Stderr
	}
	if err := child.Start(); err != nil {
		return fmt.Errorf("start the daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	sock := f.socket
	if sock == "" {
		sock = defaultSocket()
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return &exitError{code: 255, msg: fmt.Sprintf("the daemon exited while starting: %v", err)}
		case <-time.After(50 * time.Millisecond):
		}
		if r, err := (control.Client{Socket: sock, Timeout: time.Second}).Call("ping"); err == nil && r.OK {
			_ = child.Process.Release()
			return nil
		}
	}
	return &exitError{code: 255, msg: "the daemon did not answer within 60 s (pid " + strconv.Itoa(child.Process.Pid) + ")"}
}

// foregroundArgs is the command line of "f2bx start -f" with f's settings.
func (f serverFlags) foregroundArgs() []string {
	args := []string{"start", "-f"}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	add("--conf", f.conf.dir)
	add("--socket", f.socket)
	add("--pidfile", f.pidfile)
	add("--db", f.db)
	add("--logtarget", f.logtarget)
	add("--loglevel", f.loglevel)
	add("--metrics", f.metrics)
	add("--xdp-interface", strings.Join(f.xdpIfs, ","))
	add("--xdp-mode", f.xdpMode)
	add("--pin-dir", f.pinDir)
	add("--reader", f.reader)
	add("--journalctl", f.journalctl)
	if f.grace > 0 {
		add("--action-grace", f.grace.String())
	}
	if f.force {
		args = append(args, "--force")
	}
	return args
}

// runDaemon runs the daemon in this process until SIGTERM, SIGINT or a
// stop command; SIGHUP reloads.
func runDaemon(cmd *cobra.Command, f serverFlags) error {
	res, err := f.conf.load(false)
	if err != nil {
		return err
	}
	tuner := gctune.Start(0)
	defer tuner.Stop()
	cfg := res.Config
	srv := cfg.Server
	target, level := firstOf(f.logtarget, srv.LogTarget), firstOf(f.loglevel, srv.LogLevel)
	lvl, err := logging.ParseLevel(level)
	if err != nil {
		return err
	}
	h, err := logging.Open(target, logging.Options{Level: lvl})
	if err != nil {
		return err
	}
	defer h.Close()
	log := slog.New(h)
	log.Info("Starting f2bx", "version", version, "config", strings.TrimSpace(cfg.Source.Kind+" "+cfg.Source.Dir))
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	for _, e := range cfg.Errors {
		log.Error(e)
	}
	warmStart := time.Now()
	if n := tuner.Warm(); n > 0 {
		log.Debug("heap made resident", "MiB", n>>20, "took", time.Since(warmStart))
	}
	sock := firstOf(f.socket, srv.Socket, control.DefaultSocket)
	pidfile := firstOf(f.pidfile, srv.PidFile)
	ln, err := control.Listen(sock, f.force)
	if err != nil {
		return err
	}
	defer os.Remove(sock)
	if pidfile != "" {
		if err := os.MkdirAll(filepath.Dir(pidfile), 0o755); err == nil {
			_ = os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
			defer os.Remove(pidfile)
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	d, err := daemon.New(daemon.Options{
		Config: cfg,
		Reload: func() (*config.Config, error) {
			r, err := f.conf.load(false)
			if err != nil {
				return nil, err
			}
			return r.Config, nil
		},
		Log:        log,
		LogControl: h,
		DBFile:     f.db,
		XDP:        daemon.XDPOptions{PinDir: f.pinDir, Interfaces: f.xdpIfs, Mode: f.xdpMode},
		Reader:     f.reader,
		Version:    version, ActionGrace: f.grace,
		JournalCommand: f.journalctl,
		OnReady: func() {
			_, _ = sdnotify.Notify("READY=1\nSTATUS=banning")
			log.Info("Server ready")
		},
	})
	if err != nil {
		ln.Close()
		return err
	}
	srvCtx, stopSrv := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- (&control.Server{Handler: d.Handle, Log: log}).Serve(srvCtx, ln) }()
	if f.metrics != "" {
		go func() {
			if err := metrics.Serve(srvCtx, f.metrics, d); err != nil {
				log.Error("metrics", "err", err)
				d.Fail(fmt.Errorf("metrics: %w", err))
			}
		}()
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			log.Info("SIGHUP: reloading")
			_, _ = sdnotify.Notify("RELOADING=1")
			if _, err := d.Handle(srvCtx, []string{"reload"}); err != nil {
				log.Error("reload", "err", err)
			}
			_, _ = sdnotify.Notify("READY=1")
		}
	}()
	runErr := d.Run(ctx)
	_, _ = sdnotify.Notify("STOPPING=1")
	stopSrv()
	<-served
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		log.Error("f2bx stopped on an error", "err", runErr)
		return &exitError{code: 1, msg: runErr.Error()}
	}
	log.Info("Exiting f2bx")
	return nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
