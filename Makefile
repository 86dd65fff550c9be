# daedalus-v4l2 top-level build. Everything that runs in the testbed VM is built inside the
# testbed's Debian trixie rootfs (scripts/testbed chroot), so headers and libraries match the
# target userland; the module is built against the testbed kernel's tree.
#
#   make            testbed (cached), module, daemon and test tools
#   make debs       the Debian packages (build/deb/); make debs-arm64: cross-built (build/arm64/deb/)
#   make check      every test: unit tests, then the testbed's own tests, then the VM tests
#   make check-quick  the inner loop (<= 5 min warm): unit tests, compliance, protocol, a clip per codec
#   make check-arm64  the Raspberry Pi 5 lane: arm64 VM (16 KiB pages) with module and daemon
#   make demo       boot the testbed with the module and daemon and show what it decodes
#   make shell      an interactive shell in the testbed VM
#   make clips      every test clip, encoded on the host (make check does it before the VM tests)
#   make bench      daedalus-v4l2-bench: engine vs FFmpeg, device vs GStreamer's software
#                   decoders, parallel streams (docs/performance.md); BENCH_ARGS=--quick
#   make bench-inflight  the device with 1 and 2 jobs of a stream in flight, side by side
#   make fuzz       libFuzzer on the daemon's untrusted boundary, FUZZ_SECONDS (600) per codec,
#                   FUZZ_CODEC=h264|vp8|vp9|av1 for one (docs/security.md); make check runs
#                   a 20 s run per codec
#   make fuzz-deep  the same with FFmpeg and dav1d built with coverage and ASan
#                   (scripts/fuzz-libs: the target's releases from the Debian archive, pinned),
#                   so the fuzzer also steers by, and checks, the decoders' own code
#   make fuzz-ioctl the kernel's ioctls under random client sequences in the VM, FUZZ_SECONDS
#                   (600) in all, FUZZ_KERNEL=debug|normal (debug: KASAN, lockdep, UBSAN),
#                   FUZZ_SEED (1); make check runs 80 s (seed 1) under the normal kernel
#                   and 60 s (seed 1001) under the debug kernel
#   make soak       tests/soak/daemon-soak.sh: SOAK_FRAMES (10000) frames, several streams at once,
#                   under the debug kernel booted with kmemleak=on (docs/testing.md, "Soak")

TESTBED := scripts/testbed
BUILD := build

.PHONY: all testbed testbed-debug testbed-arm64 testbed-all module module-debug module-arm64 daemon tools debs \
	debs-arm64 daemon-arm64 tools-arm64 check check-quick check-unit check-arm64 \
	check-testbed check-vm demo shell bench bench-inflight clips fuzz fuzz-deep fuzz-ioctl soak clean

all: testbed module daemon tools

testbed:
	$(TESTBED) build

testbed-debug:
	$(TESTBED) build --debug-kernel

# The Pi 5 lane: the arm64 rootfs (made through qemu-user) and the 16 KiB-page arm64 kernel.
testbed-arm64:
	$(TESTBED) --arch arm64 build

# Everything check needs, the arm64 rootfs made beside the amd64 rootfs and kernels.
testbed-all:
	$(TESTBED) build --debug-kernel --arm64-lane

# The module is built in a copy of kernel/ and include/ per kernel variant (6.12 kbuild has no
# separate output directory for external modules), then its .ko lands in build/kernel[-debug]/,
# which is where `testbed run` loads modules from.
module: testbed
	scripts/build module normal

module-debug: testbed-debug
	scripts/build module debug

# The Pi 5 is arm64 with 16 KiB pages: the module must build there too (cross-compiled).
module-arm64: testbed-arm64
	scripts/build module arm64

daemon: testbed
	scripts/build daemon

tools: testbed
	scripts/build tools

# daedalus-v4l2-dkms and daedalus-v4l2-daemon (debian/), into build/deb/; the VM test
# tests/vm/packages.sh installs and purges them.
debs: testbed
	scripts/build debs

# The Pi 5's daemon package, cross-built with dpkg-buildpackage -a arm64 in the amd64 rootfs.
debs-arm64: testbed
	scripts/build debs arm64

# The daemon for the arm64 VM, cross-built in the amd64 rootfs into build/arm64/daemon; the
# test tools, built in the arm64 rootfs (qemu-user) into build/arm64/tests.
daemon-arm64: testbed
	scripts/build daemon arm64

tools-arm64: testbed-arm64
	scripts/build tools arm64

# The arm64 lane is in check too, without its arm64-full tests (docs/testing.md). scripts/check
# builds what the targets above build, one timed stage after the other, and prints the stage
# times at the end.
check:
	scripts/check full

# The inner loop (at most 5 minutes warm): the unit tests beside one VM boot with compliance,
# the protocol round trip and one clip per codec.
check-quick:
	scripts/check quick

# The whole arm64 lane (slow: qemu-system-aarch64 under TCG; see docs/testing.md).
check-arm64: module-arm64 daemon-arm64 debs-arm64 clips
	tests/run arm64

check-unit: all
	tests/run unit

check-testbed: testbed
	tests/run testbed

check-vm: all debs testbed-debug module-debug clips
	tests/run vm

clips: testbed
	$(TESTBED) chroot -- tests/media/make-clips

demo: all
	scripts/demo

shell: all
	$(TESTBED) shell

bench: all
	scripts/bench

bench-inflight: all
	scripts/bench-inflight

FUZZ_SECONDS ?= 600
FUZZ_CODEC ?= all
fuzz: testbed
	scripts/fuzz $(FUZZ_CODEC) $(FUZZ_SECONDS)
fuzz-deep: testbed
	scripts/fuzz --instrumented-libs $(FUZZ_CODEC) $(FUZZ_SECONDS)

# tests/vm/kernel-ioctl-fuzz.sh for longer: its four phases share FUZZ_SECONDS
FUZZ_KERNEL ?= debug
FUZZ_SEED ?= 1
fuzz-ioctl: all $(if $(filter debug,$(FUZZ_KERNEL)),module-debug)
	$(TESTBED) run $(if $(filter debug,$(FUZZ_KERNEL)),--debug-kernel) --no-daemon \
		--module-params job_timeout_ms=1000 --timeout $$(($(FUZZ_SECONDS) * 2 + 600)) \
		-- tests/vm/kernel-ioctl-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_SEED)

# The soak: not in make check (its measured time is in docs/testing.md); the debug kernel's
# kmemleak is off unless the boot asks for it. SOAK_MODULE_PARAMS (e.g. job_timeout_ms=10000)
# for a host too loaded for the 2 s watchdog; the default keeps the module's own.
SOAK_FRAMES ?= 10000
SOAK_MODULE_PARAMS ?=
soak: all clips module-debug
	$(TESTBED) run --debug-kernel --no-daemon --kernel-args kmemleak=on \
		$(if $(SOAK_MODULE_PARAMS),--module-params "$(SOAK_MODULE_PARAMS)") \
		--timeout $$(($(SOAK_FRAMES) / 2 + 900)) -- tests/soak/daemon-soak.sh $(SOAK_FRAMES)

clean:
	rm -rf $(BUILD)
