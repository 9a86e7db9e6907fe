package main

// loadgen soak: WebSocket sessions and Streamable HTTP clients calling the tool mix (mix.go) at
// once against one server for a long time. Prints one JSON line per interval to stdout (the
// warm-up as minute 0, then each minute: calls, errors, p50/p99/max per transport, the server's
// RSS and CPU) and a human line per interval to stderr; then one {"event":"done",...} line.
// Judging the figures is left to bench/soak_report.py.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxWSPause is the longest a WebSocket may go without reading (the server's default ping timeout).
const maxWSPause = 30 * time.Second

type soakOptions struct {
	wsURL, httpURL     string
	wsConns, httpConns int
	eras               []string
	warmup, duration   time.Duration
	every              time.Duration
	wsThink, httpThink time.Duration
	reopen             int
	token              string
	parallel           int
	serverPID          int
}

func parseSoak(args []string) (soakOptions, error) {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	var o soakOptions
	var eras string
	fs.StringVar(&o.wsURL, "ws-url", "", "WebSocket URL (ws://HOST:PORT/mcp)")
	fs.StringVar(&o.httpURL, "http-url", "", "Streamable HTTP URL (http://HOST:PORT/mcp)")
	fs.IntVar(&o.wsConns, "ws-conns", 2000, "WebSocket sessions")
	fs.IntVar(&o.httpConns, "http-conns", 50, "HTTP clients")
	fs.StringVar(&eras, "eras", "2025,2026", "protocol eras, given to the connections in turn")
	fs.DurationVar(&o.warmup, "warmup", time.Minute, "warm-up (figures reported as minute 0)")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "measured time after the warm-up")
	fs.DurationVar(&o.every, "interval", time.Minute, "reporting interval")
	fs.DurationVar(&o.wsThink, "ws-think", time.Second, "mean pause of a WebSocket session between calls, uniform in [0.5, 1.5) x this (0: closed loop)")
	fs.DurationVar(&o.httpThink, "http-think", 0, "mean pause of an HTTP client between calls (0: closed loop)")
	fs.IntVar(&o.reopen, "reopen", 100, "a connection closes and opens a new session after this many calls (0: never)")
	fs.StringVar(&o.token, "token", "", "bearer token (empty: no Authorization header)")
	fs.IntVar(&o.parallel, "parallel", 64, "connections opened at once at the start")
	fs.IntVar(&o.serverPID, "server-pid", 0, "the server process: RSS and CPU sampled, its end is an error")
	_ = fs.Parse(args)
	o.eras = strings.Split(eras, ",")
	for _, e := range o.eras {
		if e != "2025" && e != "2026" {
			return o, fmt.Errorf("-eras: %q is not 2025 or 2026", e)
		}
	}
	// A WebSocket here reads only while it waits for an answer, so it answers the server's pings
	// (every MCP_WS_PING_SECONDS, default 30, and as long to answer) only then: pauses must be shorter.
	if o.wsThink*3/2 >= maxWSPause {
		return o, fmt.Errorf("-ws-think %v: pauses up to 1.5 x that would miss the server's pings (-ws-think must be below %v)", o.wsThink, maxWSPause*2/3)
	}
	if o.wsURL == "" || o.httpURL == "" || o.wsConns < 0 || o.httpConns < 0 || o.serverPID <= 0 || o.every <= 0 {
		fs.Usage()
		return o, fmt.Errorf("-ws-url, -http-url and -server-pid are required")
	}
	return o, nil
}

// soakWorker is one connection slot: it re-opens its connection after an error or every -reopen calls.
type soakWorker struct {
	transport string
	opts      options
	factory   connFactory
	think     time.Duration
	mix       *mix
	c         toolCaller
}

func (w *soakWorker) open(rec *recorder) bool {
	c, err := w.factory(w.opts)
	if err != nil {
		rec.fail(w.transport, fmt.Errorf("open (%s): %v", w.opts.era, err))
		return false
	}
	w.c = c.(toolCaller)
	return true
}

func (w *soakWorker) closeConn() {
	if w.c != nil {
		w.c.close()
		w.c = nil
	}
}

// run calls until end; returns the number of sessions re-opened.
func (w *soakWorker) run(rec *recorder, end time.Time, reopen int) (reopens int64) {
	defer w.closeConn()
	id, calls := 1, 0
	if reopen > 0 { // the first new session after 1..reopen calls: sessions opened together do not all
		calls = rand.IntN(reopen) // end together a few minutes later
	}
	w.pause(end) // connections with a think time start spread over it, not all at once
	for time.Now().Before(end) {
		if w.c == nil {
			if !w.open(rec) {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			reopens++
		}
		sent := time.Now()
		name, err := w.mix.call(w.c, id)
		id++
		if err != nil {
			rec.fail(w.transport, fmt.Errorf("%s (%s): %v", name, w.opts.era, err))
			var answered *wrongAnswer
			if !errors.As(err, &answered) { // the connection may be out of step: open a new one
				w.closeConn()
				time.Sleep(10 * time.Millisecond)
			}
			w.pause(end)
			continue
		}
		rec.ok(w.transport, time.Since(sent))
		if calls++; reopen > 0 && calls%reopen == 0 {
			w.closeConn()
		}
		w.pause(end)
	}
	return reopens
}

// pause sleeps a random time in [think/2, 3 think/2), not past end.
func (w *soakWorker) pause(end time.Time) {
	if w.think <= 0 {
		return
	}
	pause := w.think/2 + time.Duration(rand.Int64N(int64(w.think)))
	if left := time.Until(end); pause > left {
		pause = left
	}
	time.Sleep(pause)
}

func soakWorkers(o soakOptions) []*soakWorker {
	var ws []*soakWorker
	add := func(transport, url string, n int, factory connFactory, think time.Duration) {
		for i := 0; i < n; i++ {
			era := o.eras[i%len(o.eras)]
			ws = append(ws, &soakWorker{transport: transport, factory: factory, think: think,
				opts: options{url: url, conns: 1, mode: "mcp", era: era, token: o.token},
				mix:  newMix(len(ws), era)})
		}
	}
	add("ws", o.wsURL, o.wsConns, newWSConn, o.wsThink)
	add("http", o.httpURL, o.httpConns, newHTTPConn, o.httpThink)
	return ws
}

// openAll opens every worker's first connection, o.parallel at a time; returns how many opened.
func openAll(workers []*soakWorker, rec *recorder, parallel int) int {
	jobs := make(chan *soakWorker)
	var opened atomic.Int64
	var wg sync.WaitGroup
	for p := 0; p < parallel; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range jobs {
				if w.open(rec) {
					opened.Add(1)
				}
			}
		}()
	}
	for _, w := range workers {
		jobs <- w
	}
	close(jobs)
	wg.Wait()
	return int(opened.Load())
}

// sampleRSS records the server's RSS every second until stop; gone is set when it cannot be read.
func sampleRSS(pid int, rec *recorder, stop <-chan struct{}, gone *atomic.Bool) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if kib, err := rssKiB(pid); err == nil {
			rec.rss(kib)
		} else if !gone.Swap(true) {
			rec.fail("ws", fmt.Errorf("server process %d: %v", pid, err))
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

type soakDone struct {
	Event      string   `json:"event"` // "done"
	WSConns    int      `json:"ws_conns"`
	HTTPConns  int      `json:"http_conns"`
	Eras       []string `json:"eras"`
	Opened     int      `json:"opened"`
	Reopens    int64    `json:"reopens"`
	Stuck      int64    `json:"stuck"` // connections still in a call a minute after the end
	ServerGone bool     `json:"server_gone"`
	Seconds    float64  `json:"seconds"`
}

func runSoak(args []string) error {
	o, err := parseSoak(args)
	if err != nil {
		return err
	}
	transports := []string{"ws", "http"}
	rec := newRecorder(transports...)
	workers := soakWorkers(o)
	started := time.Now()
	opened := openAll(workers, rec, o.parallel)
	fmt.Fprintf(os.Stderr, "soak: %d of %d connections opened in %.1f s\n", opened, len(workers), time.Since(started).Seconds())

	var gone atomic.Bool
	stopRSS := make(chan struct{})
	go sampleRSS(o.serverPID, rec, stopRSS, &gone)
	start := time.Now()
	end := start.Add(o.warmup + o.duration)
	var wg sync.WaitGroup
	var reopens, running atomic.Int64
	for _, w := range workers {
		wg.Add(1)
		running.Add(1)
		go func(w *soakWorker) {
			defer wg.Done()
			defer running.Add(-1)
			reopens.Add(w.run(rec, end, o.reopen))
		}(w)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	enc := json.NewEncoder(os.Stdout)
	boundaries := []time.Time{start.Add(o.warmup)}
	for b := start.Add(o.warmup + o.every); b.Before(end); b = b.Add(o.every) {
		boundaries = append(boundaries, b)
	}
	boundaries = append(boundaries, end)
	from := start
	_, cpu := ticksSince(o.serverPID, 0)
	for minute, b := range boundaries {
		time.Sleep(time.Until(b))
		if minute == len(boundaries)-1 { // the last interval ends when the calls in flight have ended
			close(stopRSS)
			select {
			case <-finished:
			case <-time.After(2 * callTimeout):
			}
		}
		var used int64
		used, cpu = ticksSince(o.serverPID, cpu)
		f := rec.swap().figures(minute, time.Since(from).Seconds(), used)
		from = time.Now()
		fmt.Fprintln(os.Stderr, f.line(transports))
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return enc.Encode(soakDone{Event: "done", WSConns: o.wsConns, HTTPConns: o.httpConns, Eras: o.eras,
		Opened: opened, Reopens: reopens.Load(), Stuck: running.Load(), ServerGone: gone.Load(),
		Seconds: time.Since(start).Seconds()})
}

// ticksSince is the CPU ticks the process used since prev (ticks so far), and ticks so far; 0 used
// when the process cannot be read (sampleRSS reports that).
func ticksSince(pid int, prev int64) (used, now int64) {
	now, err := cpuTicks(pid)
	if err != nil {
		return 0, prev
	}
	return now - prev, now
}
