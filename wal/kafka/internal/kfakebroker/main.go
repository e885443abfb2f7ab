// Command kfakebroker runs franz-go's kfake, an in-memory Kafka broker
// that speaks the Kafka protocol, as a process of its own, for tests that
// kill and restart the broker under a node (integration_tests builds it):
//
//	kfakebroker -port 9092 -data-dir /tmp/kafka
//
// It listens on 127.0.0.1:<port> (0: a free port), prints "listening on
// <addr>" once it accepts connections, and exits cleanly on SIGTERM or
// SIGINT. With -data-dir its topics and records survive a restart; with
// -sync (the default) every produced batch is fsynced before it is
// acknowledged, so a SIGKILL loses nothing acknowledged. It is a test
// helper, not a Kafka for production.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0: a free one)")
	dataDir := flag.String("data-dir", "", "directory that keeps the broker's state across restarts (empty: memory only)")
	sync := flag.Bool("sync", true, "fsync every produced batch before acknowledging it")
	flag.Parse()

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(*port),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			// kfake listens on all interfaces; tests want loopback.
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort("127.0.0.1", p))
		}),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *sync {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", c.ListenAddrs()[0])

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	<-sigs
	c.Close()
}
