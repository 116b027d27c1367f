# Makefile — the two quick-start commands and friends; the build itself is CMake's.
#   make demo   install what is missing, build, run the demo on a built-in data set
#   make test   install what is missing, build, run the whole test suite
#   make asan   the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench  the benchmarks on ../shared/data
#   make fuzz   the libFuzzer harnesses of tests/fuzz/, FUZZ_SECONDS each (clang, ASan+UBSan)
BUILD ?= build
DATA ?= $(CURDIR)/../shared/data
JOBS ?= 2
FUZZ_SECONDS ?= 60

.PHONY: all setup build test demo asan bench fuzz clean

all: build

setup:
	@sh scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DBNNMC_SHARED_DATA=$(DATA) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure

demo: build
	./$(BUILD)/bnnmc demo --out $(BUILD)/demo

asan: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBNNMC_SANITIZE=ON -DBNNMC_SHARED_DATA=$(DATA) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure

bench: build
	./$(BUILD)/bench_density $(DATA)
	./$(BUILD)/bench_sampler $(DATA)
	sh bench/study_table.sh $(DATA) ./$(BUILD)/bnnmc

# a build of its own: clang, only the library, the cli readers and the harnesses
fuzz:
	@sh scripts/setup.sh --fuzz
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DBNNMC_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
