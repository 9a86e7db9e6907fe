// Package serve runs the Go peers' HTTP servers: 127.0.0.1:PORT until SIGTERM or SIGINT.
package serve

import (
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// ListenAndServe serves h at /mcp on 127.0.0.1:port until a signal ends the process.
func ListenAndServe(port string, h http.Handler) {
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
