# The targets CI runs are exactly `lint` and `test` (see .ci/run).
CARGO ?= cargo
VENV  := target/venv
AWS   := $(VENV)/bin/aws
# boto3 next to the CLI (one resolve, so their botocore pins agree), for the fan-out test.
BOTO3 := $(VENV)/.boto3
# The AWS SDK for JavaScript v3's Kinesis client, for the fan-out test over HTTP/2.
JS_SDK := target/js-sdk
CLIENTS := RIFFLE_AWS_CLI=$(abspath $(AWS)) RIFFLE_PYTHON=$(abspath $(VENV))/bin/python \
	RIFFLE_JS_SDK=$(abspath $(JS_SDK))
PORT  ?= 4566

SAM_VENV := target/sam-venv
SAM      := $(SAM_VENV)/bin/sam

.PHONY: local run test browser lint fmt clippy bench fuzz tools clean validate build-functions deploy conformance

## Run template.yaml locally: emulator, streams, queues, functions and mappings on 127.0.0.1:$(PORT).
local:
	$(CARGO) run --release -p riffle -- local --template template.yaml --port $(PORT)

## Start only the emulator on 127.0.0.1:$(PORT).
run:
	$(CARGO) run --release -p riffle -- emulator --port $(PORT)

## Unit, integration and end-to-end tests (installs the AWS CLI and boto3 into target/venv,
## the JavaScript SDK into target/js-sdk and, as root on Debian, Chromium first).
test: $(AWS) $(BOTO3) $(JS_SDK)/node_modules/@aws-sdk/client-kinesis browser
	$(CARGO) build -p riffle
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CLIENTS) $(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CLIENTS) $(CARGO) test --workspace; \
	fi
	$(CARGO) test --workspace --doc

## Debian's Chromium and chromedriver, for the dashboard's browser test (tests/e2e/local_dashboard.rs).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; } || \
	{ echo "the dashboard's browser test needs Chromium: apt-get install -y chromium chromium-driver" >&2; exit 1; }

## The AWS CLI v1 from PyPI, used by the CLI smoke test as an independent client.
$(AWS):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'awscli>=1.36,<2'

$(BOTO3): $(AWS)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'awscli>=1.36,<2' boto3
	touch $@

$(JS_SDK)/node_modules/@aws-sdk/client-kinesis:
	mkdir -p $(JS_SDK)
	npm install --silent --no-audit --no-fund --prefix $(JS_SDK) @aws-sdk/client-kinesis

## kinesalite's test suite (recorded against real AWS, vendored in tests/conformance/kinesalite)
## against a fresh emulator on a free port; fails on a failing test known-failures.txt does not
## list, or a listed one that passes. Needs node and npm.
conformance:
	$(CARGO) build -p riffle
	KSL_WORK=$${KSL_WORK:-$(abspath target)/kinesalite-suite} \
		tests/conformance/kinesalite/conformance.sh $${CARGO_TARGET_DIR:-target}/debug/riffle

lint: fmt clippy

fmt:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Side-by-side benchmarks: Kinesis vs kinesalite and ferrokinesis, SQS, S3 and Firehose vs moto, and the mapping engine.
bench:
	./bench/run.sh

clean:
	$(CARGO) clean

## Fuzz request decoding with cargo-fuzz (libFuzzer), FUZZ_TIME seconds per target (default
## 150). No sanitizer by default: the emulator forbids `unsafe` and overflow checks stay on, and
## that builds on the stable toolchain as is. FUZZ_SANITIZER=address adds ASan, whose -Z flags
## stable rustc takes only with RUSTC_BOOTSTRAP=1. Crashes land in fuzz/artifacts/ (fuzz/README.md).
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	mkdir -p fuzz/corpus/kinesis_request fuzz/corpus/kinesis_structured fuzz/corpus/sqs_request
	$(if $(filter-out none,$(or $(FUZZ_SANITIZER),none)),RUSTC_BOOTSTRAP=1 )$(CARGO) fuzz run \
		--sanitizer $(or $(FUZZ_SANITIZER),none) kinesis_request fuzz/corpus/kinesis_request \
		fuzz/seeds/kinesis_request -- -dict=fuzz/kinesis.dict \
		-max_total_time=$(or $(FUZZ_TIME),150)
	$(if $(filter-out none,$(or $(FUZZ_SANITIZER),none)),RUSTC_BOOTSTRAP=1 )$(CARGO) fuzz run \
		--sanitizer $(or $(FUZZ_SANITIZER),none) kinesis_structured \
		fuzz/corpus/kinesis_structured -- -max_len=2048 -max_total_time=$(or $(FUZZ_TIME),150)
	$(if $(filter-out none,$(or $(FUZZ_SANITIZER),none)),RUSTC_BOOTSTRAP=1 )$(CARGO) fuzz run \
		--sanitizer $(or $(FUZZ_SANITIZER),none) sqs_request fuzz/corpus/sqs_request \
		fuzz/seeds/sqs_request -- -max_total_time=$(or $(FUZZ_TIME),150)

## The SAM CLI (with cfn-lint) in target/sam-venv, from PyPI.
$(SAM):
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli

## cargo-lambda (with the zig it cross-links with), from PyPI, next to the SAM CLI.
$(SAM_VENV)/bin/cargo-lambda: $(SAM)
	$(SAM_VENV)/bin/pip install --quiet cargo-lambda

## Check template.yaml: `sam validate --lint` (SAM's schema and cfn-lint), then Riffle's own
## checks (AWS's ranges and rules for every mapping property, which --lint misses).
validate: $(SAM)
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint --template template.yaml
	$(CARGO) run --quiet -p riffle -- validate --template template.yaml

## Build the functions' bootstrap binaries for Lambda (target/lambda/<binary>/bootstrap).
build-functions: $(SAM_VENV)/bin/cargo-lambda
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" cargo lambda build --release \
		--bin order-events --bin clickstream-totals --bin failure-inspector --bin log-normalizer

## Deploy the example application to your AWS account (asks for the stack's settings).
deploy: $(SAM_VENV)/bin/cargo-lambda
	SAM_CLI_TELEMETRY=0 PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(SAM) build
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided
