package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// socks5Dialer returns a dial function that connects through the SOCKS5
// proxy at proxy (RFC 1928, CONNECT, no authentication), as upstream's
// client.socks5_proxy does.
func socks5Dialer(proxy string, d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, "tcp", proxy)
		if err != nil {
			return nil, fmt.Errorf("socks5 proxy %s: %w", proxy, err)
		}
		if err := socks5Connect(ctx, conn, addr); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("socks5 proxy %s: connect to %s: %w", proxy, addr, err)
		}
		return conn, nil
	}
}

func socks5Connect(ctx context.Context, conn net.Conn, addr string) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return fmt.Errorf("port %q: %w", portStr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	defer func() { _ = conn.SetDeadline(time.Time{}) }()

	// Greeting: version 5, one method, "no authentication".
	if _, err := conn.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	var reply [2]byte
	if _, err := io.ReadFull(conn, reply[:]); err != nil {
		return err
	}
	if reply[0] != 5 || reply[1] != 0 {
		return fmt.Errorf("proxy refused no-authentication (version %d, method %d)", reply[0], reply[1])
	}

	req := []byte{5, 1, 0} // version, CONNECT, reserved
	if ip := net.ParseIP(host); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			req = append(append(req, 1), ip4...)
		} else {
			req = append(append(req, 4), ip.To16()...)
		}
	} else {
		if len(host) > 255 {
			return errors.New("host name too long")
		}
		req = append(append(req, 3, byte(len(host))), host...)
	}
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := conn.Write(req); err != nil {
		return err
	}
	var head [4]byte
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return err
	}
	if head[0] != 5 {
		return fmt.Errorf("bad reply version %d", head[0])
	}
	if head[1] != 0 {
		return fmt.Errorf("proxy replied %d", head[1])
	}
	var skip int
	switch head[3] {
	case 1:
		skip = 4
	case 4:
		skip = 16
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(conn, n[:]); err != nil {
			return err
		}
		skip = int(n[0])
	default:
		return fmt.Errorf("bad bound address type %d", head[3])
	}
	_, err = io.ReadFull(conn, make([]byte, skip+2)) // bound address and port
	return err
}
