# chaos — build, test and demo. Every target works from a clean clone on a
# machine with Go 1.26 (and Docker, for the integration tests and the demo).

GO        ?= go
BIN       := bin
ETCD_PKG  := go.etcd.io/etcd/server/v3
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
export CGO_ENABLED := 0

.PHONY: all build test test-short bench lint demo validate validate-checkers fuzz clean

all: build

## build: the chaos binary and the etcd server (version pinned in go.mod)
build: $(BIN)/chaos $(BIN)/etcd

$(BIN)/chaos: FORCE
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $@ ./cmd/chaos

# etcd is a tool dependency in go.mod: its version is pinned there.
$(BIN)/etcd: go.mod go.sum
	$(GO) build -trimpath -o $@ $(ETCD_PKG)

FORCE:

## test: every test, integration tests included (they need Docker and root;
## with CI=true they fail instead of skipping when those are missing)
test: $(BIN)/etcd
	$(GO) test -count=1 -timeout 15m ./...

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
## then check the linearizability checker against a brute-force one
validate: build validate-checkers
	./scripts/detection-rate.sh scenarios/etcd-serializable-reads.yaml 5

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
