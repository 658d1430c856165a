# dutyd — duty-desk alert daemon.
#
#   make          build build/dutyd and build/plugins/*.so
#   make run      install missing Debian packages, build, run in the foreground
#   make check    install missing Debian packages, build, run make lint and
#                 every test, and at the same time every test again built
#                 with ASan+UBSan
#   make install  PREFIX=/usr/local DESTDIR=; make uninstall
#   make deb      build/dutyd_VERSION_ARCH.deb with debhelper, checked by lintian
#   make deb-check, make systemd-check
#                 slow checks (minutes, root, Debian's mirror): the package in a
#                 clean Debian 12 root, and booted under systemd in nspawn
#                 (docs/operations.md)
#
# Everything the build needs comes from Debian 12; `make deps` installs what is
# missing (and only then touches apt).

DEBS := build-essential pkg-config libevent-dev libcurl4-openssl-dev \
	libyaml-dev libsystemd-dev libjansson-dev libyajl-dev libssl-dev libcmocka-dev \
	python3-pytest python3-pytest-xdist python3-aiosmtpd valgrind libbsd-dev \
	tzdata libglib2.0-dev systemd man-db prometheus libhttp-parser-dev openssl \
	chromium chromium-driver python3-selenium fonts-wqy-microhei \
	libpq-dev postgresql-15 python3-psycopg2
PKGS := libevent libevent_openssl libcurl yaml-0.1 libsystemd jansson yajl libssl \
	libcrypto glib-2.0 libpq
PYTHON := /usr/bin/python3

VERSION := 0.1.0
# Where `make install` puts things; the plugin directory is compiled in as
# plugin_dir's default (docs/operations.md).
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
PLUGINDIR = $(PREFIX)/lib/dutyd/plugins
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# Both are on systemd's search paths for /usr/local as for /usr.
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
B ?= build
SAN ?=
CC ?= cc
OPT ?= -O2
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-fno-strict-aliasing
ifneq ($(SAN),)
CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=address,undefined
endif
# Asked once, when a recipe first needs them (by then `make deps` has run and
# pkg-config is there): as plain recursive variables they ran pkg-config for
# every compile and link, some 500 processes in make check.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
# libpq's headers only: dutyd loads it when a configuration names a
# database (daemon/base/pqlib.c), so that a dutyd on the file log does not
# map it and the GSSAPI and LDAP libraries it pulls in.
PKG_LIBS = $(eval PKG_LIBS := $(shell pkg-config --libs $(filter-out libpq,$(PKGS)) 2>/dev/null))$(PKG_LIBS)
CFLAGS_ALL = $(CFLAGS_BASE) $(PKG_CFLAGS) -Idaemon -Iplugins \
	-DDUTYD_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS)
# http-parser ships no pkg-config file.
LDLIBS_ALL = $(PKG_LIBS) -lhttp_parser -ldl $(LDLIBS)

# One folder per layer (docs/ARCHITECTURE.md); includes name the folder.
DAEMON_SRCS := $(wildcard daemon/*/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:daemon/%.c=$(B)/obj/%.o)
# The console's files (console/), embedded in dutyd by tools/embed.py: no
# file on disk to find at run time.  The folder is a prerequisite too, so
# adding or removing a file regenerates the table.
CONSOLE_FILES := $(wildcard console/*)
DAEMON_OBJS += $(B)/obj/gen/console_assets.o
PLUGIN_SRCS := $(wildcard plugins/*.c)
PLUGINS := $(PLUGIN_SRCS:plugins/%.c=$(B)/plugins/%.so)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
TEST_PLUGIN_SRCS := $(wildcard tests/unit/plugins/*.c)
TEST_PLUGINS := $(TEST_PLUGIN_SRCS:tests/unit/plugins/%.c=$(B)/tests/plugins/%.so) \
	$(B)/tests/plugins/v2/testchan.so
HEADERS := $(wildcard daemon/*/*.h plugins/*.h plugins/lib/*.h)
# Helpers every channel plugin links in (hidden symbols: each .so its own copy).
PLUGIN_LIB := $(wildcard plugins/lib/*.c)

.PHONY: all deps run check unit e2e e2e-pycache lint check-plain check-san check-san-build \
	check-plain-plugins check-plain-build check-san-e2e check-san-rest check-plain-e2e \
	check-plain-rest bench clean \
	install uninstall deb deb-check systemd-check \
	fuzz fuzz-deps fuzz-replay bench-hostile bench-deps bench-intake bench-ha

all: $(B)/dutyd $(B)/dutyctl $(PLUGINS)

$(B)/obj/%.o: daemon/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/gen/console_assets.c: tools/embed.py console $(CONSOLE_FILES)
	@mkdir -p $(@D)
	$(PYTHON) tools/embed.py -o $@ console

$(B)/obj/gen/console_assets.o: $(B)/gen/console_assets.c daemon/intake/console.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/libdutyd.a: $(DAEMON_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/dutyd: $(B)/obj/main.o $(B)/libdutyd.a
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# dutyctl: a client of the HTTP API; verify-audit links the daemon's own check.
DUTYCTL_SRCS := $(wildcard dutyctl/*.c)
$(B)/dutyctl: $(DUTYCTL_SRCS) $(wildcard dutyctl/*.h) $(B)/libdutyd.a
	$(CC) $(CFLAGS_ALL) -Idutyctl $(LDFLAGS_SAN) $(LDFLAGS) -o $@ \
		$(DUTYCTL_SRCS) $(B)/libdutyd.a $(LDLIBS_ALL)

# Only dutyd_plugin is exported (DUTYD_PLUGIN_EXPORT); unused helpers are dropped.
# The helpers are compiled once a build, not once a plugin (7 times: some
# 5 CPU-s a pass), with the flags they were compiled with inside each.
PLUGIN_CFLAGS = $(CFLAGS_ALL) -Iplugins/lib -fPIC -fvisibility=hidden \
	-ffunction-sections -fdata-sections
PLUGIN_LIB_OBJS := $(PLUGIN_LIB:plugins/lib/%.c=$(B)/pluglib/%.o)

$(B)/pluglib/%.o: plugins/lib/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(PLUGIN_CFLAGS) -c -o $@ $<

$(B)/plugins/%.so: plugins/%.c $(PLUGIN_LIB_OBJS) $(HEADERS) | $(B)/plugins
	$(CC) $(PLUGIN_CFLAGS) -shared -Wl,--gc-sections \
		$(LDFLAGS_SAN) $(LDFLAGS) -o $@ $< $(PLUGIN_LIB_OBJS) \
		$(shell pkg-config --libs libcrypto jansson libcurl 2>/dev/null)

# Unit tests find plugins through these paths: the real ones and test-only fakes.
TEST_DEFS = -DTEST_PLUGIN_DIR='"$(abspath $(B)/tests/plugins)"' \
	-DDUTYD_PLUGIN_DIR_DEFAULT='"$(PLUGINDIR)"' \
	-DBUILD_PLUGIN_DIR='"$(abspath $(B)/plugins)"' \
	-DTEST_SRC_DIR='"$(abspath tests/unit)"'
# What the state-machine tests run dutyd's core on: a fake clock, a fake
# transport, a store in memory (tests/unit/lib).
TESTLIB_SRCS := $(wildcard tests/unit/lib/*.c)
TESTLIB_OBJS := $(TESTLIB_SRCS:tests/unit/lib/%.c=$(B)/tests/lib/%.o)

$(B)/tests/lib/%.o: tests/unit/lib/%.c $(HEADERS) $(wildcard tests/unit/lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(TEST_DEFS) -Itests/unit/lib -c -o $@ $<

$(B)/testlib.a: $(TESTLIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# The test programs (unit tests, fuzz replays) are linked with gold when
# there is one: some 70 links per pass, each a third of BFD ld's CPU time.
TEST_LD := $(if $(wildcard /usr/bin/ld.gold),-fuse-ld=gold)

# The unit tests are one program, $(B)/tests/units, and each test's name
# (build/tests/test_foo) a hard link to it: it runs the test its argv[0]
# names (tests/unit/units.c).  56 links of the daemon's archive were some
# 5 CPU-s a pass, 9 under ASan.  A test that defines a function the others
# would get too (a libc one it replaces: write, setenv) is a program of its
# own; the link below fails if another one does.
UNIT_ALONE := test_fileio test_roster test_pluglib
UNIT_ALONE_BINS := $(UNIT_ALONE:%=$(B)/tests/%)
UNIT_SHARED_BINS := $(filter-out $(UNIT_ALONE_BINS),$(UNIT_BINS))
UNIT_OBJS := $(UNIT_SHARED_BINS:$(B)/tests/%=$(B)/tests/obj/%.o)
UNIT_HEADERS := $(HEADERS) $(wildcard tests/unit/*.h tests/unit/lib/*.h)

$(UNIT_ALONE_BINS): $(B)/tests/%: tests/unit/%.c $(B)/testlib.a $(B)/libdutyd.a $(UNIT_HEADERS) $(PLUGINS) $(TEST_PLUGINS) | $(B)/tests
	$(CC) $(CFLAGS_ALL) $(TEST_DEFS) -Itests/unit/lib $(TEST_LD) \
		$(LDFLAGS_SAN) $(LDFLAGS) -o $@ $< $(B)/testlib.a $(B)/libdutyd.a $(LDLIBS_ALL) -lcmocka

# The tests whose main takes argc and argv (asked once, when first needed).
UNIT_ARGV_RE := '^main(int'
UNIT_ARGV = $(eval UNIT_ARGV := $(patsubst tests/unit/%.c,%,$(shell \
	grep -l $(UNIT_ARGV_RE) $(UNIT_SRCS))))$(UNIT_ARGV)

# Each test's main() is renamed after it, for units.c's table, and declared
# first (tests/unit/units.h) as -Wmissing-prototypes wants.
$(UNIT_OBJS): $(B)/tests/obj/%.o: tests/unit/%.c $(UNIT_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(TEST_DEFS) -Itests/unit/lib -Dmain=$*_main \
		$(if $(filter $*,$(UNIT_ARGV)),-DUNIT_ARGV) -include tests/unit/units.h \
		-c -o $@ $<

# The table: UNIT(name), or UNIT_ARGV(name) for a main(int argc, char **argv).
$(B)/gen/unitlist.h: $(UNIT_OBJS:$(B)/tests/obj/%.o=tests/unit/%.c)
	@mkdir -p $(@D)
	printf '%s\n' $(foreach n,$(^:tests/unit/%.c=%),$(if $(filter $(n),$(UNIT_ARGV)),'UNIT_ARGV($(n))','UNIT($(n))')) > $@

$(B)/tests/units: tests/unit/units.c tests/unit/units.h $(B)/gen/unitlist.h $(UNIT_OBJS) $(B)/testlib.a $(B)/libdutyd.a $(PLUGINS) $(TEST_PLUGINS) | $(B)/tests
	@nm -A --defined-only -g $(UNIT_OBJS) | awk '{ f = $$1; sub(/:.*/, "", f); \
		n = f; sub(/.*\//, "", n); sub(/\.o$$/, "", n); \
		if ($$NF != n "_main") { print f ": defines " $$NF ", which every test in " \
		"$@ would get: add it to UNIT_ALONE"; bad = 1 } } END { exit bad }'
	$(CC) $(CFLAGS_ALL) -I$(B)/gen $(TEST_LD) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $< \
		$(UNIT_OBJS) $(B)/testlib.a $(B)/libdutyd.a $(LDLIBS_ALL) -lcmocka

$(UNIT_SHARED_BINS): $(B)/tests/units
	ln -f $< $@

$(B)/tests/plugins/%.so: tests/unit/plugins/%.c $(HEADERS) | $(B)/tests/plugins
	$(CC) $(CFLAGS_ALL) -fPIC -shared $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $<

# testchan built again, to replace the first on disk (test_channel.c).
$(B)/tests/plugins/v2/testchan.so: tests/unit/plugins/testchan.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DTESTCHAN_DESCRIPTION='"testchan, second build"' \
		-fPIC -shared $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $<

$(B)/plugins $(B)/tests $(B)/tests/plugins:
	mkdir -p $@

# plugin_dir's default follows PREFIX: the loader is rebuilt when it changes.
$(B)/obj/config/confload.o: CFLAGS_ALL += -DDUTYD_PLUGIN_DIR='"$(PLUGINDIR)"'
$(B)/obj/config/confload.o: $(B)/plugindir.txt
$(B)/plugindir.txt: FORCE
	@mkdir -p $(@D); echo '$(PLUGINDIR)' | cmp -s - $@ || echo '$(PLUGINDIR)' > $@
.PHONY: FORCE
FORCE:

# Plugins are prerequisites of pattern rules only; keep make from deleting them.
.SECONDARY: $(PLUGINS) $(TEST_PLUGINS)

# Installs only what dpkg says is missing, so a ready machine never runs apt.
deps:
	@missing=""; for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing missing Debian packages:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

# dutyd with the example configuration; its webhook's messages are printed
# by tools/hooksink.py (stopped with dutyd), the console is at
# http://127.0.0.1:8080/ (sign in with secret-zhang).
run: deps
	$(MAKE) all
	mkdir -p var && chmod 700 var
	@$(PYTHON) tools/hooksink.py 127.0.0.1:9000 hmac-secret & sink=$$!; \
	trap 'kill $$sink 2>/dev/null' EXIT INT TERM; \
	echo "console: http://127.0.0.1:8080/ (token secret-zhang)"; \
	./$(B)/dutyd -c etc/dutyd.yaml

# One target per unit test binary, so that `make -j` runs them side by side.
UNIT_RUNS := $(UNIT_BINS:%=%.run)
.PHONY: $(UNIT_RUNS)

unit: $(UNIT_RUNS)

$(UNIT_RUNS): %.run: %
	@echo "== $<"; $<

# The e2e tests mostly wait (for dutyd's clocks, retries, restarts), so they
# run on more pytest-xdist workers than there are cores.  E2E_WORKERS=0 runs
# them in one process, in order.
E2E_WORKERS ?= 8
# Every worker imports every test module, and pytest rewrites each one's
# asserts first (3 to 4 s of CPU a process, 1 s with the rewritten modules
# cached): they are cached under build/, for both passes, even where
# PYTHONDONTWRITEBYTECODE is set.
E2E_ENV = env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(abspath build/pycache)
e2e: all
	DUTYD_BIN=$(abspath $(B)/dutyd) DUTYD_PLUGIN_DIR=$(abspath $(B)/plugins) $(E2E_ENV) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -n $(E2E_WORKERS) tests/e2e $(PYTEST_ARGS)

# The cache filled once, beside the builds, before the 18 processes of
# make check's two passes start.
e2e-pycache:
	$(STEP_TIME) $(E2E_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider --collect-only tests/e2e >/dev/null

# The shape of daemon/: includes point down the layers, no cycle, short
# files, every exported name in its module's prefix, nothing exported to
# plugins (docs/ARCHITECTURE.md).
lint: all
	$(PYTHON) tests/lint/layers.py --objs $(B)/obj --binary $(B)/dutyd

# make check's two passes: plain (lint, unit, e2e, fuzz-replay) and the
# same again built with ASan+UBSan at -O1.  The browser tests run once: most
# in the sanitizer pass, those marked plain_pass in the plain one, so the two
# passes end together (see conftest.py).
#
# The order on 2 cores: the sanitizer build first (its e2e pass is the
# longest), then the plain plugins its test_config_cli loads (the example
# configurations name ./build/plugins).  The sanitizer e2e tests start then,
# with the plain build beside them; then the plain e2e tests, and the unit
# tests, lint and fuzz replays of both passes fill the cores beside the e2e
# tests, which mostly wait.  Each step is a sub-make, so that the next waits
# for the whole of it; the passes' outputs are held back and printed whole
# (--output-sync), and the check fails if any step fails.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# CHECK_TIMES=1 prints each step's CPU-seconds and wall time (GNU time, the
# time package): the machine is shared, so CPU-seconds are what to compare.
STEP_TIME = $(if $(CHECK_TIMES),/usr/bin/time -f '$@: %e s wall; %U + %S CPU-s (user + sys)')

check-san-build:
	$(STEP_TIME) $(MAKE) B=build/san SAN=1 OPT=-O1 all

check-plain-plugins: check-san-build
	$(STEP_TIME) $(MAKE) $(PLUGINS)

check-plain-build: check-plain-plugins
	$(STEP_TIME) $(MAKE) all

check-san-e2e: check-plain-plugins e2e-pycache
	$(SAN_ENV) $(STEP_TIME) $(MAKE) B=build/san SAN=1 OPT=-O1 PYTEST_ARGS='-m "not plain_pass"' e2e

check-san-rest: check-plain-build
	$(SAN_ENV) $(STEP_TIME) $(MAKE) B=build/san SAN=1 OPT=-O1 unit fuzz-replay

check-plain-e2e: check-plain-build e2e-pycache
	$(STEP_TIME) $(MAKE) PYTEST_ARGS='-m "not browser or plain_pass"' e2e

check-plain-rest: check-plain-build
	$(STEP_TIME) $(MAKE) lint unit fuzz-replay

check-plain: check-plain-e2e check-plain-rest
check-san: check-san-e2e check-san-rest

# PREFIX is set here, not taken from the environment: test_install's `make
# install` (run beside the other tests) expects /usr/local, and with another
# PREFIX in the environment (perf sets PREFIX=/usr for what it runs) the
# builds got another plugin_dir and that make relinked dutyd under the
# running tests.
check: deps
	$(MAKE) -j4 --output-sync=recurse CFLAGS=-Werror PREFIX=/usr/local check-san check-plain

$(B)/bench/sink $(B)/bench/loadgen: $(B)/bench/%: bench/%.c
	mkdir -p $(B)/bench
	$(CC) $(CFLAGS_BASE) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# Linked as dutyd is, so its RSS is what the libraries alone cost.
$(B)/bench/libfloor: bench/libfloor.c
	mkdir -p $(B)/bench
	$(CC) $(CFLAGS_BASE) -o $@ $< -Wl,--no-as-needed $(LDLIBS_ALL)

# The benchmarks also need these, installed only here (bench/README.md).
BENCH_DEBS := wrk prometheus-alertmanager valgrind strace
bench-deps:
	@missing=""; for p in $(BENCH_DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || \
		missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && \
		$$sudo apt-get install -y -q --no-install-recommends $$missing; }

# Issue 16's table, every figure beside its target and the baseline's
# (bench/results-84c26d6.json), into bench/results.md; BENCH=replay,rss
# measures only those (bench/figures.py --help).
BENCH ?=
bench: deps bench-deps all $(B)/bench/sink $(B)/bench/loadgen $(B)/bench/libfloor
	$(PYTHON) bench/figures.py --bin $(abspath $(B)/dutyd) \
		--plugins $(abspath $(B)/plugins) --tools $(abspath $(B)/bench) \
		$(if $(BENCH),--only $(BENCH)) --before bench/results-84c26d6.json \
		--json $(abspath $(B)/bench/figures.json) $(if $(BENCH),,--results bench/results.md)

# The durable-intake and start-up ratios (what `make bench` ran before).
bench-intake: deps bench-deps all $(B)/bench/sink
	$(PYTHON) bench/intake.py --bin $(abspath $(B)/dutyd) \
		--plugins $(abspath $(B)/plugins) --sink $(abspath $(B)/bench/sink)
	$(PYTHON) bench/startup.py --bin $(abspath $(B)/dutyd) \
		--plugins $(abspath $(B)/plugins)

# Issue 18's figures: durable intake on PostgreSQL (fsync on) beside the file
# log, and failover time over 10 rounds (bench/README.md).
bench-ha: deps all $(B)/bench/sink $(B)/bench/loadgen
	@$(MAKE) --no-print-directory bench-deps BENCH_DEBS=wrk
	$(PYTHON) bench/pgha.py --bin $(abspath $(B)/dutyd) \
		--plugins $(abspath $(B)/plugins) --tools $(abspath $(B)/bench)

# The installed tree (docs/operations.md).  /etc/dutyd/dutyd.yaml is written
# only when there is none: an administrator's file is never overwritten.
CALENDARS := $(wildcard etc/calendar-*.yaml)
MANPAGES := man/dutyd.8 man/dutyd.yaml.5 man/dutyctl.1
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/dutyd \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/dutyd $(DESTDIR)$(SBINDIR)/dutyd
	install -m 0755 $(B)/dutyctl $(DESTDIR)$(BINDIR)/dutyctl
	install -m 0644 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/systemd/dutyd.service.in \
		> $(DESTDIR)$(UNITDIR)/dutyd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/dutyd.service
	install -m 0644 contrib/systemd/dutyd.socket $(DESTDIR)$(UNITDIR)/dutyd.socket
	install -m 0644 contrib/systemd/dutyd.sysusers $(DESTDIR)$(SYSUSERSDIR)/dutyd.conf
	for m in $(MANPAGES); do \
		s=$${m##*.}; \
		sed 's|@PLUGINDIR@|$(PLUGINDIR)|g' $$m > $(DESTDIR)$(MANDIR)/man$$s/$${m#man/} && \
		chmod 0644 $(DESTDIR)$(MANDIR)/man$$s/$${m#man/} || exit 1; \
	done
	@# The State Council's published arrangement: data dutyd ships and updates,
	@# included by dutyd.yaml; a site's own days go in dutyd.yaml's calendar:.
	install -m 0644 $(CALENDARS) $(DESTDIR)$(SYSCONFDIR)/dutyd/
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/dutyd/dutyd.yaml ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/dutyd/dutyd.yaml (yours; contrib/dutyd.yaml is the new example)"; \
	else \
		install -m 0640 contrib/dutyd.yaml $(DESTDIR)$(SYSCONFDIR)/dutyd/dutyd.yaml; \
	fi
	@# On the machine itself (no DESTDIR): the user, and the file readable by it.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/dutyd.conf && \
		chgrp dutyd $(SYSCONFDIR)/dutyd/dutyd.yaml && \
		{ systemctl daemon-reload 2>/dev/null || true; }; \
	fi

# Leaves /etc/dutyd (the configuration) and /var/lib/dutyd (the audit log).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/dutyd $(DESTDIR)$(BINDIR)/dutyctl \
		$(PLUGINS:$(B)/plugins/%=$(DESTDIR)$(PLUGINDIR)/%) \
		$(DESTDIR)$(UNITDIR)/dutyd.service $(DESTDIR)$(UNITDIR)/dutyd.socket \
		$(DESTDIR)$(SYSUSERSDIR)/dutyd.conf \
		$(DESTDIR)$(MANDIR)/man8/dutyd.8 $(DESTDIR)$(MANDIR)/man5/dutyd.yaml.5 \
		$(DESTDIR)$(MANDIR)/man1/dutyctl.1 \
		$(CALENDARS:etc/%=$(DESTDIR)$(SYSCONFDIR)/dutyd/%)
	-rmdir $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(PREFIX)/lib/dutyd 2>/dev/null
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/dutyd and /var/lib/dutyd: remove them yourself if you mean to"

# The Debian package, built with Debian's tools from a copy of the tree
# (debian/), then checked by lintian: errors fail the target.
DEB_DEBS := debhelper lintian fakeroot dpkg-dev
DEB_ARCH = $(shell dpkg --print-architecture)
DEB := $(B)/dutyd_$(VERSION)_$(DEB_ARCH).deb
deb: deps
	@$(MAKE) -s DEBS="$(DEB_DEBS)" deps
	rm -rf $(B)/deb && mkdir -p $(B)/deb/dutyd-$(VERSION)
	tar --exclude=./build --exclude=./.git --exclude=./var -cf - . | \
		tar -C $(B)/deb/dutyd-$(VERSION) -xf -
	cd $(B)/deb/dutyd-$(VERSION) && dpkg-buildpackage -b -us -uc -rfakeroot
	cp $(B)/deb/dutyd_$(VERSION)_$(DEB_ARCH).deb $(DEB)
	lintian --fail-on error --suppress-tags-from-file debian/lintian-accepted $(DEB)
	@echo "built $(DEB)"

# Slow checks, beside `make check` (minutes, and the network for Debian's
# mirror): the .deb installed in a clean Debian 12 chroot; the same booted
# under systemd in systemd-nspawn.  docs/operations.md says what each shows.
deb-check: deb
	tests/system/deb-check.sh $(abspath $(DEB))

systemd-check: deb
	tests/system/systemd-check.sh $(abspath $(DEB))
# Fuzzing (tests/fuzz, docs/security.md).  One harness per parser; each has
# a corpus in tests/fuzz/corpus/NAME.  `make fuzz` runs every harness under
# libFuzzer with ASan+UBSan (Debian's clang) for FUZZ_SECONDS each; what it
# finds new is kept under build/fuzz, and an input that crashes, leaks or
# hangs is written into the harness's corpus, where `make check` replays it
# (fuzz-replay: every corpus file once through the harness, built with the
# pass's compiler and sanitizers, no fuzzing) until the bug is fixed.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g -O1
FUZZ_OBJS := $(DAEMON_SRCS:daemon/%.c=build/fuzz/obj/%.o)
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(B)/fuzz/replay_%)

$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(B)/libdutyd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Itests/fuzz $(TEST_LD) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $< \
		tests/fuzz/replay.c $(B)/libdutyd.a $(LDLIBS_ALL)

fuzz-replay: $(FUZZ_REPLAYS) $(PLUGINS)
	@for n in $(FUZZ_NAMES); do \
		$(B)/fuzz/replay_$$n tests/fuzz/corpus/$$n || exit 1; \
	done

build/fuzz/obj/%.o: daemon/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS_BASE) $(PKG_CFLAGS) -Idaemon -Iplugins \
		-DDUTYD_VERSION='"$(VERSION)"' -DDUTYD_PLUGIN_DIR='"$(PLUGINDIR)"' \
		$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libdutyd.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libdutyd.a
	$(FUZZ_CC) $(CFLAGS_BASE) $(PKG_CFLAGS) -Idaemon -Itests/fuzz $(FUZZ_FLAGS) \
		-fsanitize=fuzzer -o $@ $< build/fuzz/libdutyd.a $(LDLIBS_ALL)

# FUZZ=NAME runs one harness only.
# clang and libFuzzer are only needed here, so `make check` does not install them.
FUZZ_DEBS := clang libclang-rt-14-dev
fuzz-deps:
	@$(MAKE) --no-print-directory deps DEBS="$(FUZZ_DEBS)"

fuzz: deps fuzz-deps all
	$(MAKE) $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
	@for n in $(or $(FUZZ),$(FUZZ_NAMES)); do \
		mkdir -p build/fuzz/corpus/$$n; \
		echo "== fuzz_$$n for $(FUZZ_SECONDS) s"; \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/corpus/$$n/ \
			build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# Work that must not grow with the incident count (docs/security.md):
# /healthz, a page of the list and a checkpoint's stall at 100,000 open
# incidents.  A minute or two; not part of make check.
bench-hostile: all
	$(PYTHON) bench/hostile.py --bin $(abspath $(B)/dutyd) \
		--plugins $(abspath $(B)/plugins)

clean:
	rm -rf build
