// Command dubanload is duban's load and fault harness (docs/RELIABILITY.md).
// It builds `duban serve` once and runs it as child processes against a
// PostgreSQL and a Redis of its own, on free loopback ports, and against
// the fakes of Telegram and Slack in internal/fakes (which enforce the
// providers' limits and count every message they accept). Then it breaks
// things on purpose — bursts, SIGKILL, a flushed or stopped Redis, a
// stopped database, provider faults, several replicas — and ends each
// scenario with the messages lost and repeated. It exits non-zero when a
// message was lost or repeated beyond what the scenario allows.
//
//	go run ./cmd/dubanload --short          # the CI version, a few minutes
//	go run ./cmd/dubanload                  # the full scenarios
//	go run ./cmd/dubanload --only 1,4 --seed 7
//	go run ./cmd/dubanload --memory         # resident memory of serve at scale
//
// It is a command of its own so that the fakes stay out of the production
// binary.
package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() { os.Exit(run()) }

// result is what one scenario found.
type result struct {
	Name     string
	Lost     int
	Repeated int
	Allowed  int // repeats the scenario allows (sends in flight at a kill, dropped connections)
	Duration time.Duration
	Info     []string // timings and counts, for the record; never asserted
	Failures []string // why the scenario failed, one line each
}

func (r *result) info(format string, args ...any) {
	r.Info = append(r.Info, fmt.Sprintf(format, args...))
}
func (r *result) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// check fails the result unless cond, with the message.
func (r *result) check(cond bool, format string, args ...any) {
	if !cond {
		r.fail(format, args...)
	}
}

func (r *result) ok() bool {
	return len(r.Failures) == 0 && r.Lost == 0 && r.Repeated <= r.Allowed
}

// harness is what every scenario shares: the binary, PostgreSQL, Redis,
// the seed and the sizes.
type harness struct {
	root   string
	tmp    string
	bin    string
	pg     *postgres
	redis  *redisServer
	seed   uint64
	rnd    *rand.Rand
	short  bool
	token  string // the bootstrap admin token of every replica
	failed bool   // keep the logs
}

type scenario struct {
	n    int
	name string
	run  func(ctx context.Context, h *harness, r *result) error
}

var scenarios = []scenario{
	{1, "burst: reminders due in the same minute", burst},
	{2, "SIGKILL during updates and reminders", kills},
	{3, "Redis flushed, Redis stopped, reconcile", redisFaults},
	{4, "PostgreSQL stopped", databaseStop},
	{5, "provider faults", providerFaults},
	{6, "replicas on one database and Redis", replicas},
}

// memoryMode is not a scenario of the fault harness but a measurement,
// run only by --memory (alone): it seeds a million complaints first.
var memoryMode = scenario{7, "resident memory of serve at scale", memory}

func run() int {
	short := flag.Bool("short", false, "the small version of every scenario (CI)")
	seedFlag := flag.Uint64("seed", 0, "seed of every random choice; 0 picks one (printed)")
	only := flag.String("only", "", "comma-separated scenario numbers to run (default all)")
	keep := flag.Bool("keep", false, "keep the temporary directory (logs of every process)")
	mem := flag.Bool("memory", false, "instead of the scenarios, measure the resident memory of serve on 1,000,000 complaints "+
		"and 100,000 pending reminders (with --short: a tenth of each)")
	flag.Parse()

	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) % 1_000_000
	}
	fmt.Printf("dubanload: seed %d (rerun with --seed %d)\n", seed, seed)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	chosen := map[int]bool{}
	for _, s := range strings.Split(*only, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			chosen[n] = true
		}
	}

	h, err := setUp(ctx, seed, *short)
	if h != nil {
		defer func() {
			h.close()
			if *keep || h.failed {
				fmt.Printf("dubanload: logs kept in %s\n", h.tmp)
			} else {
				os.RemoveAll(h.tmp)
			}
		}()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dubanload:", err)
		return 2
	}

	var results []*result
	list := scenarios
	if *mem {
		list = []scenario{memoryMode}
	}
	for _, sc := range list {
		if !*mem && len(chosen) > 0 && !chosen[sc.n] {
			continue
		}
		r := &result{Name: fmt.Sprintf("%d. %s", sc.n, sc.name)}
		fmt.Printf("\n== %s%s\n", r.Name, map[bool]string{true: " (short)"}[h.short])
		start := time.Now()
		if err := sc.run(ctx, h, r); err != nil {
			r.fail("harness: %v", err)
		}
		r.Duration = time.Since(start)
		report(r)
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}

	fmt.Printf("\n== summary (seed %d)\n", seed)
	code := 0
	for _, r := range results {
		status := "ok"
		if !r.ok() {
			status, code, h.failed = "FAIL", 1, true
		}
		fmt.Printf("%-4s %-48s lost %d, repeated %d (allowed %d), %s\n", status, r.Name, r.Lost, r.Repeated, r.Allowed, r.Duration.Round(time.Second))
	}
	return code
}

func report(r *result) {
	for _, s := range r.Info {
		fmt.Printf("   %s\n", s)
	}
	fmt.Printf("   lost %d, repeated %d (allowed %d)\n", r.Lost, r.Repeated, r.Allowed)
	if r.Repeated > r.Allowed {
		fmt.Printf("   FAIL: %d repeats beyond the %d allowed\n", r.Repeated, r.Allowed)
	}
	for _, f := range r.Failures {
		fmt.Printf("   FAIL: %s\n", f)
	}
}

func setUp(ctx context.Context, seed uint64, short bool) (*harness, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "dubanload-")
	if err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	_, _ = crand.Read(b)
	h := &harness{root: root, tmp: tmp, seed: seed, rnd: rand.New(rand.NewPCG(seed, seed+1)), short: short, token: hex.EncodeToString(b)}
	start := time.Now()
	if h.bin, err = buildDuban(ctx, root, tmp); err != nil {
		return h, err
	}
	if h.pg, err = startPostgres(ctx, tmp); err != nil {
		return h, err
	}
	if h.redis, err = startRedis(ctx, tmp); err != nil {
		return h, err
	}
	fmt.Printf("dubanload: duban built, PostgreSQL on 127.0.0.1:%d, Redis on %s, in %s (%s)\n",
		h.pg.port, h.redis.Addr(), time.Since(start).Round(time.Millisecond), filepath.Base(tmp))
	return h, nil
}

func (h *harness) close() {
	if h.redis != nil {
		h.redis.Close()
	}
	if h.pg != nil {
		h.pg.Close()
	}
}

// size picks the short or the full figure.
func (h *harness) size(short, full int) int {
	if h.short {
		return short
	}
	return full
}

func (h *harness) dur(short, full time.Duration) time.Duration {
	if h.short {
		return short
	}
	return full
}
