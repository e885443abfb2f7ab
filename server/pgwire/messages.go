package pgwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Messages (https://www.postgresql.org/docs/current/protocol-message-formats.html):
// after the startup packet (an int32 length that counts itself, an int32
// code, the body), every message is a type byte, an int32 length that
// counts itself but not the type, and the body. Integers are big endian;
// strings end with a NUL.

// Errors of the framing. The connection cannot continue after them.
var (
	// errTooLarge: a message longer than Options.MaxMessageSize.
	errTooLarge = errors.New("pgwire: message too large")
	// errProtocol: a message that does not decode.
	errProtocol = errors.New("pgwire: protocol violation")
)

// readStep is how much a message's buffer grows at a time, so that a
// length the client claims but does not send costs no memory.
const readStep = 64 << 10

// keptBuffer is the largest read buffer a connection keeps between
// messages.
const keptBuffer = 1 << 20

// msgReader reads messages.
type msgReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// readBody reads n bytes into the reused buffer.
func (m *msgReader) readBody(n int) ([]byte, error) {
	if cap(m.buf) > keptBuffer {
		m.buf = nil
	}
	m.buf = m.buf[:0]
	for left := n; left > 0; {
		k := min(left, readStep)
		start := len(m.buf)
		m.buf = slices.Grow(m.buf, k)[:start+k]
		if _, err := io.ReadFull(m.r, m.buf[start:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: the connection closed inside a message", errProtocol)
			}
			return nil, err
		}
		left -= k
	}
	return m.buf, nil
}

// readStartup reads a startup-phase packet: the length, then the body
// (code and parameters). The body is valid until the next read.
func (m *msgReader) readStartup() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < 8 || n > maxStartupPacket {
		return nil, fmt.Errorf("%w: invalid length of startup packet: %d", errProtocol, n)
	}
	return m.readBody(n - 4)
}

// maxStartupPacket is PostgreSQL's limit on a startup packet.
const maxStartupPacket = 10000

// readMessage reads one message after startup. The body is valid until
// the next read.
func (m *msgReader) readMessage() (typ byte, body []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(m.r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("%w: the connection closed inside a message header", errProtocol)
		}
		return 0, nil, err
	}
	n := int64(int32(binary.BigEndian.Uint32(hdr[1:])))
	if n < 4 {
		return 0, nil, fmt.Errorf("%w: invalid message length %d", errProtocol, n)
	}
	if n-4 > int64(m.max) {
		return hdr[0], nil, fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, n-4, m.max)
	}
	body, err = m.readBody(int(n - 4))
	return hdr[0], body, err
}

// --- decoding ---

// fields decodes the parts of a message body; every method fails with
// errProtocol when the body is too short.
type fields struct {
	b   []byte
	off int
	err error
}

func (f *fields) fail(what string) {
	if f.err == nil {
		f.err = fmt.Errorf("%w: %s at byte %d is cut short", errProtocol, what, f.off)
	}
}

func (f *fields) bytes(n int, what string) []byte {
	if f.err != nil {
		return nil
	}
	if n < 0 || len(f.b)-f.off < n {
		f.fail(what)
		return nil
	}
	f.off += n
	return f.b[f.off-n : f.off]
}

func (f *fields) int16(what string) int16 {
	b := f.bytes(2, what)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

func (f *fields) int32(what string) int32 {
	b := f.bytes(4, what)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (f *fields) byte(what string) byte {
	b := f.bytes(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

// cstring reads a NUL-terminated string.
func (f *fields) cstring(what string) string {
	if f.err != nil {
		return ""
	}
	for i := f.off; i < len(f.b); i++ {
		if f.b[i] == 0 {
			s := string(f.b[f.off:i])
			f.off = i + 1
			return s
		}
	}
	f.err = fmt.Errorf("%w: %s at byte %d has no terminating NUL", errProtocol, what, f.off)
	return ""
}

// --- encoding ---

// msgWriter builds messages into a buffer and writes them.
type msgWriter struct {
	w   *bufio.Writer
	buf []byte
}

// start begins a message of type typ in the scratch buffer.
func (m *msgWriter) start(typ byte) []byte {
	if cap(m.buf) > keptBuffer {
		m.buf = nil
	}
	return append(m.buf[:0], typ, 0, 0, 0, 0)
}

// send completes the message b began by start and writes it (buffered).
func (m *msgWriter) send(b []byte) error {
	binary.BigEndian.PutUint32(b[1:], uint32(len(b)-1))
	m.buf = b
	_, err := m.w.Write(b)
	return err
}

func (m *msgWriter) flush() error { return m.w.Flush() }

func appendCString(dst []byte, s string) []byte { return append(append(dst, s...), 0) }

func appendInt16(dst []byte, v int16) []byte { return binary.BigEndian.AppendUint16(dst, uint16(v)) }

func appendInt32(dst []byte, v int32) []byte { return binary.BigEndian.AppendUint32(dst, uint32(v)) }
