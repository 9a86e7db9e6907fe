package main

// The soak's per-minute figures: calls, errors and latency per transport, the server's RSS and CPU.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

// percentile of sorted latencies, in ms (p in 0..1; 0 when there are none).
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(p*float64(len(sorted)-1))]) / float64(time.Millisecond)
}

// rssKiB reads VmRSS of a process from /proc.
func rssKiB(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmRSS:" {
			return strconv.ParseInt(string(f[1]), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

type transportStats struct {
	lat  []time.Duration
	errs errorLog
}

// interval collects one reporting interval (the warm-up, then each minute).
type interval struct {
	transports map[string]*transportStats
	rss        []int64 // KiB, one sample a second
}

func newInterval(transports []string) *interval {
	iv := &interval{transports: map[string]*transportStats{}}
	for _, t := range transports {
		iv.transports[t] = &transportStats{}
	}
	return iv
}

// recorder is shared by every connection; calls count in the interval they complete in.
type recorder struct {
	mu         sync.Mutex
	transports []string
	cur        *interval
}

func newRecorder(transports ...string) *recorder {
	return &recorder{transports: transports, cur: newInterval(transports)}
}

func (r *recorder) ok(transport string, d time.Duration) {
	r.mu.Lock()
	r.cur.transports[transport].lat = append(r.cur.transports[transport].lat, d)
	r.mu.Unlock()
}

func (r *recorder) fail(transport string, err error) {
	r.mu.Lock()
	r.cur.transports[transport].errs.add(err)
	r.mu.Unlock()
}

func (r *recorder) rss(kib int64) {
	r.mu.Lock()
	r.cur.rss = append(r.cur.rss, kib)
	r.mu.Unlock()
}

// swap ends the current interval and returns it.
func (r *recorder) swap() *interval {
	r.mu.Lock()
	defer r.mu.Unlock()
	iv := r.cur
	r.cur = newInterval(r.transports)
	return iv
}

type transportFigures struct {
	Calls        int      `json:"calls"`
	Errors       int64    `json:"errors"`
	P50Ms        float64  `json:"p50_ms"`
	P99Ms        float64  `json:"p99_ms"`
	MaxMs        float64  `json:"max_ms"`
	ErrorSamples []string `json:"error_samples"`
}

type intervalFigures struct {
	Event        string                      `json:"event"`  // "minute"
	Minute       int                         `json:"minute"` // 0: the warm-up
	Seconds      float64                     `json:"seconds"`
	Transports   map[string]transportFigures `json:"transports"`
	RSSKiB       int64                       `json:"rss_kib"` // median of the samples
	RSSMaxKiB    int64                       `json:"rss_max_kib"`
	RSSSamples   int                         `json:"rss_samples"`
	ServerCPUPct float64                     `json:"server_cpu_pct"`
}

func (iv *interval) figures(minute int, seconds float64, cpuTicks int64) intervalFigures {
	f := intervalFigures{Event: "minute", Minute: minute, Seconds: seconds, Transports: map[string]transportFigures{},
		RSSSamples: len(iv.rss), ServerCPUPct: 100 * float64(cpuTicks) / userHZ / seconds}
	for name, t := range iv.transports {
		sort.Slice(t.lat, func(a, b int) bool { return t.lat[a] < t.lat[b] })
		samples := t.errs.samples
		if samples == nil {
			samples = []string{}
		}
		f.Transports[name] = transportFigures{Calls: len(t.lat), Errors: t.errs.count,
			P50Ms: percentile(t.lat, 0.50), P99Ms: percentile(t.lat, 0.99), MaxMs: percentile(t.lat, 1.0),
			ErrorSamples: samples}
	}
	if len(iv.rss) > 0 {
		sort.Slice(iv.rss, func(a, b int) bool { return iv.rss[a] < iv.rss[b] })
		f.RSSKiB, f.RSSMaxKiB = iv.rss[len(iv.rss)/2], iv.rss[len(iv.rss)-1]
	}
	return f
}

// line is the human-readable form printed as the soak goes.
func (f intervalFigures) line(transports []string) string {
	name := fmt.Sprintf("minute %d", f.Minute)
	if f.Minute == 0 {
		name = "warm-up"
	}
	s := fmt.Sprintf("%-9s", name)
	for _, t := range transports {
		x := f.Transports[t]
		s += fmt.Sprintf(" | %s %7d calls %3d errors p99 %7.1f ms", t, x.Calls, x.Errors, x.P99Ms)
	}
	return s + fmt.Sprintf(" | RSS %.1f MiB | server CPU %.0f%%", float64(f.RSSKiB)/1024, f.ServerCPUPct)
}
