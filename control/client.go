package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// ErrNotRunning is returned by Call when nothing listens on the socket.
var ErrNotRunning = errors.New("not running")

// Client talks to a daemon over its socket.
type Client struct {
	Socket string
	// Timeout bounds connecting and each answer (default 30 s).
	Timeout time.Duration
}

// Call sends one command and returns its response. A socket that does not
// exist or that nobody listens on gives an error wrapping ErrNotRunning.
func (c Client) Call(cmd ...string) (Response, error) {
	t := c.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	conn, err := net.DialTimeout("unix", c.Socket, min(t, 5*time.Second))
	if err != nil {
		if os.IsPermission(err) || errors.Is(err, os.ErrPermission) {
			return Response{}, fmt.Errorf("permission denied to socket %s (you must be root): %w", c.Socket, err)
		}
		return Response{}, fmt.Errorf("failed to access socket path %s: %w (is f2bx running?)", c.Socket, ErrNotRunning)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(t))
	b, err := json.Marshal(Request{Cmd: cmd})
	if err != nil {
		return Response{}, err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("send: %w", err)
	}
	line, err := bufio.NewReaderSize(conn, 1<<20).ReadBytes('\n')
	if err != nil {
		return Response{}, fmt.Errorf("read answer: %w", err)
	}
	var r Response
	if err := json.Unmarshal(line, &r); err != nil {
		return Response{}, fmt.Errorf("decode answer: %w", err)
	}
	if r.Kind == KindDenied {
		return r, errors.New(r.Error)
	}
	return r, nil
}
