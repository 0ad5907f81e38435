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
	"slices"
	"sync"
	"time"

	"github.com/f2bx/f2bx/action/nft"
	"github.com/f2bx/f2bx/action/xdp"
	"github.com/f2bx/f2bx/clock"
	"github.com/f2bx/f2bx/config"
	"github.com/f2bx/f2bx/control"
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
	// LogControl changes the log level and target at runtime (set
	// loglevel, set logtarget); nil refuses those commands.
	LogControl LogControl
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

	mu  sync.RWMutex // guards cur and cfg
	cur *pipeline
	cfg *config.Config
	// started is closed when the first pipeline runs.
	started     chan struct{}
	startedOnce sync.Once
	stop        chan stopRequest
	// reload asks Run to build the pipeline again.
	reload chan reloadRequest
	fatal  chan error
}

type stopRequest struct{ flush bool }

// LogControl is the daemon's log handler, as far as commands change it
// (logging.Handler implements it).
type LogControl interface {
	SetLevel(slog.Level)
	Level() slog.Level
	SetTarget(target string) error
	Target() string
	Reopen() (bool, error)
}

// reloadRequest asks Run to load the configuration again: every jail, or
// only jail (the others keep their configuration).
type reloadRequest struct {
	jail string
	// unban lifts the bans of the jails reloaded first; restart starts
	// them afresh (their failure counts are dropped); stop stops jail (every
	// jail when jail is "").
	unban, restart, stop bool
	// ifExists makes an unknown jail no error.
	ifExists bool
	done     chan error
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
		started: make(chan struct{}), stop: make(chan stopRequest, 1), reload: make(chan reloadRequest), fatal: make(chan error, 16),
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
	var prev *pipeline
	var fresh map[string]bool
	var reloading chan error // answered once the new pipeline runs
	for {
		p, err := d.startPipeline(ctx, d.config(), prev, fresh)
		if err == nil {
			d.setPipeline(p)
		}
		if reloading != nil {
			reloading <- err
			reloading = nil
		}
		if err != nil {
			return err
		}
		if d.o.OnReady != nil {
			d.o.OnReady()
			d.o.OnReady = nil
		}
		for reloaded := false; !reloaded; {
			select {
			case <-ctx.Done():
				p.shutdown(false, nil)
				return nil
			case s := <-d.stop:
				flush = s.flush
				p.shutdown(s.flush, nil)
				return nil
			case err := <-d.fatal:
				d.log.Error("stopping: a stage failed", "err", err)
				p.shutdown(false, nil)
				return err
			case r := <-d.reload:
				var err error
				fresh, err = d.doReload(p, r)
				if err != nil {
					// The pipeline was left running.
					r.done <- err
					d.log.Error("reload failed; running the previous configuration", "err", err)
					continue
				}
				prev, reloaded, reloading = p, true, r.done
			}
		}
	}
}

// doReload loads the configuration again (all of it, or one jail's part),
// stops the pipeline (positions and bans saved) and returns for Run to
// start the new one, with the names of the jails to start afresh (their
// failure counts not carried over). On error the pipeline is left
// running.
func (d *Daemon) doReload(p *pipeline, r reloadRequest) (fresh map[string]bool, err error) {
	cur := d.config()
	next, err := d.nextConfig(cur, r)
	if err != nil {
		return nil, fmt.Errorf("reload: %w", err)
	}
	fresh = map[string]bool{}
	for name, rt := range p.rt {
		if r.jail != "" && r.jail != name {
			continue
		}
		if r.unban {
			n := rt.j.UnbanAll(context.Background())
			d.log.Info("reload: unbanned every address", "jail", name, "count", n)
		}
		if r.restart {
			fresh[name] = true
		}
	}
	p.shutdown(false, next)
	d.mu.Lock()
	d.cfg = next
	d.mu.Unlock()
	d.log.Info("reloaded the configuration", "jails", len(next.Jails))
	return fresh, nil
}

// nextConfig is the configuration a reload request leads to: the one
// loaded again, or for one jail the current one with that jail's part
// taken from it (removed when it is no longer enabled, or when r stops
// it).
func (d *Daemon) nextConfig(cur *config.Config, r reloadRequest) (*config.Config, error) {
	without := func(name string) *config.Config {
		next := *cur
		next.Jails = slices.DeleteFunc(slices.Clone(cur.Jails), func(j *config.Jail) bool { return name == "" || j.Name == name })
		return &next
	}
	if r.stop {
		if r.jail != "" && cur.Jail(r.jail) == nil {
			return nil, control.UnknownJail(r.jail)
		}
		return without(r.jail), nil
	}
	if d.o.Reload == nil {
		return nil, errors.New("no configuration to reload from")
	}
	loaded, err := d.o.Reload()
	if err != nil {
		return nil, err
	}
	if r.jail == "" {
		return loaded, nil
	}
	nj, oj := loaded.Jail(r.jail), cur.Jail(r.jail)
	if nj == nil && oj == nil {
		if r.ifExists {
			return cur, nil
		}
		return nil, control.UnknownJail(r.jail)
	}
	next := without(r.jail)
	if nj != nil {
		next.Jails = append(next.Jails, nj)
	}
	return next, nil
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
	d.startedOnce.Do(func() { close(d.started) })
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
