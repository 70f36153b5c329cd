# incidentd: build, test and run the platform. `make local` and `make test` are the
# two commands a newcomer needs; everything else they need is installed on first use.

SHELL := /bin/bash
GO ?= go
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
BUILD_DIR := .build
NODE_STAMP := node_modules/.installed
LAMBDA_FLAGS := -tags lambda.norpc,timetzdata -trimpath -buildvcs=false -ldflags "-s -w"
FUZZTIME ?= 60s
# One worker: the API fuzz targets run against DynamoDB Local, one emulator per worker.
FUZZFLAGS ?= -parallel=1

.PHONY: all build test local synth deploy bench lint fuzz tools clean help

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

local: $(NODE_STAMP) ## run the whole platform locally (API :3000, Lambda invoke :3001)
	$(GO) run ./infra/local

synth: $(NODE_STAMP) ## synthesize the CloudFormation template (offline; builds the functions)
	npx cdk synth --quiet

deploy: $(NODE_STAMP) ## deploy into the current AWS account and region
	npx cdk deploy

bench: $(NODE_STAMP) build ## signal→incident latency, duplicate throughput, bootstrap sizes
	$(GO) run ./infra/bench

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
