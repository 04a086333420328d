# The two commands (see README.md):
#   make demo   install what is missing, build, and run the demo
#   make test   install what is missing, build, run every test (and the installed examples)
# Also: make sanitize (ASan+UBSan, TSan), make bench, make format, make clean.
BUILD   ?= build
JOBS    ?= $(shell nproc)
CMAKE   ?= cmake
STAGE   := $(BUILD)/stage

.PHONY: all deps build test examples demo sanitize asan tsan bench format tidy clean

all: build

deps:
	@scripts/install-deps

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

demo: examples
	$(BUILD)/examples/shm_handoff 256

sanitize: asan tsan

asan: deps
	@$(CMAKE) -S . -B $(BUILD)-asan -DZCPIPE_SANITIZE=address,undefined -DZCPIPE_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build $(BUILD)-asan -j$(JOBS)
	ctest --test-dir $(BUILD)-asan -j$(JOBS) --output-on-failure

tsan: deps
	@$(CMAKE) -S . -B $(BUILD)-tsan -DZCPIPE_SANITIZE=thread -DZCPIPE_BUILD_BENCH=OFF >/dev/null
	@$(CMAKE) --build $(BUILD)-tsan -j$(JOBS)
	ctest --test-dir $(BUILD)-tsan -j$(JOBS) --output-on-failure

bench: deps
	@$(CMAKE) -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release -DZCPIPE_BUILD_TESTS=OFF >/dev/null
	@$(CMAKE) --build $(BUILD)-release -j$(JOBS) --target bench_handoff
	$(BUILD)-release/bench/bench_handoff --benchmark_out=$(BUILD)-release/handoff.json --benchmark_out_format=json
	scripts/handoff-table $(BUILD)-release/handoff.json

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

tidy: build
	@git ls-files 'shm/*.cc' 'cli/*.cc' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-release
