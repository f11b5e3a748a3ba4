# cutover: blue/green cutover of a Django app on AWS Elastic Beanstalk.
#
#   make          build/cutover (coordinator) and build/agent/cutover-agent-{x86_64,aarch64}
#   make deps     install the Debian packages the build and the tests need
#   make test     every test, unit and integration (starts its own servers), after make lint
#   make lint     the layer rule: no include reaches up a layer (ARCHITECTURE.md)
#   make asan     the same tests built with AddressSanitizer + UBSan
#   make bench    benchmarks, figures side by side with their baselines
#   make fuzz     libFuzzer targets, each for FUZZ_SECONDS
#   make demo     a full cutover against the local simulation
#   make install  the program, its man page, bash completion and example
#                 configuration under $(DESTDIR)$(PREFIX) (default /usr/local);
#                 make uninstall removes them again
#   make deb      a Debian package in $(BUILD)/deb (deploy/make-deb)
#
# Sources are found by folder: coordinator/*/*.c, one folder per layer of
# ARCHITECTURE.md (cli/main.c is the program, the rest is the core that tests
# link), proto/*.c (shared by coordinator and agent), agent/*.c,
# tests/unit/test_*.c and tests/integration/test_*.c (one cmocka program each),
# tests/fuzz/fuzz_*.c (one libFuzzer target each).

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2
SAN     ?=
PKGS    := libssh2 msgpack libcurl libxml-2.0 openssl inih json-c libwebsockets
WARN    := -Wall -Wextra -Werror
# EXTRA_CFLAGS, EXTRA_LDFLAGS: added flags (make deb adds dpkg-buildflags' hardening).
CFLAGS  := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SAN) -Iproto -Icoordinator \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS := $(SAN) $(EXTRA_LDFLAGS)

PROTO_SRC := $(wildcard proto/*.c)
CORE_SRC  := $(filter-out coordinator/cli/main.c,$(wildcard coordinator/*/*.c coordinator/*/*/*.c))
AGENT_SRC := $(wildcard agent/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
FUZZ_SRC  := $(filter-out tests/fuzz/fuzz_stub_blobs.c,$(wildcard tests/fuzz/fuzz_*.c))
TSUP_SRC  := $(wildcard tests/support/*.c)

PROTO_OBJ := $(PROTO_SRC:%.c=$(BUILD)/obj/%.o)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
TSUP_OBJ  := $(TSUP_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BINS := $(UNIT_SRC:%.c=$(BUILD)/%) $(INTEG_SRC:%.c=$(BUILD)/%)

AGENTS  := $(BUILD)/agent/cutover-agent-x86_64 $(BUILD)/agent/cutover-agent-aarch64
CORE_A  := $(BUILD)/libcutover.a

.PHONY: all deps test unit lint asan bench fuzz demo clean agents tests install uninstall deb agent-build-id
# Test support objects are intermediate to make; keep them so a rebuild relinks only what changed.
.SECONDARY:
all: $(BUILD)/cutover $(AGENTS)
agents: $(AGENTS)
tests: all $(TEST_BINS)

# ---- coordinator -------------------------------------------------------------
# The agents are linked into the coordinator (.incbin) so one file is all an
# operator copies; the blob object depends on them.
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/agent_blobs.o: coordinator/remote/agent_blobs.S $(AGENTS)
	@mkdir -p $(dir $@)
	$(CC) -c -DAGENT_X86_64='"$(BUILD)/agent/cutover-agent-x86_64"' \
	  -DAGENT_AARCH64='"$(BUILD)/agent/cutover-agent-aarch64"' $< -o $@

$(CORE_A): $(CORE_OBJ) $(PROTO_OBJ) $(BUILD)/obj/agent_blobs.o
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/cutover: $(BUILD)/obj/coordinator/cli/main.o $(CORE_A)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# ---- agent: static, no NSS, msgpack-c linked in ------------------------------
MUSL_X86_64 := $(wildcard /usr/lib/x86_64-linux-musl/musl-gcc.specs)
MUSL_AARCH64 := $(wildcard /usr/lib/aarch64-linux-musl/musl-gcc.specs)
# The build id (in hello's "agent" field) changes whenever the agent's
# sources or its C library (musl or glibc, below) do.
AGENT_BUILD_ID := $(shell (cat $(sort $(AGENT_SRC) $(PROTO_SRC) $(wildcard agent/*.h proto/*.h)); \
                  echo "$(MUSL_X86_64) $(MUSL_AARCH64)") | sha256sum | cut -c1-16)
AGENT_CFLAGS := -std=c11 -D_GNU_SOURCE -Os $(WARN) -Iproto -ffunction-sections -fdata-sections \
                -DAGENT_BUILD_ID='"$(AGENT_BUILD_ID)"'
AGENT_LDFLAGS := -static -Wl,--gc-sections -s
AARCH64_CC   ?= aarch64-linux-gnu-gcc
AARCH64_SYSROOT_LIB ?= /usr/lib/aarch64-linux-gnu

# With musl (musl-tools, musl-dev:arm64) the agent is ~100 KB instead of
# ~700 KB with glibc, which is the fallback when musl is not installed.
# musl's compiler must not see glibc's /usr/include, so it gets a folder
# holding only msgpack-c's headers; Debian's libmsgpackc.a links as is (the
# unpack and zone objects need only malloc, memcpy, assert and the stack
# protector, which musl provides with the same ABI).
AGENT_INC := $(BUILD)/agent/include

$(AGENT_INC)/msgpack.h:
	@mkdir -p $(dir $@)
	ln -sf /usr/include/msgpack.h /usr/include/msgpack $(dir $@)

ifneq ($(SAN),)
# make asan: the x86_64 agent gets the sanitizers too (so dynamic: they cannot be static).
$(BUILD)/agent/cutover-agent-x86_64: $(AGENT_SRC) $(PROTO_SRC) $(wildcard agent/*.h proto/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Os,$(AGENT_CFLAGS)) -g $(OPT) $(SAN) $(AGENT_SRC) $(PROTO_SRC) -lmsgpackc -o $@
else
$(BUILD)/agent/cutover-agent-x86_64: $(AGENT_SRC) $(PROTO_SRC) $(wildcard agent/*.h proto/*.h) | $(AGENT_INC)/msgpack.h
	@mkdir -p $(dir $@)
	$(if $(MUSL_X86_64),gcc -specs $(MUSL_X86_64) -I$(AGENT_INC),$(CC)) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) \
	  $(AGENT_SRC) $(PROTO_SRC) $(if $(MUSL_X86_64),$(shell gcc -print-file-name=libmsgpackc.a),-lmsgpackc) -o $@
endif

$(BUILD)/agent/cutover-agent-aarch64: $(AGENT_SRC) $(PROTO_SRC) $(wildcard agent/*.h proto/*.h) | $(AGENT_INC)/msgpack.h
	@mkdir -p $(dir $@)
	$(AARCH64_CC) $(if $(MUSL_AARCH64),-specs $(MUSL_AARCH64) -I$(AGENT_INC)) $(AGENT_CFLAGS) $(AGENT_LDFLAGS) \
	  $(AGENT_SRC) $(PROTO_SRC) $(if $(MUSL_AARCH64),$(AARCH64_SYSROOT_LIB)/libmsgpackc.a,-L$(AARCH64_SYSROOT_LIB) -l:libmsgpackc.a) -o $@

# The agents' build id, for tests/unit/version.t.
agent-build-id:
	@echo $(AGENT_BUILD_ID)

# ---- install -----------------------------------------------------------------
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/bin
MAN1DIR := $(PREFIX)/share/man/man1
DOCDIR  := $(PREFIX)/share/doc/cutover
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
# What make install puts where; make uninstall removes exactly these.
INSTALLED := $(BINDIR)/cutover $(MAN1DIR)/cutover.1 $(BASHCOMPDIR)/cutover $(DOCDIR)/cutover.example.ini

# Written by the program from its own command table (cli/cmdtab.c).
$(BUILD)/completion/cutover: $(BUILD)/cutover
	@mkdir -p $(dir $@)
	$(BUILD)/cutover completion bash >$@.tmp && mv -f $@.tmp $@

install: all $(BUILD)/completion/cutover
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/cutover $(DESTDIR)$(BINDIR)/cutover
	install -m 0644 doc/cutover.1 $(DESTDIR)$(MAN1DIR)/cutover.1
	install -m 0644 $(BUILD)/completion/cutover $(DESTDIR)$(BASHCOMPDIR)/cutover
	install -m 0644 deploy/cutover.example.ini $(DESTDIR)$(DOCDIR)/cutover.example.ini

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# A Debian package built with dpkg's own tools from a hardened build of its own
# (dpkg-buildflags), in $(BUILD)/deb; nothing is written to the source tree.
deb:
	deploy/make-deb $(BUILD)/deb

# ---- tests -------------------------------------------------------------------
$(BUILD)/tests/%: tests/%.c $(CORE_A) $(TSUP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/support $< $(TSUP_OBJ) $(CORE_A) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

# This unit test compiles the agent's env.c in (the agent is not in libcutover.a).
$(BUILD)/tests/unit/test_agent_env: agent/env.c agent/agent.h

# The layer rule (ARCHITECTURE.md); its table is in tests/lint/layers.sh.
lint:
	tests/lint/layers.sh

test: lint tests
	tests/run $(BUILD)

unit: lint tests
	tests/run --unit-only $(BUILD)

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run build-asan

bench: all
	tests/bench/run $(BUILD)

FUZZ_SECONDS ?= 30
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(PROTO_SRC) $(CORE_SRC)
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Iproto -Icoordinator $(shell pkg-config --cflags $(PKGS)) \
	  -fsanitize=fuzzer,address,undefined -DCUTOVER_FUZZ $< $(PROTO_SRC) $(filter-out coordinator/remote/agent_blobs.S,$(CORE_SRC)) \
	  tests/fuzz/fuzz_stub_blobs.c $(LDLIBS) -o $@
build-fuzz/fuzz_envfile: agent/env.c agent/agent.h
fuzz: $(FUZZ_BINS)
	tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_BINS)

demo: all
	tests/sim/demo $(BUILD)

deps:
	deploy/install-deps

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
