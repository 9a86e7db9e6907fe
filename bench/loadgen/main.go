// Command loadgen drives MCP servers for bench/run.sh and prints its results as JSON.
//
//	loadgen ws   -url ws://127.0.0.1:P/mcp -conns 50 -warmup 2s -duration 8s [-mode mcp|echo] [-era 2025|2026] [-token T]
//	loadgen http -url http://127.0.0.1:P/mcp -conns 50 -warmup 2s -duration 8s [-era 2025|2026] [-token T]
//	loadgen idle -url ws://127.0.0.1:P/mcp -conns 10000 [-mode mcp|echo] [-era 2025|2026] [-token T]
//
// ws and http: every connection opens its MCP conversation, then runs a closed loop of
// tools/call test_simple_text (send one request, wait for its answer, repeat). Only calls
// sent after the warm-up and answered before the end of the measured window count. Every
// failure (transport error, JSON-RPC error, isError result, unexpected content, wrong id,
// HTTP status) is counted in "errors" and a few are quoted in "error_samples"; a
// connection that fails is re-opened.
//
// -era 2025 (the default) speaks protocol 2025-11-25: a connection first does the
// handshake (initialize, then notifications/initialized); over HTTP it keeps the
// Mcp-Session-Id and ends the session with DELETE. -era 2026 speaks 2026-07-28, which is
// stateless: no handshake and no session; every request carries the protocol version and
// the client's capabilities in params._meta, every HTTP POST the MCP-Protocol-Version,
// Mcp-Method and Mcp-Name headers, and every result must say resultType "complete".
//
// mode echo is for a server that echoes each frame back: the same frames are sent, and a
// round trip counts when the echo equals what was sent.
//
// idle: opens -conns WebSockets, each opened as its era wants (2025: the handshake; 2026:
// one stateless tools/list), prints {"event":"ready",...}, keeps them open (answering
// pings) until SIGTERM/SIGINT, then prints {"event":"done",...}.
//
// soak: WebSocket sessions and HTTP clients at once calling a mix of tools for minutes, with
// per-minute figures and the server's RSS (soak.go; `make soak`, bench/soak.sh).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	toolName     = "test_simple_text"
	expectedText = "This is a simple text response for testing."
	protoVersion = "2025-11-25" // -era 2025: negotiated by initialize
	version2026  = "2026-07-28" // -era 2026: named by every request
)

type options struct {
	url       string
	conns     int
	warmup    time.Duration
	duration  time.Duration
	mode      string
	era       string // "2025" (sessions, initialize) or "2026" (stateless 2026-07-28)
	token     string
	label     string
	parallel  int
	serverPID int
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen ws|http|idle|soak [flags]")
		os.Exit(2)
	}
	cmd := os.Args[1]
	if cmd == "soak" {
		if err := runSoak(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen soak:", err)
			os.Exit(1)
		}
		return
	}
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	var o options
	fs.StringVar(&o.url, "url", "", "server URL")
	fs.IntVar(&o.conns, "conns", 1, "concurrent connections")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before measuring")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured window")
	fs.StringVar(&o.mode, "mode", "mcp", "mcp (check MCP answers) or echo (check echoes)")
	fs.StringVar(&o.era, "era", "2025", "2025 (initialize, sessions) or 2026 (stateless 2026-07-28 requests)")
	fs.StringVar(&o.token, "token", "", "bearer token (empty: no Authorization header)")
	fs.StringVar(&o.label, "label", "", "label copied into the JSON output")
	fs.IntVar(&o.parallel, "parallel", 64, "idle: connections opened at once")
	fs.IntVar(&o.serverPID, "server-pid", 0, "ws/http: report this process's CPU time (with its children's) over the measured window")
	_ = fs.Parse(os.Args[2:])
	if o.url == "" || o.conns < 1 || (o.mode != "mcp" && o.mode != "echo") || (o.era != "2025" && o.era != "2026") {
		fs.Usage()
		os.Exit(2)
	}
	var err error
	switch cmd {
	case "ws":
		err = runLoad(o, newWSConn)
	case "http":
		if o.mode != "mcp" {
			err = errors.New("http supports only -mode mcp")
			break
		}
		err = runLoad(o, newHTTPConn)
	case "idle":
		err = runIdle(o)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------- messages

func initializeRequest(id int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"kringen-loadgen","version":"1.0.0"}}}`, id, protoVersion)
}

var initializedNotification = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

// meta2026 is the envelope every 2026-07-28 request carries in params._meta.
const meta2026 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"` + version2026 + `",` +
	`"io.modelcontextprotocol/clientCapabilities":{},` +
	`"io.modelcontextprotocol/clientInfo":{"name":"kringen-loadgen","version":"1.0.0"}}`

// What follows the id in a tools/call request, per era.
const (
	callTail2025 = `,"method":"tools/call","params":{"name":"` + toolName + `","arguments":{}}}`
	callTail2026 = `,"method":"tools/call","params":{"name":"` + toolName + `","arguments":{},` + meta2026 + `}}`
)

// calls builds one connection's tools/call requests: only the id changes from call to call,
// and the bytes go into the same buffer each time.
type calls struct {
	tail string
	buf  []byte
}

func newCalls(era string) calls {
	if era == "2026" {
		return calls{tail: callTail2026}
	}
	return calls{tail: callTail2025}
}

func (c *calls) request(id int) []byte {
	c.buf = append(c.buf[:0], `{"jsonrpc":"2.0","id":`...)
	c.buf = strconv.AppendInt(c.buf, int64(id), 10)
	c.buf = append(c.buf, c.tail...)
	return c.buf
}

// listRequest2026 is the one request a 2026 idle connection sends (id 0).
var listRequest2026 = []byte(`{"jsonrpc":"2.0","id":0,"method":"tools/list","params":{` + meta2026 + `}}`)

// expect says what a good answer holds besides the right id and a result.
type expect struct {
	call     bool // a tools/call result: not isError, the fixture's text
	complete bool // 2026-07-28: resultType "complete"
	// verify, when set, checks the whole answer after the checks above (the soak's tool mix).
	verify func(data []byte) error
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result *struct {
		ProtocolVersion string `json:"protocolVersion"`
		ResultType      string `json:"resultType"`
		Content         []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	} `json:"result"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// checkAnswer decodes one JSON-RPC message. notification is true for messages that are
// not answers (server notifications/requests), which the caller skips.
func checkAnswer(data []byte, id int, want expect) (msg rpcMessage, notification bool, err error) {
	if err = json.Unmarshal(data, &msg); err != nil {
		return msg, false, fmt.Errorf("bad JSON %q: %v", clip(data), err)
	}
	if msg.Method != "" {
		return msg, true, nil
	}
	if string(msg.ID) != strconv.Itoa(id) {
		return msg, false, fmt.Errorf("answer id %s, want %d: %q", msg.ID, id, clip(data))
	}
	if msg.Error != nil {
		return msg, false, fmt.Errorf("JSON-RPC error %d: %s", msg.Error.Code, msg.Error.Message)
	}
	if msg.Result == nil {
		return msg, false, fmt.Errorf("answer without result: %q", clip(data))
	}
	if want.complete && msg.Result.ResultType != "complete" {
		return msg, false, fmt.Errorf("resultType %q, want \"complete\": %q", msg.Result.ResultType, clip(data))
	}
	if want.call {
		if msg.Result.IsError {
			return msg, false, fmt.Errorf("isError result: %q", clip(data))
		}
		if len(msg.Result.Content) == 0 || msg.Result.Content[0].Type != "text" || msg.Result.Content[0].Text != expectedText {
			return msg, false, fmt.Errorf("unexpected content: %q", clip(data))
		}
	}
	if want.verify != nil {
		return msg, false, want.verify(data)
	}
	return msg, false, nil
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// ---------------------------------------------------------------- connections

// conn is one client connection with its MCP session.
type conn interface {
	// call sends tools/call with this id and waits for its (checked) answer.
	call(id int) error
	close()
}

type connFactory func(o options) (conn, error)

// WebSocket ------------------------------------------------------------------

type wsConn struct {
	c     *websocket.Conn
	echo  bool
	era   string
	calls calls
}

func dialWS(o options) (*websocket.Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{"mcp"}, HandshakeTimeout: 30 * time.Second,
		ReadBufferSize: 4096, WriteBufferSize: 4096}
	h := http.Header{}
	if o.token != "" {
		h.Set("Authorization", "Bearer "+o.token)
	}
	c, resp, err := d.Dial(o.url, h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %v (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %v", err)
	}
	if c.Subprotocol() != "mcp" {
		c.Close()
		return nil, fmt.Errorf("server chose subprotocol %q, want mcp", c.Subprotocol())
	}
	if tcp, ok := c.UnderlyingConn().(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	return c, nil
}

// roundTrip writes msg and reads until the answer to id arrives (or, in echo mode, one frame).
func (w *wsConn) roundTrip(msg []byte, id int, want expect) error {
	if err := w.c.WriteMessage(websocket.TextMessage, msg); err != nil {
		return fmt.Errorf("write: %v", err)
	}
	for {
		kind, data, err := w.c.ReadMessage()
		if err != nil {
			return fmt.Errorf("read: %v", err)
		}
		if kind != websocket.TextMessage {
			return fmt.Errorf("frame type %d, want text", kind)
		}
		if w.echo {
			if !bytes.Equal(data, msg) {
				return fmt.Errorf("echo differs: %q", clip(data))
			}
			return nil
		}
		_, notification, err := checkAnswer(data, id, want)
		if notification {
			continue
		}
		return err
	}
}

// openWS starts the MCP conversation: 2025, the handshake; 2026, nothing (every request
// stands alone; the first one makes the connection stateless).
func openWS(w *wsConn) error {
	if w.era == "2026" {
		return nil
	}
	return handshakeWS(w)
}

func handshakeWS(w *wsConn) error {
	if err := w.roundTrip(initializeRequest(0), 0, expect{}); err != nil {
		return fmt.Errorf("initialize: %v", err)
	}
	if err := w.c.WriteMessage(websocket.TextMessage, initializedNotification); err != nil {
		return fmt.Errorf("initialized: %v", err)
	}
	if w.echo { // the echo server sends the notification back too
		if _, data, err := w.c.ReadMessage(); err != nil || !bytes.Equal(data, initializedNotification) {
			return fmt.Errorf("initialized echo: %v", err)
		}
	}
	return nil
}

func newWSConn(o options) (conn, error) {
	c, err := dialWS(o)
	if err != nil {
		return nil, err
	}
	w := newWS(c, o)
	if err := openWS(w); err != nil {
		c.Close()
		return nil, err
	}
	return w, nil
}

func newWS(c *websocket.Conn, o options) *wsConn {
	return &wsConn{c: c, echo: o.mode == "echo", era: o.era, calls: newCalls(o.era)}
}

func (w *wsConn) call(id int) error {
	return w.roundTrip(w.calls.request(id), id, expect{call: true, complete: w.era == "2026"})
}

func (w *wsConn) close() {
	_ = w.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	w.c.Close()
}

// Streamable HTTP --------------------------------------------------------------

type httpConn struct {
	o         options
	client    *http.Client
	transport *http.Transport
	session   string
	version   string
	calls     calls
	// 2026: the headers of every tools/call POST, built once (requests only read them).
	callHeader http.Header
}

func newHTTPConn(o options) (conn, error) {
	// One transport per connection: one keep-alive TCP connection, like one client process.
	tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true,
		IdleConnTimeout: 120 * time.Second, ForceAttemptHTTP2: false, Proxy: nil}
	h := &httpConn{o: o, transport: tr, client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		calls: newCalls(o.era)}
	if o.era == "2026" { // stateless: no handshake, no session
		h.callHeader = http.Header{}
		h.callHeader.Set("Accept", "application/json, text/event-stream")
		h.callHeader.Set("Content-Type", "application/json")
		h.callHeader.Set("MCP-Protocol-Version", version2026)
		h.callHeader.Set("Mcp-Method", "tools/call")
		h.callHeader.Set("Mcp-Name", toolName)
		if o.token != "" {
			h.callHeader.Set("Authorization", "Bearer "+o.token)
		}
		return h, nil
	}
	msg, err := h.post(initializeRequest(0), 0, expect{}, http.StatusOK)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("initialize: %v", err)
	}
	h.version = msg.Result.ProtocolVersion
	if _, err := h.post(initializedNotification, -1, expect{}, http.StatusAccepted); err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("initialized: %v", err)
	}
	return h, nil
}

// post sends one message with the 2025 session's headers; id < 0 means a notification (no
// answer expected).
func (h *httpConn) post(body []byte, id int, want expect, status int) (rpcMessage, error) {
	header := http.Header{}
	header.Set("Accept", "application/json, text/event-stream")
	header.Set("Content-Type", "application/json")
	if h.session != "" {
		header.Set("Mcp-Session-Id", h.session)
	}
	if h.version != "" {
		header.Set("MCP-Protocol-Version", h.version)
	}
	if h.o.token != "" {
		header.Set("Authorization", "Bearer "+h.o.token)
	}
	return h.send(body, header, id, want, status)
}

// send POSTs body with these headers and checks the answer.
func (h *httpConn) send(body []byte, header http.Header, id int, want expect, status int) (rpcMessage, error) {
	var msg rpcMessage
	req, err := http.NewRequest(http.MethodPost, h.o.url, bytes.NewReader(body))
	if err != nil {
		return msg, err
	}
	req.Header = header
	resp, err := h.client.Do(req)
	if err != nil {
		return msg, fmt.Errorf("POST: %v", err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return msg, fmt.Errorf("read body: %v", err)
	}
	if resp.StatusCode != status {
		return msg, fmt.Errorf("HTTP %d, want %d: %q", resp.StatusCode, status, clip(data))
	}
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		h.session = sid
	}
	if id < 0 {
		return msg, nil
	}
	ctype := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ctype, "text/event-stream") {
		for _, event := range sseData(data) {
			m, notification, err := checkAnswer(event, id, want)
			if notification {
				continue
			}
			return m, err
		}
		return msg, fmt.Errorf("SSE stream ended without the answer: %q", clip(data))
	}
	if !strings.HasPrefix(ctype, "application/json") {
		return msg, fmt.Errorf("content type %q", ctype)
	}
	msg, _, err = checkAnswer(data, id, want)
	return msg, err
}

// sseData returns the data of each event in an SSE body (events with no data are skipped).
func sseData(body []byte) [][]byte {
	var events [][]byte
	var cur []byte
	has := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	flush := func() {
		if has && len(bytes.TrimSpace(cur)) > 0 {
			events = append(events, cur)
		}
		cur, has = nil, false
	}
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		switch {
		case len(line) == 0:
			flush()
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if has {
				cur = append(cur, '\n')
			}
			cur = append(cur, v...)
			has = true
		}
	}
	flush()
	return events
}

func (h *httpConn) call(id int) error {
	var err error
	if h.callHeader != nil { // 2026: a stateless POST
		_, err = h.send(h.calls.request(id), h.callHeader, id, expect{call: true, complete: true}, http.StatusOK)
	} else {
		_, err = h.post(h.calls.request(id), id, expect{call: true}, http.StatusOK)
	}
	return err
}

func (h *httpConn) close() {
	if h.session != "" {
		req, _ := http.NewRequest(http.MethodDelete, h.o.url, nil)
		req.Header.Set("Mcp-Session-Id", h.session)
		if h.version != "" {
			req.Header.Set("MCP-Protocol-Version", h.version)
		}
		if h.o.token != "" {
			req.Header.Set("Authorization", "Bearer "+h.o.token)
		}
		if resp, err := h.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	h.transport.CloseIdleConnections()
}

// ---------------------------------------------------------------- load run

type errorLog struct {
	mu      sync.Mutex
	count   int64
	samples []string
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
	if len(e.samples) < 5 {
		e.samples = append(e.samples, err.Error())
	}
}

type loadResult struct {
	Label        string   `json:"label,omitempty"`
	Transport    string   `json:"transport"`
	Mode         string   `json:"mode"`
	Era          string   `json:"era"`
	Conns        int      `json:"conns"`
	WarmupS      float64  `json:"warmup_s"`
	DurationS    float64  `json:"duration_s"`
	Calls        int      `json:"calls"`
	Rate         float64  `json:"rate"`
	P50Ms        float64  `json:"p50_ms"`
	P99Ms        float64  `json:"p99_ms"`
	MaxMs        float64  `json:"max_ms"`
	Errors       int64    `json:"errors"`
	SetupErrors  int64    `json:"setup_errors"`
	Reconnects   int64    `json:"reconnects"`
	ErrorSamples []string `json:"error_samples"`
	// CPU time (user+system, all threads) the server used during the measured window.
	ServerCPUS         float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPct       float64 `json:"server_cpu_pct,omitempty"`
	ServerCPUUsPerCall float64 `json:"server_cpu_us_per_call,omitempty"`
	// CPU time of this load generator over the same window (100% = one CPU: it is pinned to one,
	// so near 100% it, not the server, bounds the rate).
	ClientCPUPct float64 `json:"client_cpu_pct"`
}

// cpuTicks returns utime+stime of a process, in clock ticks (USER_HZ, 100 on Linux).
func cpuTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after the last ')' are fixed.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return utime + stime, nil
}

// treeTicks returns cpuTicks of a process and of its living children (a server of several
// processes on one port: the parent supervises, the children serve).
func treeTicks(pid int) (int64, error) {
	total, err := cpuTicks(pid)
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return total, nil
	}
	for _, field := range strings.Fields(string(data)) {
		child, err := strconv.Atoi(field)
		if err != nil {
			continue
		}
		if ticks, err := cpuTicks(child); err == nil {
			total += ticks
		}
	}
	return total, nil
}

const userHZ = 100

func runLoad(o options, factory connFactory) error {
	transport := "websocket"
	if strings.HasPrefix(o.url, "http") {
		transport = "streamable_http"
	}
	var errs errorLog
	var setupErrors, reconnects atomic.Int64

	// Open and handshake every connection first, so the clock starts with all of them ready.
	conns := make([]conn, o.conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := factory(o)
			if err != nil {
				setupErrors.Add(1)
				errs.add(fmt.Errorf("setup: %v", err))
				return
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()

	start := time.Now()
	from := start.Add(o.warmup)
	to := from.Add(o.duration)
	cpuDone := make(chan int64, 1)
	clientDone := make(chan int64, 1)
	go func() {
		time.Sleep(time.Until(from))
		s0, err0 := treeTicks(o.serverPID)
		c0, _ := cpuTicks(os.Getpid())
		time.Sleep(time.Until(to))
		s1, err1 := treeTicks(o.serverPID)
		c1, _ := cpuTicks(os.Getpid())
		clientDone <- c1 - c0
		if o.serverPID <= 0 || err0 != nil || err1 != nil {
			cpuDone <- -1
			return
		}
		cpuDone <- s1 - s0
	}()
	latencies := make([][]time.Duration, o.conns)
	for i := range conns {
		if conns[i] == nil {
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := conns[i]
			lat := make([]time.Duration, 0, 1<<16)
			id := 1
			for {
				sent := time.Now()
				if !sent.Before(to) {
					break
				}
				err := c.call(id)
				done := time.Now()
				id++
				if err != nil {
					errs.add(err) // counted wherever it happens: warm-up, window or the last call
					c.close()
					// A 2026 HTTP "connection" re-opens without touching the server: pause, so a
					// server that is gone does not turn this loop into a spin.
					time.Sleep(10 * time.Millisecond)
					// Re-open the connection and carry on, so one failure does not end the run.
					for time.Now().Before(to) {
						nc, err := factory(o)
						if err == nil {
							c = nc
							reconnects.Add(1)
							break
						}
						errs.add(fmt.Errorf("reconnect: %v", err))
						time.Sleep(100 * time.Millisecond)
					}
					continue
				}
				if !sent.Before(from) && !done.After(to) {
					lat = append(lat, done.Sub(sent))
				}
			}
			conns[i] = c
			latencies[i] = lat
		}(i)
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.close()
		}
	}

	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 { return percentile(all, p) }
	res := loadResult{
		Label: o.label, Transport: transport, Mode: o.mode, Era: o.era, Conns: o.conns,
		WarmupS: o.warmup.Seconds(), DurationS: o.duration.Seconds(),
		Calls: len(all), Rate: float64(len(all)) / o.duration.Seconds(),
		P50Ms: pct(0.50), P99Ms: pct(0.99), MaxMs: pct(1.0),
		Errors: errs.count, SetupErrors: setupErrors.Load(), Reconnects: reconnects.Load(),
		ErrorSamples: errs.samples,
	}
	res.ClientCPUPct = 100 * float64(<-clientDone) / userHZ / o.duration.Seconds()
	if ticks := <-cpuDone; o.serverPID > 0 {
		if ticks >= 0 {
			res.ServerCPUS = float64(ticks) / userHZ
			res.ServerCPUPct = 100 * res.ServerCPUS / o.duration.Seconds()
			if res.Calls > 0 {
				res.ServerCPUUsPerCall = 1e6 * res.ServerCPUS / float64(res.Calls)
			}
		} else {
			errs.add(fmt.Errorf("cannot read /proc/%d/stat (server gone?)", o.serverPID))
			res.Errors = errs.count
			res.ErrorSamples = errs.samples
		}
	}
	if res.ErrorSamples == nil {
		res.ErrorSamples = []string{}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// ---------------------------------------------------------------- idle sessions

// openIdle opens an idle connection's conversation: 2025, the handshake; 2026, one
// stateless tools/list (a 2026 connection has no handshake, so this is what a client that
// has just connected does).
func openIdle(w *wsConn) error {
	if w.era == "2026" {
		if err := w.roundTrip(listRequest2026, 0, expect{complete: true}); err != nil {
			return fmt.Errorf("tools/list: %v", err)
		}
		return nil
	}
	return handshakeWS(w)
}

func runIdle(o options) error {
	var errs errorLog
	var dropped, closing atomic.Int64
	var stopping atomic.Bool
	conns := make([]*websocket.Conn, o.conns)
	started := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for p := 0; p < o.parallel; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c, err := dialWS(o)
				if err != nil {
					errs.add(err)
					continue
				}
				w := newWS(c, o)
				if err := openIdle(w); err != nil {
					errs.add(err)
					c.Close()
					continue
				}
				conns[i] = c
				// Keep reading so pings are answered; anything but a close at the end is a drop.
				go func() {
					for {
						if _, _, err := c.ReadMessage(); err != nil {
							if !stopping.Load() {
								dropped.Add(1)
								errs.add(fmt.Errorf("idle connection dropped: %v", err))
							} else {
								closing.Add(1)
							}
							return
						}
					}
				}()
			}
		}()
	}
	for i := 0; i < o.conns; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	opened := 0
	for _, c := range conns {
		if c != nil {
			opened++
		}
	}
	enc := json.NewEncoder(os.Stdout)
	_ = enc.Encode(map[string]any{"event": "ready", "label": o.label, "requested": o.conns, "opened": opened,
		"errors": errs.count, "seconds": time.Since(started).Seconds(), "error_samples": errs.samples})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	stopping.Store(true)
	errs.mu.Lock()
	count, samples := errs.count, append([]string{}, errs.samples...)
	errs.mu.Unlock()
	_ = enc.Encode(map[string]any{"event": "done", "label": o.label, "opened": opened, "dropped": dropped.Load(),
		"errors": count, "error_samples": samples})
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return nil
}
