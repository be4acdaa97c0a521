# The two commands of the README: `make demo` and `make test`. Both bootstrap, then build.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# ccache, when this machine has it, makes rebuilds across several checkouts cheap; CI does not need it.
LAUNCHER := $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: all bootstrap build test demo demo-fleet bench clean

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER)

build: bootstrap $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo $(BUILD_DIR)

# A 4-host fleet over SSH in network namespaces (needs root): a batched rollout, a failing batch halted
# and reverted on its own, a fleet-wide rollback.
demo-fleet: build
	@scripts/demo_fleet $(BUILD_DIR)

bench: build
	@bench/run $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
