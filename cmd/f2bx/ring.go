package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2bx/f2bx/ringbuf"
)

func newRingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ring",
		Short: "Create, write, read and inspect shared-memory rings",
		Long: `Shared-memory rings (/dev/shm/f2bx-NAME, or a path) carry log lines from
applications to f2bx without a file: one segment per writer, every attached
reader sees every line. C programs write with ringbuf/c/f2bx_ring.h; any
program's output can be piped in with "f2bx ring write".`,
	}
	cmd.AddCommand(newRingCreateCmd(), newRingWriteCmd(), newRingReadCmd(), newRingStatCmd(), newRingRemoveCmd())
	return cmd
}

// onRing makes a RunE that opens the ring its first argument names.
func onRing(fn func(cmd *cobra.Command, r *ringbuf.Ring) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		r, err := ringbuf.Open(args[0])
		if err != nil {
			return err
		}
		defer r.Close()
		return fn(cmd, r)
	}
}

func newRingCreateCmd() *cobra.Command {
	var o ringbuf.Options
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a ring",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := ringbuf.Create(args[0], o)
			if err != nil {
				return err
			}
			defer r.Close()
			st := r.Stat()
			fmt.Fprintf(cmd.OutOrStdout(), "created %s: %d segments x %d lines of %d bytes, overwrite %v\n",
				st.Path, st.Segments, st.Lines, st.LineSize, st.Overwrite)
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Segments, "segments", 4, "writer segments")
	cmd.Flags().IntVar(&o.Lines, "lines", 65536, "line slots per segment (rounded up to a power of two)")
	cmd.Flags().IntVar(&o.LineSize, "line-size", 1020, "longest line in bytes")
	cmd.Flags().IntVar(&o.Readers, "readers", 8, "reader slots")
	cmd.Flags().BoolVar(&o.Overwrite, "overwrite", false, "writers never wait; readers count the lines they missed")
	return cmd
}

// interrupted returns a channel closed on SIGINT or SIGTERM.
func interrupted() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		if _, ok := <-sig; ok {
			close(done)
		}
	}()
	return done, func() { signal.Stop(sig); close(sig) }
}

func newRingWriteCmd() *cobra.Command {
	var segment int
	cmd := &cobra.Command{
		Use:   "write NAME",
		Short: "Copy standard input's lines into a ring",
		Long: `Copy standard input's lines into a ring, in batches. In lossless mode it waits
while the ring is full rather than dropping lines.`,
		Args: cobra.ExactArgs(1),
		RunE: onRing(func(cmd *cobra.Command, r *ringbuf.Ring) error {
			w, err := r.NewWriter(segment)
			if err != nil {
				return err
			}
			defer w.Close()
			stop, release := interrupted()
			defer release()
			sc := bufio.NewScanner(cmd.InOrStdin())
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			batch := make([][]byte, 0, 256)
			flush := func() error {
				for len(batch) > 0 {
					n, err := w.WriteV(batch)
					batch = batch[n:]
					if errors.Is(err, ringbuf.ErrFull) {
						select {
						case <-stop:
							return fmt.Errorf("interrupted with %d lines not written", len(batch))
						case <-time.After(100 * time.Microsecond):
						}
						continue
					}
					if err != nil {
						return err
					}
				}
				batch = batch[:0]
				return nil
			}
			for sc.Scan() {
				batch = append(batch, append([]byte(nil), sc.Bytes()...))
				if len(batch) == cap(batch) {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if err := flush(); err != nil {
				return err
			}
			if w.Cut() > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d lines cut to %d bytes\n", w.Cut(), r.LineSize())
			}
			return sc.Err()
		}),
	}
	cmd.Flags().IntVar(&segment, "segment", -1, "segment to write (default: the first free one)")
	return cmd
}

func newRingReadCmd() *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "read NAME",
		Short: "Attach a reader and print the lines written from now on",
		Args:  cobra.ExactArgs(1),
		RunE: onRing(func(cmd *cobra.Command, r *ringbuf.Ring) error {
			rd, err := r.NewReader()
			if err != nil {
				return err
			}
			defer rd.Close()
			stop, release := interrupted()
			defer release()
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			var l ringbuf.Lines
			for n := 0; count <= 0 || n < count; {
				l.Reset()
				max := 4096
				if count > 0 {
					max = min(max, count-n)
				}
				if rd.ReadRange(0, r.Segments(), max, false, &l) == 0 {
					out.Flush()
					select {
					case <-stop:
						return nil
					case <-time.After(time.Millisecond):
					}
					continue
				}
				for i := range l.Len() {
					out.Write(l.Line(i))
					out.WriteByte('\n')
				}
				n += l.Len()
			}
			if m := rd.Missed(); m > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d lines missed (overwritten before they were read)\n", m)
			}
			return nil
		}),
	}
	cmd.Flags().IntVar(&count, "count", 0, "exit after this many lines (default: until interrupted)")
	return cmd
}

func newRingStatCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stat NAME",
		Short: "Print a ring's indices, writers and attached readers",
		Args:  cobra.ExactArgs(1),
		RunE: onRing(func(cmd *cobra.Command, r *ringbuf.Ring) error {
			st := r.Stat()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "ring %s: %d segments x %d lines of %d bytes, overwrite %v\n", st.Path, st.Segments, st.Lines, st.LineSize, st.Overwrite)
			for _, w := range st.Writers {
				state := "free"
				if w.Attached {
					state = fmt.Sprintf("writer pid %d", w.Pid)
					if !w.Alive {
						state += " (dead)"
					}
				}
				fmt.Fprintf(out, "  segment %d: write index %d, %s\n", w.Segment, w.WriteIndex, state)
			}
			fmt.Fprintf(out, "  readers: %d attached\n", len(st.Readers))
			for _, rd := range st.Readers {
				dead := ""
				if !rd.Alive {
					dead = " (dead)"
				}
				fmt.Fprintf(out, "  reader %d: pid %d%s, %d lines behind, %d missed\n", rd.Slot, rd.Pid, dead, rd.Behind, rd.Missed)
			}
			return nil
		}),
	}
}

func newRingRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a ring",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return ringbuf.Remove(args[0])
		},
	}
}
