# SPDX-License-Identifier: BSD-2-Clause
# mxpath - delivery routing for Postfix and sendmail (plain GNU make)
#
#   make             build everything into build/
#   make deps        install the Debian packages the build, tests and demo need
#   make check       deps, build, unit and integration tests (SANITIZE=1: ASan+UBSan)
#   make tsan        mxpathd built with ThreadSanitizer under a stress run
#   make install     PREFIX=/usr/local DESTDIR= (binaries, man pages, config, systemd
#                    unit, tmpfiles.d entry, bash completions)
#   make clean

SHELL     := /bin/bash
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# systemd unit, tmpfiles.d entry, bash completions (Debian keeps units in
# /lib/systemd/system when PREFIX is /usr; the RPM passes its %{_unitdir}).
UNITDIR   ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR   ?=
BUILD     ?= build
SANITIZE  ?= 0

CC        ?= cc
PKGS      := libcares milter libconfig libidn2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) cmocka 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
HARDEN    := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT       := -O2 -g
LDHARDEN  := -pie -Wl,-z,relro,-z,now
ifeq ($(SANITIZE),thread)
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDHARDEN  += -fsanitize=thread
endif
ifeq ($(SANITIZE),1)
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDHARDEN  += -fsanitize=address,undefined
endif
CFLAGS    ?=
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(HARDEN) -Iinclude $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(LDHARDEN) $(LDFLAGS)
LIBS      := $(PKG_LIBS) -lpthread
# pkg-config runs when make reads this file: a target that installs the
# libraries first (deps) must build in a second make, which sees them.
# Linking without them is refused here rather than with undefined symbols.
LIBS_FOUND = $(if $(PKG_LIBS),,$(error pkg-config finds no $(PKGS): run 'make deps' first))

# The sources sit in one folder per layer (base, engine, dns, config,
# runtime, doors, cmd); every one is part of the library except the
# programs' mains in plugin/cmd/.
MAINS     := plugin/cmd/mxpath.c plugin/cmd/mxpathd.c
LIB_SRCS  := $(filter-out $(MAINS),$(wildcard plugin/*/*.c))
LIB_OBJS  := $(LIB_SRCS:plugin/%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libmxpath.a
PROGS     := $(MAINS:plugin/cmd/%.c=$(BUILD)/%)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
HEADERS   := $(wildcard include/mxpath/*/*.h) $(wildcard tests/unit/*.h) $(wildcard tests/bench/*.h)

# Debian packages for the build, the tests and the demo.
DEPS_PKGS := gcc make pkg-config libmilter-dev libc-ares-dev libconfig-dev libcmocka-dev libidn2-dev \
	postfix nsd dnsutils python3 python3-dnslib miltertest swaks m4 iproute2 util-linux \
	procps psmisc valgrind clang cppcheck clang-tidy jq debhelper dpkg-dev fakeroot rpm \
	mandoc man-db systemd python3-prometheus-client postfix-lmdb curl bash-completion \
	openssl unbound ldnsutils gdb

.PHONY: all deps check install clean lint tsan fuzz fuzz-long fuzz-build bench soak demo topology unit-sanitized
# Keep the programs' objects: they are intermediates of the pattern rules.
.SECONDARY:
all: $(LIB) $(PROGS) $(UNIT_BINS) $(BENCH_BINS)

# Rebuild everything when the flags change (SANITIZE=1 vs not).
FLAGS_STAMP := $(BUILD)/.flags-$(shell echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' | md5sum | cut -c1-12)
$(FLAGS_STAMP):
	@mkdir -p $(BUILD)
	@rm -rf $(BUILD)/.flags-* $(BUILD)/obj $(BUILD)/tests $(BUILD)/bench
	@touch $@

$(BUILD)/obj/%.o: plugin/%.c $(HEADERS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(PROGS): $(BUILD)/%: $(BUILD)/obj/cmd/%.o $(LIB)
	$(LIBS_FOUND)$(CC) $(ALL_LDFLAGS) $< $(LIB) $(LIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(HEADERS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(LIB) $(LIBS) $(CMOCKA_LIBS) -o $@

$(BUILD)/bench/%: tests/bench/%.c $(LIB) $(HEADERS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(LIB) $(LIBS) -o $@

# Benchmarks print ratios against baselines measured in the same run.
bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/bench/run-bench $(BENCH_ARGS)

# Fault soak through a real MTA (SOAK_MESSAGES=5000 by default):
# MTA=postfix|sendmail, SOAK_CYCLES=1 repeats the faults for the whole run.
MTA ?= postfix
SOAK_CYCLES ?= 0
soak: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) MTA=$(MTA) SOAK_CYCLES=$(SOAK_CYCLES) tests/soak/run-soak $(SOAK_ARGS)

# The seeds' stories end to end on loopback, with a table of what went where.
demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) contrib/demo/run-demo

# The seeds' networks for real: every host a network namespace with its
# own Postfix and self-detecting mxpathd; a table per story.
topology: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) tests/topology/run-topology $(TOPOLOGY_ARGS)

deps:
	@missing=$$(for p in $(DEPS_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$(echo $$missing | sed 's/^/ /')"; \
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends $$missing || exit 1; \
	fi

# make check also runs the static analysis and, unless this run is the
# sanitized one already, the unit tests built with ASan+UBSan (the whole
# suite under sanitizers is `make check SANITIZE=1`, run by CI as well).
check: deps
	$(MAKE) all
	$(MAKE) lint
ifneq ($(SANITIZE),1)
	$(MAKE) --no-print-directory BUILD=$(BUILD)/san SANITIZE=1 unit-sanitized
endif
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run-tests $(UNIT_BINS)

# ThreadSanitizer: mxpathd under concurrent milter sessions on slow DNS,
# socketmap lookups, control reads, reloads and a stop in the middle.
tsan: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SANITIZE=thread $(BUILD)/tsan/mxpathd $(BUILD)/tsan/mxpath
	@BUILD=$(BUILD)/tsan tests/stress/tsan-stress

unit-sanitized: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "=== unit (ASan+UBSan): $$(basename $$t)"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$$t > $$t.log 2>&1 || { cat $$t.log; exit 1; }; tail -n 1 $$t.log; done

# libFuzzer harnesses: each tests/fuzz/fuzz_*.c is linked with the library
# sources compiled once by clang with coverage, ASan and UBSan
# ($(BUILD)/fuzz/obj/); every run starts from its committed corpus
# (tests/fuzz/corpus/NAME/), new finds go to a scratch dir.
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS := $(LIB_SRCS:plugin/%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(PKG_CFLAGS) -fno-sanitize-recover=all
FUZZ_FLAGS := $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined

$(BUILD)/fuzz/obj/%.o: plugin/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) $(HEADERS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $< $(FUZZ_OBJS) $(LIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# make fuzz: each harness FUZZ_SECONDS from its corpus, two at a time;
# make fuzz-long: ten minutes each, new coverage merged into the corpora.
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run-fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_MERGE) $(FUZZ_BINS)

fuzz-long: deps
	@$(MAKE) --no-print-directory FUZZ_SECONDS=600 FUZZ_MERGE=--merge fuzz

# Static analysis: cppcheck and clang-tidy (bugprone-*, cert-*) must be clean.
TIDY_CHECKS := -*,bugprone-*,cert-*,-bugprone-easily-swappable-parameters,-cert-err33-c,-bugprone-reserved-identifier,-cert-dcl37-c,-cert-dcl51-cpp
lint: deps
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D_GNU_SOURCE -Iinclude plugin
	clang-tidy --quiet --checks='$(TIDY_CHECKS)' --warnings-as-errors='*' $(LIB_SRCS) $(MAINS) \
		-- -std=c11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)

install: $(PROGS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/mxpathd $(DESTDIR)$(SBINDIR)/mxpathd
	install -m 0755 $(BUILD)/mxpath $(DESTDIR)$(BINDIR)/mxpath
	for m in packaging/man/*.[0-9]; do [ -f "$$m" ] || continue; s=$${m##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(BASHCOMPDIR)
	sed -e 's|/usr/sbin/mxpathd|$(SBINDIR)/mxpathd|g' -e 's|/etc/mxpath/|$(SYSCONFDIR)/mxpath/|g' \
		contrib/systemd/mxpathd.service \
		> $(DESTDIR)$(UNITDIR)/mxpathd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mxpathd.service
	install -m 0644 contrib/tmpfiles.d/mxpath.conf $(DESTDIR)$(TMPFILESDIR)/mxpath.conf
	install -m 0644 contrib/bash-completion/mxpath $(DESTDIR)$(BASHCOMPDIR)/mxpath
	ln -sf mxpath $(DESTDIR)$(BASHCOMPDIR)/mxpathd
	install -d $(DESTDIR)$(SYSCONFDIR)/mxpath
	[ -f $(DESTDIR)$(SYSCONFDIR)/mxpath/mxpath.conf ] || \
		install -m 0644 contrib/mxpath.conf $(DESTDIR)$(SYSCONFDIR)/mxpath/mxpath.conf

clean:
	rm -rf $(BUILD)
