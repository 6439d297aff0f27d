# The two set-up commands of the README. Both work on a fresh Debian 12 machine
# as root: they install what is missing, then build in Release.
BUILD_DIR ?= build
JOBS ?= 2

export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

.PHONY: run test build deps clean

deps:
	./deploy/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/switchboard

test: build
	./tests/run-all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
