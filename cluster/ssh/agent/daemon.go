package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chaos-testing/chaos/sysclock"
)

// Files of the agent in its folder (a node's folder on the host). The
// socket's path is relative: the daemon and the session run in the
// folder, so that a long folder name never meets the 108-byte limit of a
// socket's path.
const (
	SocketFile  = "agent.sock"
	LockFile    = "agent.lock"
	PidFile     = "agent.pid"
	JournalFile = "agent.jsonl"
	LogFile     = "agent.log"
)

// NoSystemClockEnv, set to anything in the agent's environment, leaves
// it without the host's real clock: a host marked clock: system then gets
// errors, and nothing a previous daemon journaled is stepped back. The
// test hosts (internal/sshhosts) set it: they are network namespaces of
// the machine that runs the tests, whose clock is never to be set.
const NoSystemClockEnv = "CHAOS_AGENT_NO_SYSTEM_CLOCK"

// Main runs the agent program with args (without the program's name) and
// returns its exit status:
//
//	chaos-agent session DIR NODE LEASE   connect to DIR's daemon (starting it if none runs) and relay stdin/stdout to it
//	chaos-agent daemon DIR NODE LEASE    the daemon itself (session starts it)
//	chaos-agent version                  print the protocol version
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "version" {
		fmt.Fprintln(stdout, Version)
		return 0
	}
	if len(args) != 4 || (args[0] != "session" && args[0] != "daemon") {
		fmt.Fprintln(stderr, "usage: chaos-agent session|daemon DIR NODE LEASE | version")
		return 2
	}
	dir, node := args[1], args[2]
	lease, err := time.ParseDuration(args[3])
	if err != nil || lease <= 0 {
		fmt.Fprintf(stderr, "chaos-agent: bad lease %q\n", args[3])
		return 2
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintf(stderr, "chaos-agent: %v\n", err)
		return 1
	}
	if args[0] == "session" {
		if err := session(args, stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "chaos-agent session: %v\n", err)
			return 1
		}
		return 0
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("pid", os.Getpid())
	if err := daemon(dir, node, lease, log); err != nil {
		log.Error("chaos-agent daemon", "err", err)
		return 1
	}
	return 0
}

// session connects to the folder's daemon, starting one if none answers,
// and copies stdin to it and its answers to stdout until either side
// ends.
func session(args []string, stdin io.Reader, stdout io.Writer) error {
	conn, err := dialOrStart(args)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		_, _ = io.Copy(conn, stdin)
		_ = conn.(*net.UnixConn).CloseWrite()
	}()
	_, err = io.Copy(stdout, conn)
	return err
}

func dialOrStart(args []string) (net.Conn, error) {
	c, err := net.Dial("unix", SocketFile)
	if err == nil {
		return c, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(self, append([]string{"daemon"}, args[1:]...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// A session of its own: it outlives this SSH session, and a lost
	// connection's hangup never reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", SocketFile)
		if err == nil {
			return c, nil
		}
		select {
		case werr := <-exited:
			// Another session's daemon may have won the lock: try it.
			if c, err := net.Dial("unix", SocketFile); err == nil {
				return c, nil
			}
			return nil, fmt.Errorf("the daemon exited (%v) before it listened (see %s)", werr, LogFile)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no daemon listening at %s 10s after starting one: %w", SocketFile, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// daemon is the agent: it holds the folder's lock, listens on the socket,
// serves every connection, and heals and exits when its lease lapses, when
// it is shut down, or on SIGTERM.
func daemon(dir, node string, lease time.Duration, log *slog.Logger) error {
	syscall.Umask(0o077)
	lf, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			log.Info("another daemon holds the folder; leaving it")
			return nil
		}
		return fmt.Errorf("lock %s: %w", LockFile, err)
	}
	_ = os.Remove(SocketFile)
	ln, err := net.Listen("unix", SocketFile)
	if err != nil {
		return err
	}
	defer os.Remove(SocketFile)
	st, err := startTime(os.Getpid())
	if err != nil {
		return err
	}
	if err := os.WriteFile(PidFile, fmt.Appendf(nil, "%d %s\n", os.Getpid(), st), 0o600); err != nil {
		return err
	}
	defer os.Remove(PidFile)
	// The real system clock is used only on a host whose hello says it is
	// marked clock: system, or to restore what a previous daemon of this
	// folder journaled (Recover); never where NoSystemClockEnv is set.
	cfg := Config{Lease: lease, Journal: JournalFile, NetNS: "/proc/self/ns/net", Node: node,
		NewFaults: NetfaultExecutor(log), Procs: ServerProcs{PidFile: "server.pid"}, Log: log}
	if os.Getenv(NoSystemClockEnv) == "" {
		cfg.SystemClock, cfg.TimeSync = sysclock.System{}, sysclock.Services{Run: sysclock.Exec{}}
	}
	s, err := NewServer(cfg)
	if err != nil {
		return err
	}
	log.Info("chaos-agent daemon started", "dir", dir, "node", node, "lease", lease)
	ctx := context.Background()
	if err := s.Recover(ctx); err != nil {
		log.Error("chaos-agent: restoring what a previous daemon left", "err", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := s.Serve(ctx, c); err != nil {
					log.Warn("connection", "err", err)
				}
			}()
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(min(max(lease/20, 20*time.Millisecond), 500*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.Tick(ctx)
		case g := <-sig:
			s.Stop(ctx, "stopped by signal "+g.String())
		case <-s.Done():
			ln.Close()
			// Let answers in flight (a shutdown's) go out.
			time.Sleep(100 * time.Millisecond)
			log.Info("chaos-agent daemon done", "why", s.Why())
			return nil
		}
	}
}

// startTime is a process's start time in clock ticks after boot (field 22
// of /proc/PID/stat), as the runtime's pid files record it.
func startTime(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	return f[19], nil
}
