//go:build !hyperscan || !cgo

// Package hsblock scans a block of lines with a Hyperscan database and
// marks which patterns matched which line; without Hyperscan it has none.
package hsblock

import "errors"

// Available reports whether this build has the C scanner.
const Available = false

// Database is a Hyperscan database; without Hyperscan there are none.
type Database struct{}

// Scanner scans with a Database.
type Scanner struct{}

// Load fails without Hyperscan.
func Load([]byte) (*Database, error) { return nil, errors.New("built without hyperscan") }

// NewScanner fails without Hyperscan.
func (d *Database) NewScanner() (*Scanner, error) { return nil, errors.New("built without hyperscan") }

// Scan fails without Hyperscan.
func (s *Scanner) Scan([]byte, []int, []uint64, int) error {
	return errors.New("built without hyperscan")
}
