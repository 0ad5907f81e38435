package ringbuf

import (
	"encoding/binary"
	"hash/crc32"
)

// The shared memory layout (all integers little-endian, native atomics;
// ringbuf/c/f2bx_ring.h mirrors it):
//
//	header, 4096 bytes
//	  0  magic "F2BXRING"         8
//	  8  version                  4
//	 12  checksum (CRC-32C of bytes 0..63, this field zero)
//	 16  segments                 4
//	 20  lines per segment (a power of two)
//	 24  line size (slot bytes: 4-byte length, then the line)
//	 28  reader slots             4
//	 32  flags (bit 0: overwrite) 4
//	 40  total size               8
//	 64  reader slots, 64 bytes each: state (0 free, 1 attached) 4,
//	     pid 4, lines missed 8 (overwrite mode), wake sequence 4 (a
//	     futex word), sleepers 4
//	segment i at 4096 + i*segmentSize:
//	  cache line 0: write index 8, writer state 4, writer pid 4
//	  cache line 1+r: reader r's read index 8
//	  lines*lineSize bytes of slots
//
// A reader with nothing to read counts itself in sleepers, looks once
// more, and waits on the wake sequence (FUTEX_WAIT, shared). A writer,
// after publishing its write index, bumps the wake sequence of every slot
// with sleepers and wakes them (FUTEX_WAKE): readers need not poll.
const (
	magic        = "F2BXRING"
	version      = 1
	headerSize   = 4096
	cacheLine    = 64
	fixedFields  = 64
	readerSlotSz = 64

	offVersion  = 8
	offChecksum = 12
	offSegments = 16
	offLines    = 20
	offLineSize = 24
	offReaders  = 28
	offFlags    = 32
	offSize     = 40
	offReaderTb = 64

	flagOverwrite = 1

	// MaxReaders bounds the reader slots (they must fit the header).
	MaxReaders = (headerSize - offReaderTb) / readerSlotSz
	// MaxSegments bounds the segments.
	MaxSegments = 1024
)

// geometry is a ring's constant shape.
type geometry struct {
	segments, lines, lineSize, readers uint32
	overwrite                          bool
}

func (g geometry) segmentSize() int64 {
	return int64(1+g.readers)*cacheLine + int64(g.lines)*int64(g.lineSize)
}

func (g geometry) size() int64 { return headerSize + int64(g.segments)*g.segmentSize() }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of the constant fields.
func checksum(h []byte) uint32 {
	var b [fixedFields]byte
	copy(b[:], h[:fixedFields])
	binary.LittleEndian.PutUint32(b[offChecksum:], 0)
	return crc32.Checksum(b[:], castagnoli)
}

// writeHeader fills the constant fields of a new ring.
func writeHeader(h []byte, g geometry) {
	copy(h, magic)
	le := binary.LittleEndian
	le.PutUint32(h[offVersion:], version)
	le.PutUint32(h[offSegments:], g.segments)
	le.PutUint32(h[offLines:], g.lines)
	le.PutUint32(h[offLineSize:], g.lineSize)
	le.PutUint32(h[offReaders:], g.readers)
	if g.overwrite {
		le.PutUint32(h[offFlags:], flagOverwrite)
	}
	le.PutUint64(h[offSize:], uint64(g.size()))
	le.PutUint32(h[offChecksum:], checksum(h))
}
