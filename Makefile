# HoraeDB in Go. `make help` lists the targets.

GO        ?= go
BIN       ?= bin
PKGS      := ./...
FUZZTIME  ?= 30s
GOLANGCI_LINT_VERSION := v2.6.2
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
# MinIO for the S3 tests (internal/miniotest); a pseudo-version, MinIO tags
# no Go module releases.
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
TOOLS     := $(CURDIR)/.cache/tools
LINT      := $(TOOLS)/golangci-lint
PROTO_FILES = $(shell find proto -name '*.proto' 2>/dev/null)
# The official Go SDK's test is its own module (the SDK registers the same
# protobuf names as proto/storagepb). Its modules come through the module
# proxy; the checksum database is skipped for github.com/CeresDB, whose
# sums go.sum pins.
SDK_DIR   := integration_tests/sdk/go
SDK_GOENV := GOFLAGS=-mod=mod GONOSUMDB=github.com/CeresDB

# Docker images (FROM scratch, the static binaries of `make build`).
IMAGE_TAG      ?= dev
HORAEDB_IMAGE  ?= horaedb-server:$(IMAGE_TAG)
HORAEMETA_IMAGE ?= horaemeta-server:$(IMAGE_TAG)

# TSBS (the Time Series Benchmark Suite), pinned in its own module.
TSBS_DIR   := tools/tsbs
TSBS_TOOLS := tsbs_generate_data tsbs_generate_queries tsbs_load_influx tsbs_run_queries_influx
HOSTS      ?= 100
DURATION   ?= 24h
QUERIES    ?= 100

.PHONY: help build run test unit integration sdk-test sdk-bench check fmt vet tidy lint arch proto proto-check fuzz bench bench-tsbs tsbs-tools tools minio image compose-test clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/horaedb, bin/horaemeta, bin/horaectl (static, no cgo)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/horaedb ./cmd/horaedb
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/horaemeta ./cmd/horaemeta
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/horaectl ./cmd/horaectl

run: ## run a standalone horaedb: HTTP :5440, data under ./data
	$(GO) run ./cmd/horaedb $(ARGS)

test: unit integration sdk-test ## every test: unit tests, the process-level integration suite, the SDK test

unit: ## unit tests of every package
	$(GO) test -count=1 -timeout 15m $(PKGS)

integration: ## process-level tests: real binaries, SIGKILL, restart
	$(GO) test -count=1 -tags integration -timeout 30m ./integration_tests/...

sdk-test: ## the official Go SDK (horaedb-client-go v1.2.0) against a real horaedb
	cd $(SDK_DIR) && $(SDK_GOENV) $(GO) test -count=1 -timeout 10m ./...

sdk-bench: ## write and query figures through the official Go SDK (docs/benchmarks.md)
	cd $(SDK_DIR) && $(SDK_GOENV) $(GO) test -run '^$$' -bench . -benchtime 1x -count 5 -timeout 60m ./...

check: fmt vet tidy lint arch proto-check ## static checks CI runs

fmt: ## fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: ## go vet, also of the integration tests
	$(GO) vet $(PKGS)
	$(GO) vet -tags integration ./integration_tests/...
	cd $(SDK_DIR) && $(SDK_GOENV) $(GO) vet ./...

tidy: ## fail when go.mod/go.sum are not tidy
	$(GO) mod tidy -diff
	cd $(SDK_DIR) && $(SDK_GOENV) $(GO) mod tidy -diff

lint: $(LINT) ## golangci-lint (pinned)
	$(LINT) run $(PKGS)

arch: ## the import-direction rules of DESIGN.md §3
	$(GO) test -count=1 ./internal/archtest/

$(LINT):
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

proto: $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc ## regenerate the Go code of proto/ (needs protoc: apt-get install protobuf-compiler)
	@if [ -n "$(PROTO_FILES)" ]; then \
	  PATH=$(TOOLS):$$PATH protoc -I proto --go_out=proto --go_opt=paths=source_relative \
	    --go-grpc_out=proto --go-grpc_opt=paths=source_relative $(PROTO_FILES); fi

proto-check: proto ## fail when the generated code of proto/ is stale
	@git diff --exit-code -- proto || (echo "proto/: generated code is stale; run make proto and commit"; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- proto); if [ -n "$$untracked" ]; then \
	  echo "proto/: generated files not committed: $$untracked"; exit 1; fi

tools: $(LINT) $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc ## install the pinned tools into .cache/tools

minio: $(TOOLS)/minio ## build the pinned MinIO the S3 tests run (a few minutes)

$(TOOLS)/minio:
	GOBIN=$(TOOLS) $(GO) install github.com/minio/minio@$(MINIO_VERSION)

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

bench-tsbs: build tsbs-tools ## TSBS cpu-only end to end: load, every query type, a summary (HOSTS=100 DURATION=24h QUERIES=100)
	cd $(TSBS_DIR) && $(GO) run ./bench -horaedb $(CURDIR)/$(BIN)/horaedb -tools $(TOOLS) -hosts $(HOSTS) -duration $(DURATION) -queries $(QUERIES)

tsbs-tools: ## build TSBS's generator, loader and query runner into .cache/tools
	cd $(TSBS_DIR) && GOBIN=$(TOOLS) $(GO) install $(addprefix github.com/timescale/tsbs/cmd/,$(TSBS_TOOLS))

bench: ## micro-benchmarks (see docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

image: build ## docker images horaedb-server:dev and horaemeta-server:dev, FROM scratch (IMAGE_TAG=dev)
	docker build -f docker/horaedb.Dockerfile -t $(HORAEDB_IMAGE) .
	docker build -f docker/horaemeta.Dockerfile -t $(HORAEMETA_IMAGE) .

compose-test: image ## docker/docker-compose.yaml up, SQL through :5440, a node killed and restarted, down
	HORAEDB_IMAGE=$(HORAEDB_IMAGE) HORAEMETA_IMAGE=$(HORAEMETA_IMAGE) docker/compose-test.sh

clean: ## remove build outputs
	rm -rf $(BIN)
