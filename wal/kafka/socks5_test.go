package kafka

import (
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// socks5Server is a minimal SOCKS5 proxy (no authentication, CONNECT only)
// that counts the connections it forwards.
type socks5Server struct {
	ln        net.Listener
	forwarded atomic.Int64
	wg        sync.WaitGroup
}

func startSocks5(t *testing.T) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *socks5Server) serve(c net.Conn) {
	defer c.Close()
	var hello [3]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil || hello[0] != 5 {
		return
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || head[1] != 1 {
		return
	}
	var host string
	switch head[3] {
	case 1:
		var ip [4]byte
		if _, err := io.ReadFull(c, ip[:]); err != nil {
			return
		}
		host = net.IP(ip[:]).String()
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		b := make([]byte, n[0])
		if _, err := io.ReadFull(c, b); err != nil {
			return
		}
		host = string(b)
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(c, port[:]); err != nil {
		return
	}
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))))
	if err != nil {
		_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	if _, err := c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0}); err != nil {
		return
	}
	s.forwarded.Add(1)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// TestSocks5Proxy runs the WAL through a SOCKS5 proxy
// (client.socks5_proxy).
func TestSocks5Proxy(t *testing.T) {
	c := newCluster(t)
	proxy := startSocks5(t)
	opts := testOptions(c.ListenAddrs())
	opts.Socks5Proxy = proxy.ln.Addr().String()
	w := openT(t, opts)
	l := openLogT(t, w, 1)
	appendT(t, l, entry(1, "through the proxy"))
	expectRecords(t, "read through the proxy", readAll(t, l, 1), "1:1:through the proxy")
	if proxy.forwarded.Load() == 0 {
		t.Fatal("no connection went through the proxy")
	}
}
