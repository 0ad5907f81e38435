// Package daemon wires f2bx's stages into the running service: log sources
// (file follower, shared-memory rings, the journal) feed filter stages,
// which hand failures to the jails; the jails' bans go to their actions,
// one scheduler goroutine unbans on time, and the store keeps bans and log
// positions across restarts. A control handler answers fail2ban-client's
// commands. A stage that panics or stalls stops the daemon with an error,
// so that systemd restarts it rather than it running half-alive.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/f2bx/f2bx/action/nft"
	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/clock"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/filter/dns"
	"github.com/f2bx/f2bx/jail"
	"github.com/f2bx/f2bx/jail/ignore"
	"github.com/f2bx/f2bx/store"
)

// Options configure a Daemon.
type Options struct {
	Config *config.Config
	// Reload loads the configuration again (for reload); nil refuses
	// reload.
	Reload func() (*config.Config, error)
	Clock  clock.Clock
	Log    *slog.Logger
	// DBFile overrides the configuration's dbfile when set; "none"
	// disables the database (as fail2ban's dbfile = None).
	DBFile string
	XDP    XDPOptions
	// NFT is the nftables backend's table options (Hook, Devices).
	NFT nft.Options
	// Reader is how files are read: "" (pread) or "uring".
	Reader string
	// Poll and Grace are the file follower's (see source/file).
	Poll, Grace time.Duration
	// JournalCommand is journalctl's path (tests use a fake).
	JournalCommand string
	// RingReaders is the number of reader goroutines per ring (default
	// GOMAXPROCS).
	RingReaders int
	// FilterWorkers is the number of goroutines that match the batches of
	// one source when its filters keep no state between lines (default
	// GOMAXPROCS; 1 matches on the source's goroutine).
	FilterWorkers int
	// StallAfter is how long a stage may hold one batch before the daemon
	// declares it stalled and stops (default 5 min).
	StallAfter time.Duration
	// ActionGrace is how long a stop waits for busy actions (default
	// 10 s).
	ActionGrace time.Duration
	// Version is what "version" answers.
	Version string
	// Metrics receives the daemon's counters; nil keeps none.
	Metrics *Metrics
	// AfterBan, when set, is called after the actions carried out a batch
	// of bans (benchmarks measure the ban latency with it).
	AfterBan func(jail string, batch []*jail.Ticket, at time.Time)
	// OnReady is called once the first pipeline runs (sd_notify READY=1).
	OnReady func()
}

// XDPOptions configure the f2bx-xdp backend.
type XDPOptions struct {
	// PinDir is where maps and links are pinned (default
	// /sys/fs/bpf/f2bx); "none" pins nothing.
	PinDir string
	// Interfaces to attach to; every interface that is up when empty.
	// An action's "interface" option overrides it.
	Interfaces []string
	// Mode is auto, native or generic.
	Mode string
}

// Daemon is the running service.
type Daemon struct {
	o   Options
	log *slog.Logger

	st      *store.Store
	dbPath  string // the database in use
	writer  *store.Writer
	history *jail.History
	self    *ignore.Self
	dns     *dns.Resolver

	backendMu sync.Mutex
	blacklist *xdp.Blacklist
	table     *nft.Table

	mu   sync.RWMutex // guards cur and cfg
	cur  *pipeline
	cfg  *config.Config
	stop chan stopRequest
	// reload asks Run to build the pipeline again.
	reload chan reloadRequest
	fatal  chan error
}

type stopRequest struct{ flush bool }

type reloadRequest struct {
	unban bool
	done  chan error
}

// New prepares a daemon; Run runs it.
func New(o Options) (*Daemon, error) {
	if o.Config == nil {
		return nil, errors.New("daemon: no configuration")
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.RingReaders <= 0 {
		o.RingReaders = runtime.GOMAXPROCS(0)
	}
	if o.FilterWorkers <= 0 {
		o.FilterWorkers = runtime.GOMAXPROCS(0)
	}
	if o.StallAfter <= 0 {
		o.StallAfter = 5 * time.Minute
	}
	if o.ActionGrace <= 0 {
		o.ActionGrace = 10 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	return &Daemon{o: o, log: o.Log, cfg: o.Config,
		stop: make(chan stopRequest, 1), reload: make(chan reloadRequest), fatal: make(chan error, 16),
		dns: &dns.Resolver{Now: o.Clock.Now}}, nil
}

// Run opens the database, restores the bans, runs the pipeline until ctx
// ends or a stop command arrives, and then saves positions and bans. It
// returns an error when a stage failed.
func (d *Daemon) Run(ctx context.Context) (err error) {
	if err := d.openStore(ctx); err != nil {
		return err
	}
	defer d.closeStore()
	if self, err := ignore.NewSelf(); err == nil {
		d.self = self
		defer self.Close()
		go self.Watch(ctx, func(err error) {
			if err != nil {
				d.log.Warn("ignoreself: watching the host's addresses", "err", err)
			}
		})
	} else {
		d.log.Warn("ignoreself: cannot list the host's addresses", "err", err)
	}
	flush := false
	defer func() {
		d.closeBackends(flush)
	}()
	for {
		p, err := d.startPipeline(ctx, d.config())
		if err != nil {
			return err
		}
		d.setPipeline(p)
		if d.o.OnReady != nil {
			d.o.OnReady()
			d.o.OnReady = nil
		}
		select {
		case <-ctx.Done():
			p.shutdown(false)
			return nil
		case s := <-d.stop:
			flush = s.flush
			p.shutdown(s.flush)
			return nil
		case err := <-d.fatal:
			d.log.Error("stopping: a stage failed", "err", err)
			p.shutdown(false)
			return err
		case r := <-d.reload:
			err := d.doReload(p, r)
			r.done <- err
			if err != nil {
				d.log.Error("reload failed; running the previous configuration", "err", err)
			}
		}
	}
}

// doReload stops the pipeline (positions and bans saved), loads the
// configuration again, and returns for Run to start the new pipeline.
func (d *Daemon) doReload(p *pipeline, r reloadRequest) error {
	var cfg *config.Config
	var err error
	if d.o.Reload != nil {
		cfg, err = d.o.Reload()
	} else {
		err = errors.New("no configuration to reload from")
	}
	if r.unban {
		n := p.jails.UnbanAll(context.Background())
		d.log.Info("reload: unbanned every address", "count", n)
	}
	p.shutdown(false)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.log.Info("reloaded the configuration", "jails", len(cfg.Jails))
	return nil
}

func (d *Daemon) config() *config.Config {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.cfg
}

func (d *Daemon) setPipeline(p *pipeline) {
	d.mu.Lock()
	d.cur = p
	d.mu.Unlock()
}

func (d *Daemon) pipeline() *pipeline {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.cur
}

// Fail stops the daemon with err (a stage that failed).
func (d *Daemon) Fail(err error) {
	select {
	case d.fatal <- err:
	default:
	}
}

// Stop asks Run to stop; flush removes the bans from the kernel too.
func (d *Daemon) Stop(flush bool) {
	select {
	case d.stop <- stopRequest{flush}:
	default:
	}
}

func (d *Daemon) openStore(ctx context.Context) error {
	path := d.o.DBFile
	if path == "" {
		path = d.o.Config.Server.DBFile
	}
	if path == "" || path == "none" || path == "None" {
		d.history = jail.NewHistory(nil)
		return nil
	}
	st, err := store.Open(path)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	hist, err := st.History(ctx)
	if err != nil {
		st.Close()
		return fmt.Errorf("read ban history: %w", err)
	}
	d.st, d.dbPath, d.history = st, path, jail.NewHistory(hist)
	d.writer = store.NewWriter(st, store.WriterConfig{Every: time.Second,
		PurgeAge: time.Duration(d.o.Config.Server.DBPurgeAge), Now: d.o.Clock.Now,
		OnError: func(err error) { d.log.Error("database", "err", err) }})
	return nil
}

func (d *Daemon) closeStore() {
	if d.writer != nil {
		d.writer.Close()
	}
	if d.st != nil {
		d.st.Close()
	}
}
