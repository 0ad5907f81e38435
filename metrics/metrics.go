// Package metrics serves the daemon's counters to Prometheus (opt-in,
// f2bx start --metrics ADDR).
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/f2bx/f2bx/daemon"
)

// Serve serves /metrics on addr until ctx ends.
func Serve(ctx context.Context, addr string, d *daemon.Daemon) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(d))
	s := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	}()
	if err := s.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
