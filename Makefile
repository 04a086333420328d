# The two commands (see README.md):
#   make demo   install what is missing, build, and run the demo
#   make test   install what is missing, build, run every test (and the installed examples)
# Also: make sanitize (ASan+UBSan, TSan), make bench, make format, make clean.
SHELL   := /bin/bash
BUILD   ?= build
JOBS    ?= $(shell nproc)
CMAKE   ?= cmake
STAGE   := $(BUILD)/stage

FUZZ_SECONDS ?= 20

.PHONY: all deps deps-tools build test examples demo sanitize asan tsan fuzz bench format tidy clean

all: build

deps:
	@scripts/install-deps

deps-tools:
	@scripts/install-deps --with-tools

build: deps
	@$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@$(CMAKE) --build $(BUILD) -j$(JOBS)

# Installs into $(STAGE) and builds examples/ against that package, as a user would.
examples: build
	@$(CMAKE) --install $(BUILD) --prefix $(abspath $(STAGE)) >/dev/null
	@$(CMAKE) -S examples -B $(BUILD)/examples -DCMAKE_PREFIX_PATH=$(abspath $(STAGE)) >/dev/null
	@$(CMAKE) --build $(BUILD)/examples -j$(JOBS)

test: build examples
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure
	$(BUILD)/examples/shm_handoff 64
	$(BUILD)/examples/bulk_import 20000
	$(BUILD)/examples/import_to_sqlite 20000
	$(BUILD)/examples/custom_worker_stage 50000

demo: build
	scripts/demo $(BUILD)/cli/zcpipe $(BUILD)/demo

sanitize: asan tsan

asan: deps
	@$(CMAKE) -S . -B $(BUILD)-asan -DZCPIPE_SANITIZE=address,undefined -DZCPIPE_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build $(BUILD)-asan -j$(JOBS)
	ctest --test-dir $(BUILD)-asan -j$(JOBS) --output-on-failure

# The job, memory, resume and job-trace tests run the oneTBB flow graph, and so do the CLI tests
# of commands that import and the demo script: Debian's libtbb is not built with TSan, whose
# reports on its task pool are false positives, so those run under ASan/UBSan only.
tsan: deps
	@$(CMAKE) -S . -B $(BUILD)-tsan -DZCPIPE_SANITIZE=thread -DZCPIPE_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build $(BUILD)-tsan -j$(JOBS)
	ctest --test-dir $(BUILD)-tsan -j$(JOBS) --output-on-failure -E '^(JobTest|JobTraceTest|IsolationTest|MemoryTest|Resume|WidenTest|PlacementDiff|RejectsFileTest|FrameIndex|HostileWorkerTest|RunCommand|ExportCommand|InspectCommand|VerifyCommand|TypesRoundTrip|DialectCorpusTest|CommandLine|KeyOptions|EncodingOptionTest|RealCorpus)\.|/RejectsRedaction\.|^cli_demo_script$$'

# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS.
fuzz: deps-tools
	@CXX=clang++ $(CMAKE) -S . -B $(BUILD)-fuzz -DZCPIPE_BUILD_FUZZERS=ON -DZCPIPE_BUILD_TESTS=OFF \
	  -DZCPIPE_BUILD_BENCH=OFF -DZCPIPE_WERROR=OFF -DZCPIPE_SANITIZE=address,undefined >/dev/null
	@$(CMAKE) --build $(BUILD)-fuzz -j$(JOBS)
	@for f in $(BUILD)-fuzz/tests/fuzz/*_fuzz; do \
	  mkdir -p $(BUILD)-fuzz/corpus/$$(basename $$f); \
	  echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)-fuzz/corpus/$$(basename $$f) 2>&1 \
	    | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# Every benchmark suite writes $(BUILD)-release/<suite>.json; then scripts/bench-report prints
# the tables and, after a full run only, rewrites README.md's benchmark section and the charts in
# docs/bench/. BENCH_FILTER (a Google Benchmark regex, e.g. 'handoff/(pipe|zmq)/') runs a subset
# of every suite, BENCHES a subset of the suites.
ALL_BENCHES  := handoff messages stages pipeline workgroup
BENCHES      ?= $(ALL_BENCHES)
BENCH_FILTER ?=
BENCH_PUBLISH = $(if $(BENCH_FILTER)$(filter-out $(BENCHES),$(ALL_BENCHES)),,--readme README.md --charts docs/bench)
bench: deps
	@$(CMAKE) -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release -DZCPIPE_BUILD_TESTS=OFF >/dev/null
	@$(CMAKE) --build $(BUILD)-release -j$(JOBS) --target $(addprefix bench_,$(BENCHES))
	@for b in $(BENCHES); do \
	  echo "bench: bench_$$b"; \
	  $(BUILD)-release/bench/bench_$$b $(if $(BENCH_FILTER),--benchmark_filter='$(BENCH_FILTER)') \
	    --benchmark_out=$(BUILD)-release/$$b.json --benchmark_out_format=json || exit 1; \
	done
	scripts/bench-report $(BENCH_PUBLISH) --command "make bench" \
	  $(foreach b,$(BENCHES),$(BUILD)-release/$(b).json)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

tidy: build
	@git ls-files 'shm/*.cc' 'cli/*.cc' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-release $(BUILD)-fuzz
