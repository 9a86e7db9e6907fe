// Command gosdk is the Go MCP SDK peer for bench/run.sh: one tool, test_simple_text, served by
// mcp.NewStreamableHTTPHandler on 127.0.0.1:PORT/mcp.
//
//	gosdk PORT fast|default
//
// default: the handler's default options (stateful sessions, SSE answers); fast: Stateless and
// JSONResponse, the SDK's documented fastest form.
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"kringen.example/mcp-bench/peers/internal/serve"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: gosdk PORT fast|default")
	}
	opts := &mcp.StreamableHTTPOptions{}
	switch os.Args[2] {
	case "fast":
		opts.Stateless, opts.JSONResponse = true, true
	case "default":
	default:
		log.Fatalf("unknown mode %q", os.Args[2])
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "kringen-bench-go-sdk", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "test_simple_text", Description: "Returns a simple text response"},
		func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.TextContent{Text: "This is a simple text response for testing."}}}, nil, nil
		})
	serve.ListenAndServe(os.Args[1],
		mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, opts))
}
