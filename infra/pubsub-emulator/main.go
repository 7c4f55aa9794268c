// Command pubsub-emulator serves Google's in-memory Pub/Sub fake (pstest) on a fixed
// address, so the Node client reaches it through PUBSUB_EMULATOR_HOST like the gcloud emulator.
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8085", "host:port to listen on")
	flag.Parse()

	srv := pstest.NewServerWithAddress(*addr)
	log.Printf("pstest Pub/Sub fake listening on %s", srv.Addr)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	if err := srv.Close(); err != nil {
		log.Printf("close: %v", err)
	}
}
