# multus-hookd: a thin wrapper around CMake. See README.md.
#   make demo   - install what is missing, build, run the demo
#   make test   - install what is missing, build (ASan+UBSan), run every test
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
BUILD    ?= build
CMAKE    ?= cmake
WERROR   := $(if $(CI),ON,OFF)

REL  := $(BUILD)/release
TST  := $(BUILD)/test
VG   := $(BUILD)/valgrind
FUZ  := $(BUILD)/fuzz

.PHONY: all deps build test demo valgrind valgrind-build fuzz fuzz-build bench lint format check-format clean \
        install package

all: build

deps:
	@scripts/deps.sh

$(REL)/CMakeCache.txt:
	$(CMAKE) -S . -B $(REL) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOOKD_WERROR=$(WERROR) -DHOOKD_TESTS=ON

build: deps $(REL)/CMakeCache.txt
	$(CMAKE) --build $(REL) -j $(JOBS)

valgrind-build: deps
	$(CMAKE) -S . -B $(VG) -DCMAKE_BUILD_TYPE=Debug -DHOOKD_WERROR=$(WERROR) >/dev/null
	$(CMAKE) --build $(VG) -j $(JOBS)

# The libFuzzer binaries (clang), for `make fuzz` and the short fuzz_run.* tests.
fuzz-build: deps
	CC=clang $(CMAKE) -S . -B $(FUZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOOKD_FUZZ=ON \
	  -DHOOKD_TESTS=ON >/dev/null
	$(CMAKE) --build $(FUZ) -j $(JOBS) --target hookd_fuzzers

# The test build: ASan + UBSan with recovery off; the unit tests also run under
# valgrind from a sanitizer-free build (ctest tests valgrind.<binary>), and, when
# clang is installed, every fuzz target runs briefly under libFuzzer (fuzz_run.*).
test: deps valgrind-build
	@if command -v clang >/dev/null 2>&1; then $(MAKE) --no-print-directory fuzz-build; \
	  else echo "test: clang not found: no libFuzzer runs (corpus replays still run)"; fi
	$(CMAKE) -S . -B $(TST) -DCMAKE_BUILD_TYPE=Debug -DHOOKD_SANITIZE=ON \
	  -DHOOKD_WERROR=$(WERROR) -DHOOKD_VALGRIND_BUILD=$(abspath $(VG)) \
	  -DHOOKD_FUZZ_BUILD=$$(command -v clang >/dev/null 2>&1 && echo $(abspath $(FUZ)))
	$(CMAKE) --build $(TST) -j $(JOBS)
	cd $(TST) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600

valgrind: valgrind-build
	scripts/valgrind-unit.sh $(VG)

demo: build
	@scripts/demo.sh $(REL)

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZ) $(or $(FUZZ_SECONDS),60)

bench: build
	scripts/bench.sh $(REL)

# The files as the Debian package lays them out (binary in $(PREFIX)/sbin, the
# unit in /lib/systemd/system, the example configuration in /etc/multus-hookd):
#   make install DESTDIR=/tmp/root
PREFIX ?= /usr
install: build
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(REL) --prefix $(PREFIX)

# The .deb (CPack DEB generator): $(REL)/multus-hookd_<version>-1_<arch>.deb
package: build
	cd $(REL) && cpack -G DEB

lint:
	scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
