# pool_governor: PGXS build.  `make` builds the library, `make install`
# installs it, `make unit` runs the policy unit tests, `make installcheck`
# runs pg_regress (on a throwaway instance) and the TAP tests.

MODULE_big = pool_governor
OBJS = \
	src/pool_governor.o \
	src/settings.o \
	src/admission.o \
	src/board.o \
	src/boardread.o \
	src/cluster.o \
	src/clusterseats.o \
	src/columns.o \
	src/tables.o \
	src/configuration.o \
	src/control.o \
	src/drain.o \
	src/etcdmsg.o \
	src/events.o \
	src/history.o \
	src/identity.o \
	src/loginstats.o \
	src/match.o \
	src/policy.o \
	src/problems.o \
	src/rules.o \
	src/publish.o \
	src/seats.o \
	src/share.o \
	src/shmem.o \
	src/snapformat.o \
	src/snapshot.o \
	src/status.o \
	src/sync.o \
	src/views.o \
	src/worker.o
EXTENSION = pool_governor
DATA = pool_governor--1.0.sql pool_governor--1.0--1.1.sql pool_governor--1.1--1.2.sql \
	pool_governor--1.2--1.3.sql pool_governor--1.3--1.4.sql \
	pool_governor--1.4--1.5.sql pool_governor--1.5--1.6.sql \
	pool_governor--1.6--1.7.sql
PGFILEDESC = "pool_governor - connection quotas per application"

REGRESS = setup config_validation privileges views sizing node_limits
REGRESS_OPTS = --temp-config=$(srcdir)/test/regress.conf \
	--temp-instance=$(CURDIR)/tmp_regress
TAP_TESTS ?= 1

PG_CFLAGS = -Wall -Werror
# libcurl: the worker talks to etcd's JSON gateway (the cluster quota)
SHLIB_LINK = -lcurl
# The SQL version, the control file's: the module names it (PG_MODULE_MAGIC_EXT,
# 18+) and the release tarball carries it.  Set before PGXS, which expands
# PG_CPPFLAGS at once and has a VERSION of its own (PostgreSQL's).
PGOV_SQL_VERSION := $(shell sed -n "s/^default_version = '\\(.*\\)'/\\1/p" $(dir $(firstword $(MAKEFILE_LIST)))pool_governor.control)
PG_CPPFLAGS = -I$(srcdir)/src -DPGOV_VERSION=\"$(PGOV_SQL_VERSION)\"
EXTRA_CLEAN = tmp_regress test/unit/test_policy test/unit/test_policy_asan \
	test/unit/test_seats test/unit/test_seats_asan \
	test/unit/test_snapshot test/unit/test_snapshot_asan test/unit/fuzz_snapshot \
	test/unit/test_etcd test/unit/test_etcd_asan \
	test/connburst bench/loadgen bench/test_loadgen test/unit/fuzz_policy bench/handoff \
	bench/storm

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track headers: the modules share board.h, seats.h and policy.h, so
# rebuild them all when a header changes (a stale object would disagree
# about the shared-memory layout).
$(OBJS): $(wildcard $(srcdir)/src/*.h)

# Policy unit tests: the policy code alone, with no server, plain and under
# AddressSanitizer + UndefinedBehaviorSanitizer (leaks included).
UNIT_CFLAGS = -std=c99 -D_DEFAULT_SOURCE -O1 -g -Wall -Wextra -Werror -Isrc -Itest/unit
UNIT_ASAN = -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_SRC = test/unit/test_policy.c src/policy.c src/match.c
test/unit/test_policy: $(UNIT_SRC) src/policy.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) -o $@ $(UNIT_SRC)
test/unit/test_policy_asan: $(UNIT_SRC) src/policy.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) $(UNIT_ASAN) -o $@ $(UNIT_SRC)
# The seat state machine against its reference model.
SEATS_SRC = test/unit/test_seats.c src/seats.c src/clusterseats.c src/share.c src/publish.c src/policy.c src/match.c
test/unit/test_seats: $(SEATS_SRC) src/seats.h src/share.h src/publish.h src/policy.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) -o $@ $(SEATS_SRC)
test/unit/test_seats_asan: $(SEATS_SRC) src/seats.h src/share.h src/publish.h src/policy.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) $(UNIT_ASAN) -o $@ $(SEATS_SRC)

# The snapshot file's checker, fed every truncation and corruption.
SNAP_SRC = test/unit/test_snapshot.c src/snapformat.c src/policy.c src/match.c
test/unit/test_snapshot: $(SNAP_SRC) src/snapformat.h src/policy.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) -o $@ $(SNAP_SRC)
test/unit/test_snapshot_asan: $(SNAP_SRC) src/snapformat.h src/policy.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) $(UNIT_ASAN) -o $@ $(SNAP_SRC)

# The cluster quota's pure side: base64, JSON, keys, etcd's messages, grants.
ETCD_SRC = test/unit/test_etcd.c src/etcdmsg.c
test/unit/test_etcd: $(ETCD_SRC) src/etcdmsg.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) -o $@ $(ETCD_SRC)
test/unit/test_etcd_asan: $(ETCD_SRC) src/etcdmsg.h test/unit/check.h
	$(CC) $(UNIT_CFLAGS) $(UNIT_ASAN) -o $@ $(ETCD_SRC)

# A test helper that opens many connections at once and holds them.
test/connburst: test/connburst.c
	$(CC) -O2 -Wall -Werror -I$(shell $(PG_CONFIG) --includedir) -o $@ $< \
		-L$(shell $(PG_CONFIG) --libdir) -lpq

# The load generator and the test helpers are not part of the extension:
# PGOV_TOOLS=no (the Debian package) builds the extension alone.
PGOV_TOOLS ?= yes
ifeq ($(PGOV_TOOLS),yes)
all: test/connburst
endif

# The load generator (not installed with the extension) and its tests.
LOADGEN_CFLAGS = -std=gnu99 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter
bench/loadgen: bench/loadgen.c bench/loadgen_lib.c bench/loadgen_lib.h
	$(CC) $(LOADGEN_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		bench/loadgen.c bench/loadgen_lib.c \
		-L$(shell $(PG_CONFIG) --libdir) -lpq -lpthread -lm
bench/test_loadgen: bench/test_loadgen.c bench/loadgen_lib.c bench/loadgen_lib.h test/unit/check.h
	$(CC) $(LOADGEN_CFLAGS) -Itest/unit -fsanitize=address,undefined -fno-sanitize-recover=all \
		-o $@ bench/test_loadgen.c bench/loadgen_lib.c -lm

# A retry storm against one tenant and another tenant's logins meanwhile
# (bench/retry_storm).
bench/storm: bench/storm.c bench/loadgen_lib.c bench/loadgen_lib.h
	$(CC) $(LOADGEN_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		bench/storm.c bench/loadgen_lib.c -L$(shell $(PG_CONFIG) --libdir) -lpq -lpthread -lm

# One fair hand-off in the seat machine, timed (bench/handoff_cost).
bench/handoff: bench/handoff.c src/seats.c src/clusterseats.c src/share.c src/publish.c src/policy.c src/match.c src/seats.h src/share.h src/publish.h src/policy.h
	$(CC) -std=c99 -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-stringop-truncation \
		-Isrc -o $@ bench/handoff.c src/seats.c src/clusterseats.c src/share.c src/publish.c src/policy.c src/match.c

ifeq ($(PGOV_TOOLS),yes)
all: bench/loadgen
endif

# Every test that needs no server.
.PHONY: unit
unit: test/unit/test_policy test/unit/test_policy_asan test/unit/test_seats \
		test/unit/test_seats_asan test/unit/test_snapshot \
		test/unit/test_snapshot_asan test/unit/test_etcd test/unit/test_etcd_asan \
		bench/test_loadgen bench/loadgen
	./test/unit/test_policy
	./test/unit/test_policy_asan
	./test/unit/test_seats
	./test/unit/test_seats_asan
	./test/unit/test_snapshot
	./test/unit/test_snapshot_asan
	./test/unit/test_etcd
	./test/unit/test_etcd_asan
	./bench/test_loadgen
	./bench/test_loadgen_args.sh

# Fuzz the policy code and the snapshot checker with libFuzzer (needs
# clang): FUZZ_SECONDS=60 each by default.
FUZZ_SECONDS ?= 60
test/unit/fuzz_policy: test/unit/fuzz_policy.c src/policy.c src/match.c src/policy.h src/match.h
	clang -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -o $@ test/unit/fuzz_policy.c src/policy.c src/match.c
test/unit/fuzz_snapshot: test/unit/fuzz_snapshot.c src/snapformat.c src/snapformat.h src/policy.h
	clang -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -o $@ test/unit/fuzz_snapshot.c src/snapformat.c
.PHONY: fuzz
fuzz: test/unit/fuzz_policy test/unit/fuzz_snapshot
	./test/unit/fuzz_policy -max_total_time=$(FUZZ_SECONDS) -max_len=256
	./test/unit/fuzz_snapshot -max_total_time=$(FUZZ_SECONDS) -max_len=4096

# A release tarball of the committed tree: sources only (.gitignore keeps
# build output out of git, and git archive takes only what git tracks).
.PHONY: dist
dist:
	git -C $(srcdir) archive --format=tar.gz --prefix=pool_governor-$(PGOV_SQL_VERSION)/ \
		-o $(CURDIR)/pool_governor-$(PGOV_SQL_VERSION).tar.gz HEAD
