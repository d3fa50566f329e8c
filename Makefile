# chaos — build, test and demo. Every target works from a clean clone on a
# machine with Go 1.26 (and Docker, for the integration tests and the demo).

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 0

# The pinned versions of the dbs' servers: each is a small module of its own,
# tools/<binary>-<version>/, whose go.mod pins the server (a `tool` directive;
# servers such as etcd's have replace directives and cannot share chaos's
# go.mod). Each is built into bin/<binary>-<version>, static, and only when
# its go.mod or go.sum changes: a second make does nothing. A new version is
# a new module folder (and a line in its db's Versions); nothing here changes.
SERVERS   := $(patsubst tools/%/go.mod,$(BIN)/%,$(wildcard tools/*/go.mod))
# The servers only the detection-rate series use (make validate-nats), not
# the tests: `make test` does not build them, which keeps CI's first build
# short (nats-server 2.10.x: ~45 s each from cold caches, 2.15.x about 100 s).
VALIDATION_ONLY := $(BIN)/nats-server-2.10.22 $(BIN)/nats-server-2.10.23 $(BIN)/nats-server-2.15.2
TEST_SERVERS := $(filter-out $(VALIDATION_ONLY),$(SERVERS))

.PHONY: all build agents servers install uninstall test test-short bench lint demo validate validate-nats validate-checkers validate-etcd-bugs fuzz clean

all: build

## build: the chaos binary, the SSH runtime's agents and every pinned db server version (bin/<binary>-<version>)
build: $(BIN)/chaos agents servers

# The SSH runtime's node-side agent, static, for the hosts' architectures:
# chaos uploads the one that fits each host (docs/SSH.md).
AGENT_ARCHES := amd64 arm64
AGENTS := $(patsubst %,$(BIN)/chaos-agent-linux-%,$(AGENT_ARCHES))

## agents: the SSH runtime's agent for each host architecture (bin/chaos-agent-linux-<arch>)
agents: $(AGENTS)

$(BIN)/chaos-agent-linux-%: FORCE
	GOOS=linux GOARCH=$* $(GO) build -trimpath -o $@ ./cmd/chaos-agent

## servers: every pinned db server version, each from its module under tools/
servers: $(SERVERS)

$(BIN)/chaos: FORCE
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $@ ./cmd/chaos

# `go build tool` builds the one tool the module's go.mod names.
$(SERVERS): $(BIN)/%: tools/%/go.mod tools/%/go.sum
	@mkdir -p $(BIN)
	cd tools/$* && $(GO) build -trimpath -o $(CURDIR)/$@ tool

FORCE:

# INSTALL_DIR is where `go install` puts programs: $GOBIN, else the first
# $GOPATH's bin (~/go/bin).
INSTALL_DIR ?= $(shell d=$$($(GO) env GOBIN); [ -n "$$d" ] || d=$$($(GO) env GOPATH | cut -d: -f1)/bin; echo "$$d")

## install: chaos and the pinned db servers into INSTALL_DIR (default ~/go/bin,
## where `go install` puts programs); chaos finds the servers beside itself
install: build
	@mkdir -p "$(INSTALL_DIR)"
	install -m 0755 $(BIN)/chaos $(AGENTS) $(SERVERS) "$(INSTALL_DIR)/"
	@echo "installed chaos and $(notdir $(SERVERS)) in $(INSTALL_DIR)"
	@case ":$$PATH:" in *":$(INSTALL_DIR):"*) ;; *) echo "$(INSTALL_DIR) is not on your PATH; add it: export PATH=\"$(INSTALL_DIR):\$$PATH\"" ;; esac

## uninstall: remove what install put in INSTALL_DIR
uninstall:
	rm -f "$(INSTALL_DIR)/chaos" $(patsubst $(BIN)/%,"$(INSTALL_DIR)/%",$(AGENTS)) $(patsubst $(BIN)/%,"$(INSTALL_DIR)/%",$(SERVERS))

## test: every test, integration tests included (they need Docker and root;
## with CI=true they fail instead of skipping when those are missing; the
## longest package, cmd/chaos, takes about 11 min on 2 quiet cores, so the
## per-package timeout leaves room for a loaded machine)
test: $(TEST_SERVERS)
	$(GO) test -count=1 -timeout 25m ./...

## test-short: unit tests only
test-short:
	$(GO) test -short -count=1 ./...

## bench: the benchmarks behind docs/BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./history/ ./controller/ ./checker/... ./reports/... ./cmd/chaos/

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## demo: a real run against 5 etcd nodes in Docker (scenarios/etcd-register.yaml)
demo: build
	$(BIN)/chaos run scenarios/etcd-register.yaml

## validate: run the invalid scenario several times and print the detection rate;
## then check the linearizability checker against a brute-force one, and the
## known etcd bugs' scenarios against their releases and the current etcd
validate: build validate-checkers validate-etcd-bugs
	CHAOS=$(CURDIR)/$(BIN)/chaos ./scripts/detection-rate.sh scenarios/etcd-serializable-reads.yaml 5

## validate-nats: the NATS detection-rate series of docs/VALIDATION.md §7,
## NATS_N runs of each scenario (default 10; about 2 hours in all); ONLY=regexp
## picks scenarios; LOCK=file makes each run hold that flock
NATS_N ?= 10
validate-nats: build
	CHAOS=$(CURDIR)/$(BIN)/chaos ./scripts/nats-detection.sh $(NATS_N)

## validate-etcd-bugs: each known-etcd-bug scenario RUNS times on the release
## it names and on the current etcd (the control), with detection rates
## (docs/VALIDATION.md §8; about 2 minutes a run)
RUNS ?= 10
validate-etcd-bugs: build
	CHAOS=$(CURDIR)/$(BIN)/chaos ./scripts/detection-rate.sh scenarios/etcd-watch-15271.yaml $(RUNS)
	DB_VERSION=3.7.3 CHAOS=$(CURDIR)/$(BIN)/chaos ./scripts/detection-rate.sh scenarios/etcd-watch-15271.yaml $(RUNS)
	CHAOS=$(CURDIR)/$(BIN)/chaos ./scripts/detection-rate.sh scenarios/etcd-members-13766.yaml $(RUNS)
	DB_VERSION=3.7.3 CHAOS=$(CURDIR)/$(BIN)/chaos ./scripts/detection-rate.sh scenarios/etcd-members-13766.yaml $(RUNS)

## validate-checkers: 100,000 random histories, chaos vs a brute-force checker (docs/VALIDATION.md §4)
validate-checkers:
	$(GO) test -count=1 -run TestDifferentialAgainstBruteForce -v ./checker/linear/ -args -differential 100000

## fuzz: run each fuzzer for FUZZTIME (default 1m), one at a time; a failing
## input is minimised for at most FUZZMINIMIZE (without a bound, minimising
## one input can take the whole FUZZTIME)
FUZZTIME ?= 1m
FUZZMINIMIZE ?= 5s
FUZZ := $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE)
fuzz:
	$(FUZZ) -fuzz '^FuzzRead$$' ./history/
	$(FUZZ) -fuzz '^FuzzFastSlow$$' ./history/
	$(FUZZ) -fuzz '^FuzzDamageFastPath$$' ./history/
	$(FUZZ) -fuzz '^FuzzDamageSlowPath$$' ./history/
	$(FUZZ) -fuzz '^FuzzRead$$' ./history/edn/
	$(FUZZ) -fuzz '^FuzzDamage$$' ./history/edn/
	$(FUZZ) -fuzz '^FuzzParse$$' ./scenario/

clean:
	rm -rf $(BIN)
