package ssh

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// agentModule is the module whose cmd/chaos-agent is the agent.
const agentModule = "github.com/chaos-testing/chaos"

// agentBins finds, or builds, the agent program (cmd/chaos-agent) for
// each architecture the hosts have, once per runtime:
//
//  1. $CHAOS_AGENT_DIR/chaos-agent-linux-<arch>, if the variable is set;
//  2. chaos-agent-linux-<arch> beside the running program (make builds
//     bin/chaos-agent-linux-amd64 and -arm64 beside bin/chaos, and make
//     install installs them beside chaos);
//  3. built from source with the Go toolchain (CGO_ENABLED=0, GOOS=linux,
//     GOARCH=<arch>) when the working directory is inside chaos's module
//     (tests, go run).
type agentBins struct {
	mu     sync.Mutex
	tmp    string
	byArch map[string]agentBin
}

// agentBin is one build of the agent: its file and its content's hash.
type agentBin struct{ path, hash string }

// goArch maps `uname -m` to Go's GOARCH.
func goArch(machine string) (string, error) {
	switch strings.TrimSpace(machine) {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64":
		return "arm64", nil
	case "armv7l", "armv6l", "armv7", "armv6":
		return "arm", nil
	case "i386", "i686":
		return "386", nil
	case "riscv64":
		return "riscv64", nil
	case "ppc64le":
		return "ppc64le", nil
	case "s390x":
		return "s390x", nil
	}
	return "", fmt.Errorf("no Go architecture for machine %q", machine)
}

func (b *agentBins) get(ctx context.Context, arch string) (agentBin, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bin, ok := b.byArch[arch]; ok {
		return bin, nil
	}
	name := "chaos-agent-linux-" + arch
	var tried []string
	var cands []string
	if d := os.Getenv("CHAOS_AGENT_DIR"); d != "" {
		cands = append(cands, filepath.Join(d, name))
	}
	if self, err := os.Executable(); err == nil {
		cands = append(cands, filepath.Join(filepath.Dir(self), name))
	}
	path := ""
	for _, c := range cands {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			path = c
			break
		}
		tried = append(tried, c)
	}
	if path == "" {
		var err error
		path, err = b.build(ctx, arch, name)
		if err != nil {
			return agentBin{}, fmt.Errorf("no chaos-agent for linux/%s (looked for %s; run make, which builds bin/%s beside bin/chaos, or set CHAOS_AGENT_DIR): %w",
				arch, strings.Join(tried, ", "), name, err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return agentBin{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return agentBin{}, fmt.Errorf("hash %s: %w", path, err)
	}
	bin := agentBin{path: path, hash: hex.EncodeToString(h.Sum(nil))[:16]}
	if b.byArch == nil {
		b.byArch = map[string]agentBin{}
	}
	b.byArch[arch] = bin
	return bin, nil
}

// build builds the agent from the module's source, if the working
// directory is in chaos's module and Go is installed.
func (b *agentBins) build(ctx context.Context, arch, name string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("no Go toolchain to build it: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull || !isModule(mod, agentModule) {
		return "", fmt.Errorf("not inside module %s to build it from source", agentModule)
	}
	if b.tmp == "" {
		if b.tmp, err = os.MkdirTemp("", "chaos-agent-"); err != nil {
			return "", err
		}
	}
	out := filepath.Join(b.tmp, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, agentModule+"/cmd/chaos-agent")
	cmd.Dir = filepath.Dir(mod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w: %s", err, clip(msg))
	}
	return out, nil
}

func isModule(gomod, want string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`) == want
		}
	}
	return false
}

// close removes what was built.
func (b *agentBins) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
		b.tmp = ""
	}
	b.byArch = nil
}
