package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the harness reads the delivery log of its own PostgreSQL
	"github.com/redis/go-redis/v9"
)

// freePort is a loopback port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitUntil polls cond every 50 ms until it holds or timeout passes.
func waitUntil(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postgres is the harness's own PostgreSQL: a cluster in a temporary
// directory, on a free loopback port, never the shared one on 5432.
type postgres struct {
	bin  string // the directory of initdb and postgres
	dir  string
	port int
	cred *syscall.Credential // the user postgres runs as when we are root
	log  *os.File

	mu  sync.Mutex
	cmd *exec.Cmd
	dbs *sql.DB // the maintenance connection, to create databases
}

// postgresBin finds the newest PostgreSQL server binaries installed.
func postgresBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("postgres: no initdb found (looked in PATH and /usr/lib/postgresql/*/bin)")
}

func startPostgres(ctx context.Context, tmp string) (*postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	p := &postgres{bin: bin, dir: filepath.Join(tmp, "pg")}
	if p.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("postgres: running as root needs a user postgres to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(p.dir, uid, gid); err != nil {
			return nil, err
		}
		if err := os.Chmod(tmp, 0o755); err != nil {
			return nil, err
		}
	}
	if p.log, err = os.Create(filepath.Join(tmp, "postgres.log")); err != nil {
		return nil, err
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(p.dir, "data"), "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	initdb.Stdout, initdb.Stderr = p.log, p.log
	if err := initdb.Run(); err != nil {
		return nil, fmt.Errorf("postgres: initdb: %w (see %s)", err, p.log.Name())
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Start runs the server and waits until it accepts connections.
func (p *postgres) Start(ctx context.Context) error {
	cmd := niced(filepath.Join(p.bin, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.port),
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=400", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=256MB")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgres: start: %w", err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	db, err := sql.Open("postgres", p.URL("postgres"))
	if err != nil {
		return err
	}
	if !waitUntil(ctx, 60*time.Second, func() bool { return db.PingContext(ctx) == nil }) {
		db.Close()
		return fmt.Errorf("postgres: not accepting connections on port %d (see %s)", p.port, p.log.Name())
	}
	if p.dbs != nil {
		p.dbs.Close()
	}
	p.dbs = db
	return nil
}

// Stop shuts the server down fast (SIGINT): connections are cut, as when
// PostgreSQL goes away under duban.
func (p *postgres) Stop() {
	p.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// URL is the connection URL of database db.
func (p *postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// CreateDB makes a fresh database for one scenario.
func (p *postgres) CreateDB(ctx context.Context, name string) (string, error) {
	if _, err := p.dbs.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("postgres: drop %s: %w", name, err)
	}
	if _, err := p.dbs.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("postgres: create %s: %w", name, err)
	}
	return p.URL(name), nil
}

func (p *postgres) Close() {
	if p.dbs != nil {
		p.dbs.Close()
	}
	p.Stop()
	if p.log != nil {
		p.log.Close()
	}
}

// redisServer is the harness's own Redis, without persistence, on a free
// loopback port, never the shared one on 6379.
type redisServer struct {
	port int
	log  *os.File
	mu   sync.Mutex
	cmd  *exec.Cmd
}

func startRedis(ctx context.Context, tmp string) (*redisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	r := &redisServer{}
	var err error
	if r.port, err = freePort(); err != nil {
		return nil, err
	}
	if r.log, err = os.Create(filepath.Join(tmp, "redis.log")); err != nil {
		return nil, err
	}
	return r, r.Start(ctx)
}

// Start runs the server, empty, and waits until it answers.
func (r *redisServer) Start(ctx context.Context) error {
	cmd := niced("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--protected-mode", "no")
	cmd.Stdout, cmd.Stderr = r.log, r.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redis: start: %w", err)
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	c := r.Client()
	defer c.Close()
	if !waitUntil(ctx, 30*time.Second, func() bool { return c.Ping(ctx).Err() == nil }) {
		return fmt.Errorf("redis: not answering on port %d", r.port)
	}
	return nil
}

// Stop ends the server (its data is gone: there is no persistence).
func (r *redisServer) Stop() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func (r *redisServer) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }
func (r *redisServer) URL() string  { return "redis://" + r.Addr() + "/0" }
func (r *redisServer) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr(), DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
}

// Flush empties Redis, as an operator's FLUSHALL or a failover to an empty
// replica does.
func (r *redisServer) Flush(ctx context.Context) error {
	c := r.Client()
	defer c.Close()
	return c.FlushAll(ctx).Err()
}

func (r *redisServer) Close() {
	r.Stop()
	if r.log != nil {
		r.log.Close()
	}
}

// buildDuban builds the duban binary once, into dir.
func buildDuban(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "duban")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/duban")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/duban: %w\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run dubanload inside the duban module")
	}
	return filepath.Dir(mod), nil
}

// replica is one `duban serve` process.
type replica struct {
	name string
	bin  string
	env  []string
	addr string
	logf string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// URL is the replica's base URL.
func (r *replica) URL() string { return "http://" + r.addr }

// Start runs the process and waits until /healthz answers.
func (r *replica) Start(ctx context.Context) error {
	f, err := os.OpenFile(r.logf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.starts++
	fmt.Fprintf(f, "---- start %d of %s at %s\n", r.starts, r.name, time.Now().Format(time.RFC3339Nano))
	r.mu.Unlock()
	cmd := niced(r.bin, "serve")
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("%s: start: %w", r.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	ok := waitUntil(ctx, 90*time.Second, func() bool {
		select {
		case <-exited:
			return true
		default:
		}
		resp, err := http.Get(r.URL() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-exited:
		return fmt.Errorf("%s exited at start-up; last lines of %s:\n%s", r.name, r.logf, tail(r.logf, 15))
	default:
	}
	if !ok {
		return fmt.Errorf("%s: /healthz not answering (see %s)", r.name, r.logf)
	}
	return nil
}

// Kill ends the process with SIGKILL: no drain, no release of anything.
func (r *replica) Kill() { r.signal(syscall.SIGKILL) }

// Stop ends the process as an operator does (SIGTERM), waiting for its drain.
func (r *replica) Stop() { r.signal(syscall.SIGTERM) }

func (r *replica) signal(sig syscall.Signal) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Running reports whether the process is up.
func (r *replica) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return false
	}
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// Pid is the process id of the replica, 0 when it is not running.
func (r *replica) Pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// LogContains counts the lines of the replica's log holding s.
func (r *replica) LogContains(s string) int {
	f, err := os.Open(r.logf)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// niced is exec.Command run at a lower CPU priority (nice 5) than the
// harness. The fakes in the harness stand for Telegram's and Slack's own
// machines, and they time each message's arrival for the providers'
// limits: on a machine of two cores shared with the system under test, a
// fake waiting for the CPU would stamp messages late and bunched, a
// jitter no real provider's clock adds. The children are niced, not the
// harness raised, so that no root is needed; exec replaces nice, so a
// child's pid is the command's own and signals reach it.
func niced(name string, args ...string) *exec.Cmd {
	nice, err := exec.LookPath("nice")
	if err != nil {
		return exec.Command(name, args...)
	}
	return exec.Command(nice, append([]string{"-n", "5", name}, args...)...)
}
