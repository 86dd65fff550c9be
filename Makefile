# daedalus-v4l2 top-level build. Everything that runs in the testbed VM is built inside the
# testbed's Debian trixie rootfs (scripts/testbed chroot), so headers and libraries match the
# target userland; the module is built against the testbed kernel's tree.
#
#   make            testbed (cached), module, daemon and test tools
#   make check      every test: unit tests, then the testbed's own tests, then the VM tests
#   make demo       boot the testbed with the module and daemon and show what it decodes
#   make shell      an interactive shell in the testbed VM

TESTBED := scripts/testbed
BUILD := build

.PHONY: all testbed testbed-debug testbed-arm64 module module-debug module-arm64 daemon tools \
	check check-unit \
	check-testbed check-vm demo shell clean

all: testbed module daemon tools

testbed:
	$(TESTBED) build

testbed-debug:
	$(TESTBED) build --debug-kernel

testbed-arm64:
	$(TESTBED) build --arm64-kernel

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

check: all testbed-debug module-debug module-arm64
	tests/run all

check-unit: all
	tests/run unit

check-testbed: testbed
	tests/run testbed

check-vm: all testbed-debug module-debug
	tests/run vm

demo: all
	scripts/demo

shell: all
	$(TESTBED) shell

clean:
	rm -rf $(BUILD)
