# drydock build.
#
#   make            build build/drydock
#   make check      install what is missing, build, run every test (unit + integration)
#   make unit       unit tests only
#   make san        build and run the unit and integration tests under ASan + UBSan
#   make coverage   build with gcov in build-cov, run unit + integration tests, print line
#                   coverage per module; fails below tests/coverage-floors
#                   (COVERAGE_TESTS=unit for the unit tests only)
#   make demo       install what is missing, build, run the end-to-end demo
#   make bench      benchmarks against pg_basebackup, pgBackRest and PgBouncer
#   make fuzz       build the libFuzzer targets; make fuzz-run runs each for FUZZ_SECONDS (20)
#   make format     reformat; make format-check fails on a difference
#   make install    binary, man page, systemd units, bash completion, logrotate file
#                   (PREFIX=/usr/local, DESTDIR= for staging; dist/runtime-packages
#                   lists the Debian packages it needs at run time)
#
# Sources are found by wildcard: a new module is a new .c/.h pair under src/,
# a new unit test is tests/unit/<layer>/<name>_test.c, a new integration test
# is tests/integration/<name>.sh. No list to edit.

CC      ?= cc
PKGS    := libzstd liblz4 libcrypto libssl libevent libevent_openssl jansson sqlite3
WARN    := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -Wmissing-prototypes \
           -Wstrict-prototypes -Wformat=2 -Wno-format-truncation -Wvla -Werror
CFLAGS  ?= -O2 -g
# libpq and libcurl are opened on first use (src/common/dynlib.h): headers only.
DLPKGS  := libpq libcurl
BASEFLAGS := -std=c17 -D_GNU_SOURCE -pthread -Isrc $(shell pkg-config --cflags $(PKGS) $(DLPKGS))
LIBS    := $(shell pkg-config --libs $(PKGS)) -lpthread -lm -ldl

ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

SRC      := $(shell find src -name '*.c' | sort)
MAIN     := src/cli/main.c
LIBSRC   := $(filter-out $(MAIN),$(SRC))
LIBOBJ   := $(LIBSRC:%.c=$(BUILD)/obj/%.o)
UNITSRC  := $(shell find tests/unit -name '*_test.c' 2>/dev/null | sort)
UNITBIN  := $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZSRC  := $(shell find tests/fuzz -name '*_fuzz.c' 2>/dev/null | sort)
HEADERS  := $(shell find src -name '*.h' | sort)
TESTHDR  := $(shell find tests -name '*.h' 2>/dev/null | sort)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc

.PHONY: install man all deps check unit integration san demo bench format format-check headers clean fuzz \
	_check _unit _integration _demo _bench coverage _coverage fuzz-run

all: $(BUILD)/drydock

deps:
	@./scripts/install-deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BUILD)/libdrydock.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/drydock: $(BUILD)/obj/$(MAIN:.c=.o) $(BUILD)/libdrydock.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdrydock.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(CFLAGS) $(WARN) -Wno-missing-prototypes -Itests $(shell pkg-config --cflags cmocka) \
		-o $@ $< $(BUILD)/libdrydock.a $(LIBS) $(shell pkg-config --libs cmocka) $(LDFLAGS)

# The entry points install what is missing first, then build in a second make:
# pkg-config above is evaluated when a make starts, so it must start after deps.
unit integration check demo bench: deps
	@$(MAKE) --no-print-directory _$@

_unit: $(UNITBIN)
	@BUILD=$(BUILD) ./tests/run unit

_integration: $(BUILD)/drydock
	@BUILD=$(BUILD) ./tests/run integration

_check: $(BUILD)/drydock $(UNITBIN)
	@BUILD=$(BUILD) ./tests/run all

san: deps
	@$(MAKE) --no-print-directory SAN=1 _check

# A separate build with gcov counters. The integration tests run drydock as
# postgres: the counters' files are handed to that user between the runs.
COVERAGE_TESTS ?= all
coverage: deps
	@$(MAKE) --no-print-directory BUILD=build-cov \
		CFLAGS="-O0 -g --coverage -fprofile-update=atomic" LDFLAGS="--coverage" _coverage

_coverage: $(BUILD)/drydock $(UNITBIN)
	@find $(BUILD)/obj -name '*.gcda' -delete
	@BUILD=$(BUILD) ./tests/run unit >$(BUILD)/coverage-tests.log; rc=$$?; tail -1 $(BUILD)/coverage-tests.log; exit $$rc
	@if [ "$(COVERAGE_TESTS)" = all ]; then chown -R postgres $(BUILD)/obj && \
		{ BUILD=$(BUILD) ./tests/run integration >$(BUILD)/coverage-tests.log; rc=$$?; \
		  tail -1 $(BUILD)/coverage-tests.log; exit $$rc; }; fi
	@./tests/coverage $(BUILD) tests/coverage-floors $(COVERAGE_TESTS)

_demo: $(BUILD)/drydock
	@BUILD=$(BUILD) ./scripts/demo $(DEMO_ARGS)

_bench: $(BUILD)/drydock
	@BUILD=$(BUILD) ./bench/run $(BENCH_ARGS)

# The man page is made from the program's own --help text (scripts/mkman).
man: $(BUILD)/drydock.1

$(BUILD)/drydock.1: $(BUILD)/drydock scripts/mkman
	./scripts/mkman $(BUILD)/drydock >$@.tmp && mv $@.tmp $@

install: $(BUILD)/drydock $(BUILD)/drydock.1
	install -D -m 0755 $(BUILD)/drydock $(DESTDIR)$(BINDIR)/drydock
	install -D -m 0644 $(BUILD)/drydock.1 $(DESTDIR)$(MANDIR)/man1/drydock.1
	install -d $(DESTDIR)$(UNITDIR)
	for u in dist/systemd/*; do \
		sed 's|@BINDIR@|$(BINDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -D -m 0644 dist/completion/drydock $(DESTDIR)$(COMPDIR)/drydock
	install -D -m 0644 dist/logrotate/drydock $(DESTDIR)$(SYSCONFDIR)/logrotate.d/drydock
	install -D -m 0644 LICENSE $(DESTDIR)$(PREFIX)/share/doc/drydock/LICENSE
	install -D -m 0644 dist/runtime-packages $(DESTDIR)$(PREFIX)/share/doc/drydock/runtime-packages

# Every header compiles on its own.
headers:
	@for h in $(HEADERS); do \
		printf '#include "%s"\n' "$${h#src/}" | $(CC) $(BASEFLAGS) $(WARN) -fsyntax-only -x c - || exit 1; \
	done; echo "headers: all self-contained"

# libFuzzer targets (clang): the library is compiled once for all of them.
FUZZOBJ  := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(filter-out src/cli/%,$(LIBSRC)))
FUZZBIN  := $(FUZZSRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 20

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(BASEFLAGS) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZOBJ)
	clang $(BASEFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

.SECONDARY: $(FUZZOBJ)

fuzz: $(FUZZBIN)
	@echo "fuzz targets in $(BUILD)/fuzz"

# Each target for FUZZ_SECONDS from its corpus (tests/fuzz/corpus/<target>,
# whose regressions/ inputs once crashed it); ends with "N passed, N failed".
fuzz-run: $(FUZZBIN)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/run

format:
	clang-format -i $(SRC) $(HEADERS) $(TESTHDR) $(UNITSRC) $(FUZZSRC)

format-check:
	@clang-format --dry-run -Werror $(SRC) $(HEADERS) $(TESTHDR) $(UNITSRC) $(FUZZSRC) && echo "format: clean"

clean:
	rm -rf build build-san build-cov

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
