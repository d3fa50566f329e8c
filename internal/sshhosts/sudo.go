package sshhosts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Sudo is where Debian's sudo puts the program.
const Sudo = "/usr/bin/sudo"

// sudoUID is the uid and gid of the sudo user (none on this machine).
const sudoUID = 64917

var userName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// SudoAvailable says why hosts with a sudo user cannot be made here, or
// "" if they can.
func SudoAvailable() string {
	if why := Available(); why != "" {
		return why
	}
	if _, err := os.Stat(Sudo); err != nil {
		return "needs Debian's sudo (" + Sudo + "): apt-get install -y sudo"
	}
	return ""
}

// sudoUser prepares the files that make user exist on the hosts, with
// passwordless sudo: /etc/passwd, /etc/group and /etc/shadow with a line
// more, and a /etc/sudoers.d holding only its rule. The user's home is
// a folder of the test's; the authorized keys file is made readable to it
// (sshd reads it as the user), and the test's folders traversable.
func sudoUser(t testing.TB, hs *Hosts, auth, user string) map[string][]byte {
	t.Helper()
	if !userName.MatchString(user) || user == "root" {
		t.Fatalf("sshhosts: %q is not a user name for a sudo user", user)
	}
	home := filepath.Join(hs.tmp, "home-"+user)
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, sudoUID, sudoUID); err != nil {
		t.Fatal(err)
	}
	for d := hs.tmp; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(auth, 0o644); err != nil {
		t.Fatal(err)
	}
	// A noisy startup file, as real hosts have: bash reads .bashrc even
	// for a command under sshd, and this one writes to stderr, which
	// must never be taken for a command's output.
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte("echo 'noise from .bashrc on stderr' >&2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	etc := map[string][]byte{}
	for _, f := range []struct{ name, line string }{
		{"passwd", fmt.Sprintf("%s:x:%d:%d:chaos test:%s:/bin/bash\n", user, sudoUID, sudoUID, home)},
		{"group", fmt.Sprintf("%s:x:%d:\n", user, sudoUID)},
		// "*": no password, but not locked (OpenSSH refuses "!").
		{"shadow", user + ":*:19000:0:99999:7:::\n"},
	} {
		b, err := os.ReadFile(filepath.Join("/etc", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
			b = append(b, '\n')
		}
		etc[f.name] = append(b, f.line...)
	}
	// sudo keeps the variable that keeps the agents off this machine's
	// clock (sshd sets it).
	etc["sudoers.d/"+user] = []byte("Defaults env_keep += \"" + NoSystemClockEnv + "\"\n" + user + " ALL=(ALL:ALL) NOPASSWD: ALL\n")
	return etc
}

// writeEtc writes files to /etc/netns/<ns>/, which ip netns exec mounts
// over /etc for what runs in ns, and removes them when t ends.
func writeEtc(t testing.TB, ns string, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join("/etc/netns", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir); _ = os.Remove("/etc/netns") }) // the latter only if empty
	for name, b := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		switch {
		case name == "shadow":
			mode = 0o640
		case filepath.Dir(name) == "sudoers.d":
			mode = 0o440
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// RevokeSudo removes the sudo user's rule on h: sudo then asks for a
// password, which sudo -n refuses.
func (h *Host) RevokeSudo(t testing.TB) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join("/etc/netns", h.NS, "sudoers.d", "*"))
	for _, f := range m {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}
