package mysqlwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Packets (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html):
//
//	payload_length  3 bytes, little endian
//	sequence_id     1 byte
//	payload         payload_length bytes
//
// A payload of 2^24-1 bytes or more is sent in pieces of 2^24-1 bytes; a
// piece shorter than that (possibly empty) ends it. The sequence id starts
// at 0 with each command and grows by one with every packet, in both
// directions.

// maxChunk is the largest payload one packet carries.
const maxChunk = 1<<24 - 1

// Errors of the packet layer. The connection cannot continue after them.
var (
	// errPacketTooLarge: the client sent a payload over max_allowed_packet.
	errPacketTooLarge = errors.New("mysqlwire: packet larger than max_allowed_packet")
	// errMalformed: a packet does not decode.
	errMalformed = errors.New("mysqlwire: malformed packet")
)

// readStep is how much a packet's buffer grows at a time.
const readStep = 64 << 10

// keptBuffer is the largest read buffer a connection keeps between
// packets; a larger one, grown for a big statement, is dropped.
const keptBuffer = 1 << 20

// packetConn reads and writes the packets of one connection.
type packetConn struct {
	r   *bufio.Reader
	w   *bufio.Writer
	seq uint8
	// maxPacket bounds the payload of a packet the client sends.
	maxPacket int
	buf       []byte
}

// readPacket reads one payload, joining its pieces. The result is valid
// until the next readPacket.
func (p *packetConn) readPacket() ([]byte, error) {
	if cap(p.buf) > keptBuffer {
		p.buf = nil
	}
	p.buf = p.buf[:0]
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: the connection closed inside a packet header", errMalformed)
			}
			return nil, err
		}
		n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
		if hdr[3] != p.seq {
			return nil, fmt.Errorf("%w: sequence id %d, want %d", errMalformed, hdr[3], p.seq)
		}
		p.seq++
		if len(p.buf)+n > p.maxPacket {
			return nil, errPacketTooLarge
		}
		// Grow as the bytes arrive, not by what the header claims.
		for left := n; left > 0; {
			k := min(left, readStep)
			start := len(p.buf)
			p.buf = slices.Grow(p.buf, k)[:start+k]
			if _, err := io.ReadFull(p.r, p.buf[start:]); err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("%w: the connection closed inside a packet", errMalformed)
				}
				return nil, err
			}
			left -= k
		}
		if n < maxChunk {
			return p.buf, nil
		}
	}
}

// writePacket writes one payload (buffered; see flush), split into pieces
// as the protocol requires.
func (p *packetConn) writePacket(payload []byte) error {
	for {
		n := min(len(payload), maxChunk)
		hdr := [4]byte{byte(n), byte(n >> 8), byte(n >> 16), p.seq}
		p.seq++
		if _, err := p.w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := p.w.Write(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < maxChunk {
			return nil
		}
	}
}

func (p *packetConn) flush() error { return p.w.Flush() }

// --- encoding ---

// appendLenEncInt appends a length-encoded integer.
func appendLenEncInt(dst []byte, v uint64) []byte {
	switch {
	case v < 251:
		return append(dst, byte(v))
	case v < 1<<16:
		return append(dst, 0xfc, byte(v), byte(v>>8))
	case v < 1<<24:
		return append(dst, 0xfd, byte(v), byte(v>>8), byte(v>>16))
	}
	return binary.LittleEndian.AppendUint64(append(dst, 0xfe), v)
}

// appendLenEncString appends a length-encoded string.
func appendLenEncString(dst []byte, s string) []byte {
	return append(appendLenEncInt(dst, uint64(len(s))), s...)
}

func appendLenEncBytes(dst []byte, b []byte) []byte {
	return append(appendLenEncInt(dst, uint64(len(b))), b...)
}

// --- decoding ---

// reader decodes the fields of a payload. Every method fails with
// errMalformed when the payload is too short.
type reader struct {
	b   []byte
	off int
}

func (r *reader) short(what string) error {
	return fmt.Errorf("%w: %s at byte %d is cut short", errMalformed, what, r.off)
}

func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) byte(what string) (byte, error) {
	if r.remaining() < 1 {
		return 0, r.short(what)
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *reader) bytes(n int, what string) ([]byte, error) {
	if n < 0 || r.remaining() < n {
		return nil, r.short(what)
	}
	r.off += n
	return r.b[r.off-n : r.off], nil
}

func (r *reader) uint16(what string) (uint16, error) {
	b, err := r.bytes(2, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (r *reader) uint32(what string) (uint32, error) {
	b, err := r.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) uint64(what string) (uint64, error) {
	b, err := r.bytes(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// lenEncInt reads a length-encoded integer.
func (r *reader) lenEncInt(what string) (uint64, error) {
	c, err := r.byte(what)
	if err != nil {
		return 0, err
	}
	var n int
	switch c {
	case 0xfc:
		n = 2
	case 0xfd:
		n = 3
	case 0xfe:
		n = 8
	case 0xfb, 0xff:
		return 0, fmt.Errorf("%w: %s: 0x%02x is not a length", errMalformed, what, c)
	default:
		return uint64(c), nil
	}
	b, err := r.bytes(n, what)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// lenEncBytes reads a length-encoded string.
func (r *reader) lenEncBytes(what string) ([]byte, error) {
	n, err := r.lenEncInt(what)
	if err != nil {
		return nil, err
	}
	if n > uint64(r.remaining()) {
		return nil, r.short(what)
	}
	return r.bytes(int(n), what)
}

// nulString reads a NUL-terminated string; at the end of the payload the
// terminator may be missing.
func (r *reader) nulString() string {
	rest := r.b[r.off:]
	for i, c := range rest {
		if c == 0 {
			r.off += i + 1
			return string(rest[:i])
		}
	}
	r.off = len(r.b)
	return string(rest)
}

func (r *reader) rest() []byte {
	b := r.b[r.off:]
	r.off = len(r.b)
	return b
}
