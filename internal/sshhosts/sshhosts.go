// Package sshhosts makes real SSH hosts on this machine for tests: each
// host is a network namespace of its own (ip netns) with an address on a
// private switch (a bridge in one more namespace, joined by veth pairs,
// the controller's end among them) and a real OpenSSH server (Debian's
// openssh-server) listening only there. A test reaches a host only
// through SSH, as it would a machine of its own. Root's home there is an
// empty folder of the test's (the hosts' own /etc/passwd), so that this
// machine's startup files do not run for every command. Everything is
// removed when the test ends. It needs root, ip and /usr/sbin/sshd.
package sshhosts

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHD is where Debian's openssh-server puts the server.
const SSHD = "/usr/sbin/sshd"

// Host is one test host.
type Host struct {
	// Name is the host's label (h1, h2, ...); NS its network namespace.
	Name, NS string
	// Addr is its address on the switch; sshd listens on port 22 there.
	Addr netip.Addr
	// Dir is a working directory made for it (with characters a shell
	// would read as syntax in its name), owned by root.
	Dir string
	// HostKey is its sshd's host key.
	HostKey ssh.Signer
	sshd    *exec.Cmd
}

// Hosts are test hosts and what logs in to them.
type Hosts struct {
	List []*Host
	// Controller is this machine's address on the switch.
	Controller netip.Addr
	// KeyFile is an unencrypted private key that root on every host
	// accepts; Key is the same key.
	KeyFile string
	Key     ssh.Signer
	// KnownHosts is a known_hosts file with every host's key.
	KnownHosts string
	// User is the login the key is for: root, or Options.SudoUser.
	User string
	// Spare is an address on the switch where no host listens.
	Spare netip.Addr
	tmp   string
}

// NoSystemClockEnv is the variable (cluster/ssh/agent's
// NoSystemClockEnv) that every SSH session on the hosts gets, and sudo
// keeps: an agent started there never has the real clock, which here is
// this machine's.
const NoSystemClockEnv = "CHAOS_AGENT_NO_SYSTEM_CLOCK"

// Available says why hosts cannot be made here, or "" if they can.
func Available() string {
	if os.Geteuid() != 0 {
		return "needs root (network namespaces)"
	}
	if _, err := os.Stat(SSHD); err != nil {
		return "needs Debian's openssh-server (" + SSHD + "): apt-get install -y openssh-server"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "needs ip (iproute2)"
	}
	return ""
}

// Options change how hosts are made.
type Options struct {
	// SudoUser, if set, is a user that is not root, added on every host
	// with passwordless sudo: the key logs in as it too. The user exists
	// only for the hosts' sshd and what it starts (their own /etc/passwd,
	// /etc/shadow, /etc/group and /etc/sudoers.d, which ip netns exec
	// mounts over /etc from /etc/netns/<namespace>/); this machine's /etc
	// is untouched. It needs Debian's sudo (/usr/bin/sudo). Its login
	// shell is bash, whose .bashrc writes a line to stderr, as a noisy
	// host's would.
	SudoUser string
}

// New makes n hosts for t and removes them when t ends. The caller has
// checked Available.
func New(t testing.TB, n int) *Hosts { return NewWith(t, n, Options{}) }

// NewWith makes n hosts as opts say (see New).
func NewWith(t testing.TB, n int, opts Options) *Hosts {
	t.Helper()
	began := time.Now()
	var id [3]byte
	_, _ = rand.Read(id[:])
	tag := hex.EncodeToString(id[:])
	// A /24 of 10.214.0.0/16 that no interface here uses.
	prefix := freePrefix(t)
	hs := &Hosts{tmp: t.TempDir(), Controller: prefix.Addr().Next(), Spare: addrAt(prefix, 250), User: cmp.Or(opts.SudoUser, "root")}
	sw := "chsw-" + tag
	run(t, "ip", "netns", "add", sw)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", sw).Run() })
	run(t, "ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	run(t, "ip", "-n", sw, "link", "set", "br0", "up")
	run(t, "ip", "-n", sw, "link", "set", "lo", "up")
	// The controller's end: a veth whose peer joins the switch.
	ctl := "chc" + tag
	run(t, "ip", "link", "add", ctl, "type", "veth", "peer", "name", "c", "netns", sw)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", ctl).Run() })
	run(t, "ip", "addr", "add", hs.Controller.String()+"/24", "dev", ctl)
	run(t, "ip", "link", "set", ctl, "up")
	run(t, "ip", "-n", sw, "link", "set", "c", "master", "br0", "up")

	var err error
	hs.Key, hs.KeyFile, err = newKey(filepath.Join(hs.tmp, "id_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(hs.tmp, "authorized_keys")
	if err := os.WriteFile(auth, ssh.MarshalAuthorizedKey(hs.Key.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	etc := map[string][]byte{}
	if opts.SudoUser != "" {
		etc = sudoUser(t, hs, auth, opts.SudoUser)
	}
	// Root's home on the hosts is an empty folder of the test's, not this
	// machine's /root: bash reads ~/.bashrc for every command sshd runs,
	// and this machine's (pyenv init) took 2.5 s a command at load 8,
	// which made each SSH command of a test take seconds while a cluster
	// was busy. A real host's startup files are its own; the sudo user's
	// noisy .bashrc (Options) stands for them.
	if etc["passwd"], err = rootHomeIn(etc["passwd"], filepath.Join(hs.tmp, "home-root")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	var known bytes.Buffer
	for i := 1; i <= n; i++ {
		h := &Host{Name: fmt.Sprintf("h%d", i), NS: fmt.Sprintf("chs%d-%s", i, tag), Addr: addrAt(prefix, 10+i)}
		hdir := filepath.Join(hs.tmp, h.Name)
		// The working directory's name holds quotes, $(), ; and a space:
		// every command of the runtime must pass it safely.
		h.Dir = filepath.Join(hdir, `work dir 'q' "d" $(touch pwned);x`)
		if err := os.MkdirAll(h.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Before the namespace exists, so that ip netns exec finds it.
		writeEtc(t, h.NS, etc)
		run(t, "ip", "netns", "add", h.NS)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", h.NS).Run() })
		run(t, "ip", "-n", h.NS, "link", "set", "lo", "up")
		run(t, "ip", "-n", sw, "link", "add", "p"+fmt.Sprint(i), "type", "veth", "peer", "name", "eth0", "netns", h.NS)
		run(t, "ip", "-n", sw, "link", "set", "p"+fmt.Sprint(i), "master", "br0", "up")
		run(t, "ip", "-n", h.NS, "addr", "add", h.Addr.String()+"/24", "dev", "eth0")
		run(t, "ip", "-n", h.NS, "link", "set", "eth0", "up")
		hostKeyFile := filepath.Join(hdir, "ssh_host_ed25519_key")
		if h.HostKey, _, err = newKey(hostKeyFile); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&known, "%s %s", h.Addr, ssh.MarshalAuthorizedKey(h.HostKey.PublicKey()))
		cfg := filepath.Join(hdir, "sshd_config")
		conf := strings.Join([]string{
			"ListenAddress " + h.Addr.String(), "Port 22", "HostKey " + hostKeyFile, "AuthorizedKeysFile " + auth,
			"PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
			"UsePAM no", "StrictModes no", "PidFile none", "MaxSessions 64", "MaxStartups 64", "LogLevel FATAL",
			// These hosts share this machine's clock: the agents started
			// here must never set it (agent.NoSystemClockEnv).
			"SetEnv " + NoSystemClockEnv + "=1",
		}, "\n") + "\n"
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		h.sshd = exec.Command("ip", "netns", "exec", h.NS, SSHD, "-D", "-e", "-f", cfg)
		h.sshd.Stderr = &testWriter{t: t, prefix: h.Name + " sshd: "}
		if err := h.sshd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.sshd.Process.Kill(); _ = h.sshd.Wait() })
		hs.List = append(hs.List, h)
	}
	hs.KnownHosts = filepath.Join(hs.tmp, "known_hosts")
	if err := os.WriteFile(hs.KnownHosts, known.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs.List {
		waitListening(t, h)
	}
	t.Logf("sshhosts: %d hosts with sshd listening in %v", n, time.Since(began).Round(time.Millisecond))
	return hs
}

// rootHomeIn returns passwd (this machine's /etc/passwd if nil) with
// root's home changed to home, which it makes, empty.
func rootHomeIn(passwd []byte, home string) ([]byte, error) {
	if passwd == nil {
		b, err := os.ReadFile("/etc/passwd")
		if err != nil {
			return nil, err
		}
		passwd = b
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(passwd), "\n")
	found := false
	for i, l := range lines {
		f := strings.Split(strings.TrimSuffix(l, "\n"), ":")
		if len(f) == 7 && f[0] == "root" {
			f[5] = home
			lines[i] = strings.Join(f, ":") + strings.TrimPrefix(l, strings.TrimSuffix(l, "\n"))
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("sshhosts: no root line in /etc/passwd")
	}
	return []byte(strings.Join(lines, "")), nil
}

// Temp is a folder of the test's for files of its own.
func (hs *Hosts) Temp() string { return hs.tmp }

// waitListening waits until h's sshd accepts connections.
func waitListening(t testing.TB, h *Host) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.Addr.String(), "22"), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: sshd not listening on %s after 10s: %v", h.Name, h.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Cut takes h off the switch (its link down): connections to it hang, as
// to a machine that lost its network.
func (h *Host) Cut(t testing.TB) { run(t, "ip", "-n", h.NS, "link", "set", "eth0", "down") }

// Mend puts h back on the switch.
func (h *Host) Mend(t testing.TB) { run(t, "ip", "-n", h.NS, "link", "set", "eth0", "up") }

// Leftovers lists what is in h's working directory (nothing once a
// cluster is down and its directory removed).
func (h *Host) Leftovers() []string {
	var out []string
	_ = filepath.Walk(h.Dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil && p != h.Dir {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// newKey makes an ed25519 key and writes it to file in OpenSSH format.
func newKey(file string) (ssh.Signer, string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, "", err
	}
	s, err := ssh.NewSignerFromKey(priv)
	return s, file, err
}

// NewKey makes a key (for a test's host key that differs), written to
// file.
func NewKey(file string) (ssh.Signer, error) {
	s, _, err := newKey(file)
	return s, err
}

func freePrefix(t testing.TB) netip.Prefix {
	t.Helper()
	addrs, _ := net.InterfaceAddrs()
	for range 64 {
		n, _ := rand.Int(rand.Reader, big.NewInt(256))
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 214, byte(n.Int64()), 0}), 24)
		used := false
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && p.Contains(ip.Unmap()) {
					used = true
				}
			}
		}
		if !used {
			return p
		}
	}
	t.Fatal("no free /24 in 10.214.0.0/16")
	return netip.Prefix{}
}

func addrAt(p netip.Prefix, i int) netip.Addr {
	b := p.Addr().As4()
	b[3] = byte(i)
	return netip.AddrFrom4(b)
}

func run(t testing.TB, argv ...string) {
	t.Helper()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

type testWriter struct {
	t      testing.TB
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + l)
	}
	return len(p), nil
}
