# packstudio — the first two targets do everything on a fresh machine:
#   make demo   build the demo site (making a demo key if none), publish it into the
#               local-directory bucket bucket/ and serve that on 127.0.0.1:8080
#   make test   install what the tests need (scripts/test-deps: openssl, zstd, the AWS CLI,
#               Chromium, MinIO built once), then run every test; a missing part fails
#   make test-short  run the tests without installing anything; tests that need a
#               missing part are skipped loudly (an explicit opt-out, never CI's way)

GO      ?= go
BIN     := bin/packstudio
DEMOKEY := .demo-key/packstudio
ADDR    ?= 127.0.0.1:8080
BASE_URL ?= http://$(ADDR)/

.PHONY: demo test test-short test-deps build bench bench-push bench-delta bench-big fuzz vet clean

build:
	$(GO) build -o $(BIN) ./cmd/packstudio

demo: build
	@test -f $(DEMOKEY).pem || $(BIN) keygen --out $(DEMOKEY)
	$(BIN) build --config site.toml --base-url $(BASE_URL)
	$(BIN) publish --config site.toml --to file://bucket
	$(BIN) serve --dir bucket --addr $(ADDR)

# Tests write and delete hundreds of thousands of small files (built
# trees, mirrors, MinIO's objects); on these machines' ext4 (no journal,
# online discard) that costs more kernel time than the tests' own work, so
# their temp folders go to a tmpfs when one with room is there. TEST_TMPDIR=
# (empty) keeps the system's.
TEST_TMPDIR ?= $(shell scripts/test-tmpdir)
TEST_ENV = $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR))

test: test-deps vet
	$(TEST_ENV) $(GO) test -count=1 -timeout 45m ./...

test-short: vet
	$(TEST_ENV) $(GO) test -short -count=1 -timeout 45m ./...

test-deps:
	bash scripts/test-deps

vet:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# Benchmarks: the fresh build of 400 pack versions (100 x 4) beside Hugo
# (apt-get install hugo) on the same disk, five rounds each; then a
# synthetic catalog of 1,000 packs x 4 versions built from scratch, rebuilt
# after one pack changed, published and mirrored; figures are printed as
# tables. bench-big: 2,500 x 4 pack versions, and one 512 MiB artifact
# packed and signed beside tar | zstd -3 -T0 + openssl. bench-push (run by
# bench last): push of the synthetic catalog's artifacts into the CNCF
# distribution registry beside oras push in a loop of the same parallelism,
# three rounds, fresh registries each; PUSH_PACKS=50 for a quick run.
# bench-delta (run by bench): delta volumes of issue #21 on the synthetic
# catalog: a full set (mirror --volumes), one pack changed, a delta
# (--since last) beside a full set of the same tree, then unpack of each;
# bytes by kind (artifacts, pages, manifest) and the targets (delta ≤ 1%
# of a full set beside its pages, written in ≤ 0.1× a full set's time);
# DELTA_PACKS=100 for a quick run.
# BenchmarkBuilder: the largest builder page of the 1,000 x 4 catalog in
# Chromium (load, a choice, Download bundle beside curl from the same
# server); -bench-packs 100 for a quick run.
PUSH_PACKS ?= 1000
DELTA_PACKS ?= 1000

bench: build
	$(GO) test ./generator -run XXX -bench . -benchtime 3x
	$(GO) test ./internal/testing/browsertest -run XXX -bench Builder -benchtime 1x -timeout 30m
	$(GO) run ./internal/testing/benchtool -bin $(BIN) -packs 100 -publish=false -cp=false
	$(GO) run ./internal/testing/benchtool -bin $(BIN) -hugo ""
	$(MAKE) bench-delta
	$(MAKE) bench-push

bench-push: build
	$(GO) run ./internal/testing/benchtool -bin $(BIN) -catalog=false -push -packs $(PUSH_PACKS)

bench-delta: build
	$(GO) run ./internal/testing/benchtool -bin $(BIN) -catalog=false -delta -packs $(DELTA_PACKS)

bench-big: build
	$(GO) run ./internal/testing/benchtool -bin $(BIN) -packs 2500 -versions 4 -publish=false -hugo "" -big 512

# Short fuzzing of every parser of outside input.
fuzz:
	$(GO) test ./catalog -run XXX -fuzz FuzzDecodePack -fuzztime 30s
	$(GO) test ./catalog -run XXX -fuzz FuzzLocate -fuzztime 30s
	$(GO) test ./catalog -run XXX -fuzz FuzzParseConstraint -fuzztime 30s
	$(GO) test ./catalog -run XXX -fuzz FuzzParseVersion -fuzztime 30s
	$(GO) test ./catalog/registry -run XXX -fuzz FuzzReadVersion -fuzztime 30s
	$(GO) test ./publish/resolve -run XXX -fuzz FuzzReadProfile -fuzztime 30s
	$(GO) test ./internal/tree -run XXX -fuzz FuzzParse -fuzztime 30s
	$(GO) test ./publish -run XXX -fuzz FuzzParseBundle -fuzztime 30s
	$(GO) test ./internal/bytesize -run XXX -fuzz FuzzParse -fuzztime 30s
	$(GO) test ./publish -run XXX -fuzz FuzzReplaceBase -fuzztime 30s
	$(GO) test ./publish -run XXX -fuzz FuzzParseVolumeIndex -fuzztime 30s
	$(GO) test ./publish/serve -run XXX -fuzz FuzzCleanPath -fuzztime 30s

clean:
	rm -rf bin public bucket .packstudio-cache .bench .bench.trash
