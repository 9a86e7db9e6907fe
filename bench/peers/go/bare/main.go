// Command bare is the ceiling of a Go HTTP server for bench/run.sh: a plain net/http handler that
// answers every POST to /mcp with one fixed JSON-RPC result (the request's id spliced in), and
// 202 to a message without an id. No JSON parsing, no MCP, no session.
//
//	bare PORT
//
// The one result holds what every answer the load generator checks needs: protocolVersion (for
// initialize), the tool's text content, and resultType "complete" (2026-07-28).
package main

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"os"

	"kringen.example/mcp-bench/peers/internal/serve"
)

const resultTail = `,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},` +
	`"serverInfo":{"name":"kringen-bench-bare","version":"1.0.0"},` +
	`"content":[{"type":"text","text":"This is a simple text response for testing."}],` +
	`"isError":false,"resultType":"complete"}}`

// requestID returns the bytes of the first "id" value in body (a number or a string), or nil.
func requestID(body []byte) []byte {
	i := bytes.Index(body, []byte(`"id":`))
	if i < 0 {
		return nil
	}
	rest := body[i+5:]
	end := bytes.IndexAny(rest, ",}")
	if end <= 0 {
		return nil
	}
	return bytes.TrimSpace(rest[:end])
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := requestID(body)
	if id == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	out := make([]byte, 0, 64+len(resultTail))
	out = append(append(append(out, `{"jsonrpc":"2.0","id":`...), id...), resultTail...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: bare PORT")
	}
	serve.ListenAndServe(os.Args[1], http.HandlerFunc(handle))
}
