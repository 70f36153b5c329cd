# incidentd: build, test and run the platform. `make local` and `make test` are the
# two commands a newcomer needs; everything else they need is installed on first use.

SHELL := /bin/bash
GO ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
BUILD_DIR := .build
NODE_STAMP := node_modules/.installed
# The flags of infra/gobuild.Args, which cdk synth/deploy build with (its doc says why).
LAMBDA_FLAGS := -tags lambda.norpc,timetzdata -trimpath -buildvcs=false -gcflags "github.com/aws/...=-l" -ldflags "-s -w"
FUZZTIME ?= 60s
# One worker: the API fuzz targets run against DynamoDB Local, one emulator per worker.
FUZZFLAGS ?= -parallel=1

.PHONY: all build test local demo replay synth deploy bench lint fuzz tools clean help

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

# The Node-based tools (CDK CLI, DynamoDB Local, local Step Functions runner, ASL
# validator) are pinned in package.json / package-lock.json and installed here.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

tools: $(NODE_STAMP) ## install the pinned Node tools and download Go modules
	$(GO) mod download

build: ## build every function as a linux/arm64 Lambda bootstrap under .build/
	@for f in $(FUNCTIONS); do \
	  echo "build functions/$$f"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BUILD_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	done

lint: ## gofmt and go vet
	@out=$$(find . -name '*.go' -not -path './node_modules/*' -not -path './.build/*' -not -path './cdk.out/*' -print0 | xargs -0 gofmt -l); \
	  if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: $(NODE_STAMP) lint ## unit, DynamoDB Local integration, fixture replay and CDK tests
	$(GO) test -count=1 ./...

# `make local` builds the local platform into .build/ and runs it in place of
# this recipe's shell (exec): Ctrl-C reaches it, it shuts down cleanly and exits
# 0, so make reports no error (`go run` would exit 1 on any Ctrl-C). README
# "Local development".
local: $(NODE_STAMP) ## run the whole platform locally (API :3000, Lambda invoke :3001)
	@echo "building the local platform (first run: about 3-4 min on 2 cores, more while Go modules download; later runs: seconds) ..."
	@$(GO) build -o $(BUILD_DIR)/incidentd-local ./infra/local
	@exec $(BUILD_DIR)/incidentd-local

replay: ## replay every events/ fixture against a running `make local`, in the README's order
	$(GO) run ./infra/local replay

# `make demo`: one incident through its lifecycle on a running `make local` (infra/demo,
# README "Tour"); it starts one itself when nothing answers on LOCAL_API_PORT.
# DEMO_FLAGS are its flags (`go run ./infra/demo -h`), e.g. DEMO_FLAGS=-start=false.
DEMO_FLAGS ?=
demo: $(NODE_STAMP) ## walk an incident from alarm storm to post-mortem and DORA on `make local`
	$(GO) run ./infra/demo $(DEMO_FLAGS)

synth: $(NODE_STAMP) ## synthesize the CloudFormation template (offline; builds the functions)
	npx cdk synth --quiet

deploy: $(NODE_STAMP) ## deploy into the current AWS account and region
	npx cdk deploy

# `make bench`: incidents measured from signal to first page, a report surge and an
# acknowledgement in a signal storm on the local platform, a notification storm
# (a process and emulator of its own: its 10,000 items would slow the others), the DORA job
# over 100,000 deployments and its computation over 1,000,000 in memory, executions of the
# state machine per escalation scenario, DynamoDB request units per signal, and
# the monthly cost model (the synthesized template priced with COST_COUNTS). DynamoDB Local runs with its full JIT
# (steady state) unless DYNAMODB_LOCAL_JAVA_OPTS says otherwise. In the recipe,
# `figures AWK ARG...` runs go test ARG... and prints the output through AWK, which
# sets seen on a result line; if the run fails or nothing is seen, the whole output.
BENCH_INCIDENTS ?= 30
BENCH_EXECUTIONS ?= 3
# The operation counts the cost model prices (infra/cost's package doc has the schema).
COST_COUNTS ?= infra/cost/counts.json
BENCH_ENV = DYNAMODB_LOCAL_JAVA_OPTS="$${DYNAMODB_LOCAL_JAVA_OPTS-}"

bench: $(NODE_STAMP) build ## figures: signal→incident, duplicates, DynamoDB requests and capacity per path, sizes, signal→first page, report surge, acknowledge in a storm, notification storm, the DORA job, Step Functions transitions per escalation, the cost model
	$(GO) run ./infra/bench
	@figures() { prog=$$1; shift; out=$$($(BENCH_ENV) $(GO) test -run '^$$' "$$@" 2>&1) \
	    && echo "$$out" | awk "$$prog"' END { exit !seen }' || { echo "$$out"; exit 1; }; }; \
	figures '/^BenchmarkSignalToFirstPage/ { for (i = 3; i < NF; i += 2) m[$$(i+1)] = $$i; \
	    printf "\nsignal accepted → first page published (local platform, one incident at a time;\n"; \
	    printf "includes the wait for the stream poller, which polls every %d ms as the event source mapping would)\n", m["poll-interval-ms"]; \
	    printf "  alarm → first page:      p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   (n=%d)\n", m["p50-ms"], m["p99-ms"], m["max-ms"], m["incidents"]; seen = 1 }' \
	  -bench '^BenchmarkSignalToFirstPage$$' -benchtime 1x ./infra/local -incidents $(BENCH_INCIDENTS); \
	figures '/^Benchmark(ReportSurge|AcknowledgeDuringStorm)/ { delete m; for (i = 3; i < NF; i += 2) m[$$(i+1)] = $$i; } \
	  /^BenchmarkReportSurge/ { \
	    printf "\nreports on one service (%d reports, %d concurrent senders, each a reporter; POST /reports of the local platform)\n", m["reports"], m["senders"]; \
	    printf "  accepted (202):       %d of %d   refused: %d   incidents opened: %d (want 1)\n", m["accepted"], m["reports"], m["refused"], m["incidents"]; \
	    printf "  latency:                 p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms   (%.0f reports/s)\n", m["p50-ms"], m["p99-ms"], m["max-ms"], m["reports/s"]; seen = 1 } \
	  /^BenchmarkAcknowledgeDuringStorm/ { \
	    printf "\nacknowledge during a duplicate storm (%d ALARM deliveries of one alarm, %d concurrent senders, to the local\n", m["signals"], m["senders"]; \
	    printf "platform alarms function; the acknowledgement through its API once half of them are in)\n"; \
	    printf "  acknowledge:          %7.2f ms\n", m["ack-ms"]; \
	    printf "  storm:                %.0f signals/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms\n", m["signals/s"], m["p50-ms"], m["p99-ms"], m["max-ms"]; seen = 1 }' \
	  -bench '^(BenchmarkReportSurge|BenchmarkAcknowledgeDuringStorm)$$' -benchtime 1x ./infra/local; \
	figures '/^BenchmarkNotificationStorm/ { for (i = 3; i < NF; i += 2) m[$$(i+1)] = $$i; \
	    printf "\nnotification storm (%d SNS notifications of one alarm: %d distinct state changes, each delivered twice; %d concurrent\n", m["notifications"], m["deliveries"] - 1, m["senders"]; \
	    printf "senders, to the local platform alarms function; its stream poller folds the pending signals in)\n"; \
	    printf "  throughput:           %.0f notifications/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms\n", m["notifications/s"], m["p50-ms"], m["p99-ms"], m["max-ms"]; \
	    printf "  incidents: %d (want 1)   escalations: %d (want 1)   signal_count once the stream caught up: %d (want %d), %.0f ms after the last\n", m["incidents"], m["escalations"], m["signal-count"], m["deliveries"], m["catch-up-ms"]; seen = 1 }' \
	  -bench '^BenchmarkNotificationStorm$$' -benchtime 1x ./infra/local; \
	figures '/^BenchmarkJob/ { for (i = 3; i < NF; i += 2) m[$$(i+1)] = $$i; \
	    printf "\nDORA job (DynamoDB Local; %d services, their production and all services, windows of 7, 30 and 90 days)\n", m["services"]; \
	    printf "  a history of %d deployments and %d incidents over %d days (a run reads the last 180: the 90-day window and its lookback):\n", m["deployments"], m["incidents"], m["days"]; \
	    printf "    run: %6.2f s (reads %.2f s, snapshot writes %.2f s)   %d snapshots   %d requests   read units %.0f   write units %.0f\n", \
	      m["h1-s"], m["h1-read-s"], m["h1-write-s"], m["h1-snapshots"], m["h1-requests"], m["h1-rcu"], m["h1-wcu"]; \
	    printf "  the same again before it (a history twice as long; the reads stay the same):\n"; \
	    printf "    run: %6.2f s (reads %.2f s, snapshot writes %.2f s)   %d snapshots   %d requests   read units %.0f   write units %.0f\n", \
	      m["h2-s"], m["h2-read-s"], m["h2-write-s"], m["h2-snapshots"], m["h2-requests"], m["h2-rcu"], m["h2-wcu"]; \
	    printf "  (importing the two histories, BatchWriteItem: %.0f s)\n", m["import-s"]; seen = 1 }' \
	  -bench '^BenchmarkJob$$' -benchtime 1x -timeout 30m ./shared/dorajob; \
	figures '/^BenchmarkCompute/ { printf "  in memory, dora.Compute over 1,000,000 deployments and 5,000 incidents (all services, 90 days): %.2f s, %.0f MB allocated\n", $$3 / 1e9, $$5 / 1e6; seen = 1 }' \
	  -bench '^BenchmarkCompute$$' -benchtime 3x ./shared/dora; \
	echo; echo "Step Functions state transitions per escalated incident (the synthesized state machine under"; \
	echo "aws-local-stepfunctions with the real handlers; policy: 3 levels, repeat 1, then the fallback)"; \
	figures '/^BenchmarkEscalationTransitions\// { name = $$1; sub(/^[^\/]*\//, "", name); sub(/-[0-9]+$$/, "", name); gsub(/-/, " ", name); \
	    for (i = 3; i < NF; i += 2) m[$$(i+1)] = $$i; \
	    printf "  %-29s %3d transitions   pages: %d   (%.0f ms per local execution, n=%d)\n", name ":", m["transitions/incident"], m["pages/incident"], m["ms/incident"], $$2; seen = 1 }' \
	  -bench '^BenchmarkEscalationTransitions$$' -benchtime $(BENCH_EXECUTIONS)x ./infra
	@echo; $(BENCH_ENV) $(GO) run ./infra/cost -measure
	@echo; out=$$(npx cdk synth --quiet 2>&1) || { echo "$$out"; exit 1; }; \
	$(GO) run ./infra/cost -template cdk.out/Incidentd.template.json -counts $(COST_COUNTS)

fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$t for $(FUZZTIME)"; \
	    $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $(FUZZFLAGS) $$pkg; \
	  done; \
	done

clean: ## remove build outputs
	rm -rf $(BUILD_DIR) cdk.out
