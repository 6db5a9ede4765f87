# Starling: build, boot and test. `make help` lists the targets and variables;
# README.md has the quick start, docs/tooling.md the details.
#
# Everything built goes under target/ (git-ignored). The per-machine parts
# live in platforms/qemu-$(ARCH)/ (platform.mk for make, qemu.py for the
# runner); host tools shared by both are in platforms/tools/.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.SUFFIXES:

ARCHES := x86_64 riscv64

ARCH ?= x86_64
SMP ?= 1
MEM ?= 1G
ACCEL ?= tcg
TIMEOUT ?= 3600
CPU ?=
QEMU ?=
HOSTDIR ?=
# make exec DISK=img boots that image as it is, keeping what the guest
# writes (the default boots a fresh copy of the rootfs image).
DISK ?=
# ROOTFS=debian (x86_64) boots a Debian bookworm userland instead of the
# busybox image (docs/userland.md); the Debian tree is made once with
# debootstrap and cached under target/cache/debian.
ROOTFS ?= busybox
# MM_DEBUG=1 builds the kernel with the `mm-debug` feature: the
# shared-mapping registry is verified after every mm syscall (docs/mm.md).
# `make test` always sets it.
MM_DEBUG ?= 0
# make debug / make gdb: the TCP port of QEMU's GDB stub, and extra gdb
# arguments (GDB_ARGS='-batch -ex bt' scripts a session).
GDB_PORT ?= 1234
GDB_ARGS ?=
# make bench: boots per kernel (Starling and, on x86_64, Linux), alternating.
RUNS ?= 5
# make fuzz: minutes of trinity, its seed (default: a random one), and
# trinity options replacing the default "-a 64 --disable-fds=sockets".
MINUTES ?= 10
SEED ?=
TRINITY_ARGS ?=
# Seconds each guest phase of `make test` may take (TIMEOUT=… overrides).
TEST_TIMEOUT := $(if $(filter command line environment%,$(origin TIMEOUT)),$(TIMEOUT),900)

# None of these may reach the kernel build: ax-runtime reads SMP from the
# environment at build time, and the rest only concern QEMU. Changing them
# must never rebuild anything.
unexport ARCH SMP MEM ACCEL TIMEOUT CPU QEMU HOSTDIR DISK CMD LTP_DIR TESTS MM_DEBUG ROOTFS GDB_PORT GDB_ARGS RUNS \
	MINUTES SEED TRINITY_ARGS

ifeq ($(filter $(ARCH),$(ARCHES)),)
$(error ARCH=$(ARCH) is not supported; use one of: $(ARCHES))
endif
ifeq ($(filter $(ROOTFS),busybox debian),)
$(error ROOTFS=$(ROOTFS) is not supported; use busybox or debian)
endif
ifeq ($(ROOTFS)-$(ARCH),debian-riscv64)
$(error ROOTFS=debian is x86_64 only; riscv64 boots the busybox image)
endif
ifneq ($(filter exec,$(MAKECMDGOALS)),)
ifeq ($(strip $(value CMD)),)
$(error make exec needs a command: make exec CMD='echo hello')
endif
endif

PLATFORM := platforms/qemu-$(ARCH)
include $(PLATFORM)/platform.mk

KERNEL_ELF := target/$(TRIPLE)/release/starling
KERNEL_SYMS_ELF := target/kernel/$(ARCH)/starling.elf
KERNEL_FEATURES := $(if $(filter 1,$(MM_DEBUG)), --features mm-debug)
ROOTFS_DIR := target/rootfs/$(ARCH)$(if $(filter debian,$(ROOTFS)),-debian)
DEBIAN_CACHE := target/cache/debian/$(ARCH)
STAGING := $(ROOTFS_DIR)/staging
STAGE_STAMP := $(ROOTFS_DIR)/staging.stamp
ROOTFS_IMG := $(ROOTFS_DIR)/rootfs.img
TESTS_OUT := $(abspath target/rootfs/$(ARCH)/tests)
RUN_DIR := target/run/$(ARCH)
# One per make process ($$PPID of $(shell) is make), so concurrent runs
# never share it; the runner deletes it once read.
CMD_FILE := target/run/cmd-$(ARCH)-$(shell echo $$PPID).in
RUNNER := platforms/tools/starling-run

# Single-quotes a value for the shell.
shquote = '$(subst ','\'',$(1))'

# The settings, spelled out for sub-makes: they are unexported, so values
# that came from the environment would not reach a sub-make otherwise.
SETTINGS = ARCH=$(ARCH) SMP=$(call shquote,$(SMP)) MEM=$(call shquote,$(MEM)) \
	ACCEL=$(call shquote,$(ACCEL)) TIMEOUT=$(call shquote,$(TIMEOUT)) \
	CPU=$(call shquote,$(CPU)) QEMU=$(call shquote,$(QEMU)) MM_DEBUG=$(call shquote,$(MM_DEBUG)) \
	ROOTFS=$(call shquote,$(ROOTFS))

RUN_ARGS = --arch $(ARCH) --kernel $(KERNEL_IMAGE) --elf $(KERNEL_SYMS_ELF) \
	--run-dir $(RUN_DIR) --smp $(SMP) --mem $(MEM) --accel $(ACCEL) \
	$(if $(CPU),--cpu $(call shquote,$(CPU))) $(if $(QEMU),--qemu $(call shquote,$(QEMU)))

.PHONY: help setup kernel rootfs run exec debug gdb test test-debian ltp bench stress fuzz sweep-linux clean FORCE
FORCE:

help:
	@echo "Starling make targets (ARCH=$(ARCH); see README.md):"
	@echo "  setup     install host packages and the Rust toolchain (Debian 12, root or sudo)"
	@echo "  kernel    build the kernel image      -> $(KERNEL_IMAGE)"
	@echo "  rootfs    build the root file system  -> $(ROOTFS_IMG)"
	@echo "  run       boot interactively (console on this terminal; Ctrl-A x quits)"
	@echo "  exec      boot, run CMD as PID 1, print its output: make exec CMD='uname -a' [HOSTDIR=dir | DISK=img]"
	@echo "  debug     boot paused with the GDB stub on GDB_PORT (default 1234); with CMD='…' [HOSTDIR=] like exec"
	@echo "  gdb       gdb on the kernel ELF attached to that stub, Starling's commands loaded [GDB_ARGS='-batch -ex bt']"
	@echo "  test      host unit tests, tooling tests, guest tests and the gdb check on x86_64 and riscv64"
	@echo "  test-debian  programs of the Debian image checked in the guest (ROOTFS=debian, x86_64; not in test)"
	@echo "  bench     the micro-benchmarks on Linux and Starling, medians and ratios [RUNS=$(RUNS)] -> target/bench/"
	@echo "  stress    SMP stress (smp/stress, then smp/lockup) with mm-debug for MINUTES (default 5) at SMP (default 4)"
	@echo "  fuzz      Debian's trinity syscall fuzzer as nobody in the guest, with a watchdog [MINUTES=$(MINUTES)] [SEED=] (x86_64)"
	@echo "  sweep-linux  record Linux 6.1's answers to the bad-argument sweep -> $(SWEEP_TABLE) (x86_64)"
	@echo "  clean     remove build outputs (keeps target/cache)"
	@echo "Variables: ARCH=x86_64|riscv64 SMP=$(SMP) MEM=$(MEM) ACCEL=tcg|kvm TIMEOUT=$(TIMEOUT) [CPU=] [QEMU=] [MM_DEBUG=1] [ROOTFS=busybox|debian] [GDB_PORT=$(GDB_PORT)] [GDB_ARGS=]"
	@echo "Logs: target/run/<arch>/kernel.log, console.log, qemu.cmdline"

setup:
	platforms/tools/setup

# --- kernel ---------------------------------------------------------------

kernel: $(KERNEL_IMAGE)

# cargo decides whether anything changed; the ELF keeps its time stamp when
# nothing did, so the image below is only remade after a real rebuild.
$(KERNEL_ELF): FORCE
	@echo "==> kernel $(ARCH): cargo build --release --target $(TRIPLE)$(KERNEL_FEATURES)"
	cd kernel && env -u SMP cargo build --release --locked --target $(TRIPLE)$(KERNEL_FEATURES)

# The kernel's own symbol table (backtraces, /proc/kallsyms) is written
# into a copy of the linked ELF, in an area reserved for it; no address
# moves (platforms/tools/ksyms). The copy is what boots, what the runner
# symbolises panics with and what gdb reads. It is remade whenever cargo's
# ELF is another file than the one it was made from: switching MM_DEBUG
# between two builds cargo already has re-links an older file, whose time
# stamp alone would not tell.
$(KERNEL_SYMS_ELF): $(KERNEL_ELF) platforms/tools/ksyms FORCE
	@mkdir -p $(@D)
	@id="$$(stat -L -c '%i %s %Y' $(KERNEL_ELF)) $$(stat -c %Y platforms/tools/ksyms)"; \
	if [ -f $@ ] && [ "$$(cat $@.from 2>/dev/null)" = "$$id" ]; then exit 0; fi; \
	echo "platforms/tools/ksyms --elf $(KERNEL_ELF) --out $@"; \
	platforms/tools/ksyms --elf $(KERNEL_ELF) --out $@ && echo "$$id" > $@.from

$(KERNEL_IMAGE): $(KERNEL_SYMS_ELF)
	@mkdir -p $(@D)
	@echo "==> kernel $(ARCH): $@"
	sysroot=$$(rustc --print sysroot); host=$$(rustc -vV | sed -n 's/^host: //p'); \
	"$$sysroot/lib/rustlib/$$host/bin/llvm-objcopy" -O binary $< $@.tmp
	mv $@.tmp $@

# --- root file system -----------------------------------------------------

rootfs: $(ROOTFS_IMG)

# Restaged on every call (cheap); the stamp changes only with the content.
$(STAGE_STAMP): FORCE $(BUSYBOX) $(BUSYBOX_LINKS)
	@if [ -f userspace-tests/Makefile ]; then \
		echo "==> rootfs $(ARCH): userspace tests"; \
		$(MAKE) --no-print-directory -C userspace-tests ARCH=$(ARCH) OUT=$(TESTS_OUT); \
	else \
		echo "warning: userspace-tests/Makefile not found; the image has no /opt/starling-tests" >&2; \
	fi
ifeq ($(ROOTFS),debian)
	platforms/tools/mkdebian tree --cache $(DEBIAN_CACHE)
	platforms/tools/mkdebian stage --cache $(DEBIAN_CACHE) --skel platforms/rootfs/debian \
		$$([ -f userspace-tests/Makefile ] && echo --tests $(TESTS_OUT)) \
		--out $(STAGING) --stamp $@
else
	platforms/tools/mkrootfs stage --busybox $(BUSYBOX) --links $(BUSYBOX_LINKS) \
		--skel platforms/rootfs/skel $$([ -f userspace-tests/Makefile ] && echo --tests $(TESTS_OUT)) \
		--out $(STAGING) --stamp $@
endif

$(ROOTFS_IMG): $(STAGE_STAMP) platforms/tools/mkrootfs
	platforms/tools/mkrootfs image --staging $(STAGING) --out $@

# --- booting --------------------------------------------------------------

run: $(KERNEL_IMAGE) $(ROOTFS_IMG)
	$(RUNNER) --mode run $(RUN_ARGS) --timeout $(TIMEOUT) --disk $(ROOTFS_IMG)

# CMD is written without ever passing through a shell: $(value) keeps it
# unexpanded and $(file) writes it as is. $(file) appends a newline unless
# the text already ends in one; the '@' makes that unconditional, and the
# runner strips exactly "@\n" (--cmd-format make). $(file) is expanded
# before the recipe runs, hence the directory is made by $(shell).
$(CMD_FILE): FORCE
	@$(shell mkdir -p $(@D))$(file >$@,$(value CMD)@)

# stdout carries nothing but the command's output, so the build runs in a
# sub-make whose output goes to stderr. The runner boots a sparse copy of
# the rootfs image, or with HOSTDIR a fresh image of staging + HOSTDIR at
# /host, made in its run directory, so one run never sees another's files.
exec: $(CMD_FILE)
	@$(MAKE) --no-print-directory ARCH=$(ARCH) ROOTFS=$(ROOTFS) $(KERNEL_IMAGE) \
		$(if $(HOSTDIR),$(STAGE_STAMP),$(ROOTFS_IMG)) >&2 || { rm -f $(CMD_FILE); exit 1; }
	@$(RUNNER) --mode exec $(RUN_ARGS) --timeout $(TIMEOUT) \
		$(if $(DISK),--disk $(call shquote,$(DISK)),$(if $(HOSTDIR),--disk-staging $(STAGING) --hostdir $(call shquote,$(HOSTDIR)),--disk-copy $(ROOTFS_IMG))) \
		--cmd-file $(CMD_FILE) --cmd-format make --remove-cmd-file

# make debug: the guest waits for gdb (make gdb, another terminal). With
# CMD it is exec with the stub (output and status as exec); without, it is
# run with the stub. docs/debugging.md has the walkthrough.
debug: $(if $(strip $(value CMD)),$(CMD_FILE))
	@$(MAKE) --no-print-directory ARCH=$(ARCH) ROOTFS=$(ROOTFS) $(KERNEL_IMAGE) \
		$(if $(and $(strip $(value CMD)),$(HOSTDIR)),$(STAGE_STAMP),$(ROOTFS_IMG)) >&2 || { rm -f $(CMD_FILE); exit 1; }
ifneq ($(strip $(value CMD)),)
	@$(RUNNER) --mode exec $(RUN_ARGS) --timeout $(TIMEOUT) --gdb-port $(GDB_PORT) \
		$(if $(DISK),--disk $(call shquote,$(DISK)),$(if $(HOSTDIR),--disk-staging $(STAGING) --hostdir $(call shquote,$(HOSTDIR)),--disk-copy $(ROOTFS_IMG))) \
		--cmd-file $(CMD_FILE) --cmd-format make --remove-cmd-file
else
	$(RUNNER) --mode run $(RUN_ARGS) --timeout $(TIMEOUT) --disk $(ROOTFS_IMG) --gdb-port $(GDB_PORT)
endif

# make gdb: waits up to 120 s for the stub, then runs gdb (gdb-multiarch on
# riscv64) with the kernel's symbols and platforms/tools/gdb/starling.py.
# The ELF must be the one make debug booted (same ARCH, same tree).
gdb:
	@platforms/tools/starling-gdb --arch $(ARCH) --elf $(KERNEL_SYMS_ELF) --port $(GDB_PORT) -- $(GDB_ARGS)

# --- tests and benchmarks -------------------------------------------------

test:
	platforms/tools/run-tests --make $(call shquote,$(MAKE) MM_DEBUG=1) --arches "$(ARCHES)" \
		--timeout $(TEST_TIMEOUT) --smp $(SMP) --mem $(MEM) --accel $(ACCEL) \
		$(if $(CPU),--cpu $(call shquote,$(CPU))) $(if $(QEMU),--qemu $(call shquote,$(QEMU)))

# The SMP stress test for minutes instead of make test's 20 seconds, on a
# kernel with mm-debug (every mm syscall re-checks the registry), then the
# lockup detector's own test. docs/reliability.md.
STRESS_MINUTES = $(if $(filter command line environment%,$(origin MINUTES)),$(MINUTES),5)
STRESS_SMP = $(if $(filter command line environment%,$(origin SMP)),$(SMP),4)

stress:
	@[ "$(STRESS_MINUTES)" -ge 1 ] 2>/dev/null || { echo "make stress: MINUTES must be a whole number >= 1" >&2; exit 2; }
	$(MAKE) --no-print-directory exec ARCH=$(ARCH) MM_DEBUG=1 SMP=$(STRESS_SMP) MEM=$(MEM) \
		ACCEL=$(ACCEL) $(if $(CPU),CPU=$(call shquote,$(CPU))) $(if $(QEMU),QEMU=$(call shquote,$(QEMU))) \
		CMD='STARLING_STRESS_SECONDS=$(shell echo $$((60 * $(STRESS_MINUTES)))) STARLING_TEST_TIMEOUT=$(shell echo $$((60 * $(STRESS_MINUTES) + 300))) /opt/starling-tests/run-smp stress lockup'

# The Debian image's programs (bash, coreutils, perl, python3, apt, …), each
# checked for its expected output by userspace-tests/debian/run-debian.
test-debian:
	$(MAKE) --no-print-directory exec $(SETTINGS) ARCH=x86_64 ROOTFS=debian \
		CMD='/opt/starling-tests/debian/run-debian'

# LTP from a host directory (an LTP install's testcases/bin). TIMEOUT is per
# test here (default 300 s).
LTP_TEST_TIMEOUT = $(if $(filter command line environment,$(origin TIMEOUT)),$(TIMEOUT),300)

ltp:
	@[ -n "$(LTP_DIR)" ] || { echo "make ltp: give LTP_DIR=/path/to/ltp/testcases/bin" >&2; exit 2; }
	@platforms/tools/run-ltp --make $(call shquote,$(MAKE)) --arch $(ARCH) \
		--ltp-dir $(call shquote,$(LTP_DIR)) --tests $(call shquote,$(TESTS)) \
		--timeout $(LTP_TEST_TIMEOUT) -- SMP=$(call shquote,$(SMP)) MEM=$(call shquote,$(MEM)) \
		ACCEL=$(call shquote,$(ACCEL)) $(if $(CPU),CPU=$(call shquote,$(CPU))) $(if $(QEMU),QEMU=$(call shquote,$(QEMU)))

# The benchmarks, RUNS boots per kernel, on Starling (always built without
# MM_DEBUG: its checks would be measured too) and on Debian's Linux kernel
# (x86_64; fetched once into target/cache/linux). platforms/tools/bench
# prints the table and writes target/bench/<arch>-smp<N>.csv and .png;
# TIMEOUT is per boot (default 900 s). docs/performance.md.
BENCH_TIMEOUT = $(if $(filter command line environment%,$(origin TIMEOUT)),$(TIMEOUT),900)

bench:
	@echo "==> bench $(ARCH): building Starling (MM_DEBUG=0)" >&2
	@$(MAKE) --no-print-directory ARCH=$(ARCH) MM_DEBUG=0 $(KERNEL_IMAGE) $(ROOTFS_IMG) >&2
	@platforms/tools/bench --arch $(ARCH) --kernel $(KERNEL_IMAGE) --disk $(ROOTFS_IMG) \
		--tests $(TESTS_OUT) --busybox $(BUSYBOX) --cache target/cache/linux --out target/bench \
		--run-dir $(RUN_DIR) --runs $(call shquote,$(RUNS)) --smp $(SMP) --mem $(MEM) \
		--accel $(ACCEL) --timeout $(BENCH_TIMEOUT) \
		$(if $(CPU),--cpu $(call shquote,$(CPU))) $(if $(QEMU),--qemu $(call shquote,$(QEMU)))

# Debian's trinity (fetched once with apt-get download into
# target/cache/trinity) as nobody in the busybox image for MINUTES, with a
# host-side watchdog for panics, hangs and kernel warnings; the last line is
# "fuzz: N calls, N errors, N panics, N hangs, N warnings". docs/reliability.md.
fuzz:
	@$(MAKE) --no-print-directory ARCH=$(ARCH) ROOTFS=busybox MM_DEBUG=$(MM_DEBUG) $(KERNEL_IMAGE) $(STAGE_STAMP) >&2
	@platforms/tools/fuzz --arch $(ARCH) --kernel $(KERNEL_IMAGE) --elf $(KERNEL_SYMS_ELF) \
		--staging $(STAGING) --cache target/cache/trinity --run-dir $(RUN_DIR) \
		--minutes $(call shquote,$(MINUTES)) $(if $(SEED),--seed $(call shquote,$(SEED))) \
		$(if $(TRINITY_ARGS),--trinity-args=$(call shquote,$(TRINITY_ARGS))) \
		--smp $(SMP) --mem $(MEM) --accel $(ACCEL) \
		$(if $(CPU),--cpu $(call shquote,$(CPU))) $(if $(QEMU),--qemu $(call shquote,$(QEMU)))

# The Linux side of the bad-argument sweep (userspace-tests/src/badargs.c):
# badargs --record in the Linux guest of make bench (x86_64), written to the
# table the in-guest sweep compares with. docs/reliability.md.
SWEEP_TABLE := userspace-tests/sweep/linux-6.1-x86_64.tsv

sweep-linux:
	@[ "$(ARCH)" = x86_64 ] || { echo "make sweep-linux: x86_64 only" >&2; exit 2; }
	@$(MAKE) --no-print-directory -C userspace-tests ARCH=x86_64 OUT=$(TESTS_OUT) >&2
	@platforms/tools/sweep-linux --tests $(TESTS_OUT) --busybox $(BUSYBOX) \
		--cache target/cache/linux --work target/sweep --out $(SWEEP_TABLE) \
		--mem $(MEM) --accel $(ACCEL) --timeout $(BENCH_TIMEOUT) \
		$(if $(CPU),--cpu $(call shquote,$(CPU))) $(if $(QEMU),--qemu $(call shquote,$(QEMU)))

# --- housekeeping ---------------------------------------------------------

# Keeps target/cache (the riscv64 busybox and its Debian source); rm -rf
# target for a completely fresh start.
clean:
	@if [ -d target ]; then find target -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +; fi
