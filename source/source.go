// Package source holds what every log source (file follower, shared-memory
// ring, journal) hands the filter stage: batches of complete lines, with
// where to resume once they are processed.
package source

import (
	"time"

	"github.com/f2bx/f2bx/store"
)

// Batch is lines of one source, in order.
type Batch struct {
	// Source names where the lines come from: a file's path, a ring's
	// name, "journal".
	Source string
	Lines  []string
	// Times are the lines' times when the source knows them (the
	// journal); nil when the time is in the line.
	Times []time.Time
	// Cut counts the lines of this batch cut at the length cap.
	Cut int
	// Position is where a file follower resumes after this batch; to be
	// saved once the batch is processed (files only).
	Position *store.Position
	// Cursor is the journal's cursor after this batch (journal only).
	Cursor string
}
