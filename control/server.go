package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Handler carries out one command.
type Handler func(ctx context.Context, cmd []string) (any, error)

// Server answers requests on a listener.
type Server struct {
	Handler Handler
	// AllowUIDs are the peer user ids allowed besides root.
	AllowUIDs []uint32
	Log       *slog.Logger
	// Timeout bounds reading one request (default 10 s).
	Timeout time.Duration
}

// ErrRunning is returned by Listen when a daemon answers on the socket.
var ErrRunning = errors.New("control: a server is already running on the socket")

// Listen creates the socket at path with mode 0600, creating its
// directory. An existing socket that nobody answers on is stale: it is
// removed when force is set (fail2ban's -x), else refused.
func Listen(path string, force bool) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%w: %s", ErrRunning, path)
		}
		if !force {
			return nil, fmt.Errorf("control: socket %s exists but nobody answers (a stale socket); remove it, or start with -x", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	old := unix.Umask(0o177)
	ln, err := net.Listen("unix", path)
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	return ln, nil
}

// Serve answers connections until ctx ends, then closes ln and waits for
// the requests being answered.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Timeout <= 0 {
		s.Timeout = 10 * time.Second
	}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			s.serveConn(ctx, c)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	enc := json.NewEncoder(c)
	denied := s.checkPeer(c)
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.Timeout))
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		if denied != nil {
			// Answered after the request is read, so that the client
			// gets the refusal rather than a broken pipe.
			s.Log.Warn("control: refused a peer", "err", denied)
			_ = enc.Encode(Response{Error: denied.Error(), Kind: KindDenied})
			return
		}
		var req Request
		resp := Response{}
		if err := json.Unmarshal(line, &req); err != nil || len(req.Cmd) == 0 {
			resp.Error, resp.Kind = "Sorry but the command is invalid", KindInvalid
		} else {
			resp = s.answer(ctx, req.Cmd)
		}
		_ = c.SetWriteDeadline(time.Now().Add(s.Timeout))
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func (s *Server) answer(ctx context.Context, cmd []string) (resp Response) {
	defer func() {
		if p := recover(); p != nil {
			s.Log.Error("control: command panicked", "cmd", cmd, "panic", p)
			resp = Response{Error: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	v, err := s.Handler(ctx, cmd)
	if err != nil {
		return Response{Error: err.Error(), Kind: KindOf(err)}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Response{Error: fmt.Sprintf("encode response: %v", err)}
	}
	return Response{OK: true, Value: b}
}

// checkPeer allows root and AllowUIDs, by the peer's credentials.
func (s *Server) checkPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil // not a Unix socket (tests over other transports)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	if cred.Uid == 0 || slices.Contains(s.AllowUIDs, cred.Uid) {
		return nil
	}
	return fmt.Errorf("permission denied: uid %d (pid %d) is not allowed on the control socket", cred.Uid, cred.Pid)
}
