# The README's commands. Each target installs what it needs itself.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Written by `scripts/localstack.sh up s3`: the endpoint (port chosen there), test credentials, region.
LOCALSTACK_ENV := .localstack/s3/env

.PHONY: install demo test test-fast lint bench synth bootstrap deploy destroy localstack-up localstack-down e2e e2e-up e2e-down clean browser-deps gstreamer-deps ffmpeg-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,infra]'
	touch $(STAMP)

## The JS SDK v3 clients the compat and e2e tests drive (their own package.json: not the CDK's).
tests/e2e/js/node_modules/.installed: tests/e2e/js/package.json
	cd tests/e2e/js && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error)
	touch $@

## The viewer's pinned browser libraries (hls.js), as npm has them: `make viewer-vendor` copies them into the package,
## and tests/unit/viewer checks the copy is byte-identical to them.
VIEWER_VENDOR := tools/viewer-vendor
VIEWER_VENDORED := lambda_src/stillframe/viewer/vendor
$(VIEWER_VENDOR)/node_modules/.installed: $(VIEWER_VENDOR)/package.json $(VIEWER_VENDOR)/package-lock.json
	cd $(VIEWER_VENDOR) && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error)
	touch $@

.PHONY: viewer-vendor
## Refresh the viewer's vendored hls.js from the version pinned in tools/viewer-vendor (bump it there first).
viewer-vendor: $(VIEWER_VENDOR)/node_modules/.installed
	cp $(VIEWER_VENDOR)/node_modules/hls.js/dist/hls.min.js $(VIEWER_VENDORED)/hls.min.js
	cp $(VIEWER_VENDOR)/node_modules/hls.js/LICENSE $(VIEWER_VENDORED)/hls.js.LICENSE
	node -p '"hls.js " + require("./$(VIEWER_VENDOR)/node_modules/hls.js/package.json").version' > $(VIEWER_VENDORED)/VERSIONS

## hls.js and dash.js, played in Chromium by tests/browser/test_players.py (test-only: the viewer does not use them).
tests/browser/js/node_modules/.installed: tests/browser/js/package.json
	cd tests/browser/js && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error)
	touch $@

node_modules/.installed: package.json
	npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error
	touch $@

## The main job on the embedded default: serve, ingest a clip, fetch stills, write a contact sheet.
demo: install
	$(BIN)/python scripts/demo.py --out demo-out

## Every test that runs on this machine, LocalStack S3 included (started and stopped here).
test: install browser-deps gstreamer-deps ffmpeg-deps tests/e2e/js/node_modules/.installed tests/browser/js/node_modules/.installed $(VIEWER_VENDOR)/node_modules/.installed
	./scripts/localstack.sh up s3
	source $(LOCALSTACK_ENV) && STILLFRAME_REQUIRE_LOCALSTACK=1 $(BIN)/python -m pytest -m "not slow and not e2e" -q; \
	  status=$$?; ./scripts/localstack.sh down s3; exit $$status

.PHONY: test-executor
## The LocalStack host executor's own tests: they start (and stop) a full-mode LocalStack on a free port.
test-executor: install
	./scripts/localstack.sh install full
	$(BIN)/python -m pytest tools/localstack-host-executor/tests -q

## Debian's Chromium for the viewer's browser tests (Playwright drives it; its own browser download cannot work here).
browser-deps:
	command -v chromium >/dev/null || apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)

## Debian's GStreamer for the live-encoder test (x264enc is in -ugly, matroskamux in -good).
GSTREAMER_PACKAGES := gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
gstreamer-deps:
	(command -v gst-launch-1.0 && gst-inspect-1.0 x264enc && gst-inspect-1.0 matroskamux) >/dev/null 2>&1 || \
	  apt-get install -y -qq $(GSTREAMER_PACKAGES) || (apt-get update -qq && apt-get install -y -qq $(GSTREAMER_PACKAGES))

## Debian's ffmpeg CLI: the compat tests read serve's HLS with ffprobe/ffmpeg, the e2e tests the deployed HLS URL
## with ffprobe, the benchmarks compare against it.
ffmpeg-deps:
	command -v ffmpeg >/dev/null || (apt-get install -y -qq ffmpeg >/dev/null || (apt-get update -qq && apt-get install -y -qq ffmpeg))

## Unit + functional tests only (no LocalStack, no network).
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not localstack and not network" -q

lint: install
	$(BIN)/ruff check lambda_src tests infra scripts bench tools app.py
	$(BIN)/ruff format --check lambda_src tests infra scripts bench tools app.py
	$(BIN)/mypy

## Benchmarks against the ffmpeg CLI (not part of make test).
bench: install ffmpeg-deps browser-deps tests/browser/js/node_modules/.installed
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.media_out
	$(BIN)/python -m bench.playback

.PHONY: bench-scale
## Constant cost at any history: streams of 1k-100k fragments on the local store and on its own LocalStack S3 (~13 min).
bench-scale: install
	state=$$(mktemp -d); LOCALSTACK_STATE_DIR=$$state ./scripts/localstack.sh up s3 && \
	  (source $$state/env && $(BIN)/python -m bench.scale); status=$$?; \
	  LOCALSTACK_STATE_DIR=$$state ./scripts/localstack.sh down s3; rm -rf $$state; exit $$status

.PHONY: bench-ingest
## Live producer sessions on one core of serve: N = 1..100 emulated KVS producers, local store then its own LocalStack S3 (~8 min).
bench-ingest: install
	state=$$(mktemp -d); LOCALSTACK_STATE_DIR=$$state ./scripts/localstack.sh up s3 && \
	  (source $$state/env && $(BIN)/python -m bench.ingest $(ARGS)); status=$$?; \
	  LOCALSTACK_STATE_DIR=$$state ./scripts/localstack.sh down s3; rm -rf $$state; exit $$status

synth: install node_modules/.installed
	npx cdk synth --quiet

bootstrap: install node_modules/.installed
	npx cdk bootstrap

deploy: install node_modules/.installed
	npx cdk deploy --require-approval never

destroy: install node_modules/.installed
	npx cdk destroy --force

## MODE=s3 (default) or MODE=full; callers then `source .localstack/<mode>/env`.
localstack-up:
	./scripts/localstack.sh up $(MODE)

localstack-down:
	./scripts/localstack.sh down $(MODE)

## The deployed path on LocalStack over HTTPS: deploy keys- and IAM-mode stacks, run tests/e2e, tear down.
e2e: install ffmpeg-deps node_modules/.installed tests/e2e/js/node_modules/.installed
	./scripts/e2e.sh run

## The same keys-mode deployment, left running; writes .e2e/outputs.json (ApiUrl, CaBundle, a key, Region).
e2e-up: install node_modules/.installed
	./scripts/e2e.sh up

## Destroy what e2e-up deployed and stop its LocalStack.
e2e-down:
	./scripts/e2e.sh down

clean:
	rm -rf demo-out cdk.out .pytest_cache .mypy_cache .ruff_cache
