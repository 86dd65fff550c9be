#!/bin/bash
# The daemon's 32-bit build (i386, the stand-in for armhf userlands: the package is
# Architecture: any), cross-compiled in the testbed rootfs against its i386 FFmpeg 7.1, dav1d
# and libseccomp with the project's -Werror flags (format strings of 64-bit values,
# narrowing), and its unit tests run as 32-bit programs: a 32-bit size_t, long and pointer in
# every writer, check, queue and budget, and the warm-up decodes through the real i386
# libraries. The machines this project runs on cannot execute 32-bit binaries (ENOEXEC: their
# kernel's IA32 emulation is off), so the tests run under the host's qemu-i386-static
# (scripts/install-host-deps), with the rootfs as their root for libraries (-L). The clip tests
# are not run here: their harness needs the rootfs's FFmpeg and Python around the emulated
# decoder, and under emulation they would take minutes (they run natively in daemon-engine.sh).
# Fails if the build fails, if the binaries are not 32-bit, if any test fails, or if the set
# of tests run is not every test of the i386 build that is a program of its own.
set -uo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
dir=build/i386/daemon
QEMU=/usr/bin/qemu-i386-static
[ -x "$QEMU" ] || { echo "FAIL: no $QEMU (scripts/install-host-deps installs qemu-user-static)"; exit 1; }
eval "$(scripts/testbed env)" || exit 1
{ scripts/build daemon i386 >/dev/null &&
	scripts/testbed chroot -- /bin/bash -c "meson introspect $dir --tests >$dir/tests.json"; } ||
	{ echo "FAIL: the i386 build"; echo "daemon-i386: FAIL"; exit 1; }
python3 - "$QEMU" "$ROOTFS" "$CK/$dir" <<'PY'
import json, os, subprocess, sys, time

qemu, rootfs, build = sys.argv[1:]
tests = json.load(open(os.path.join(build, "tests.json")))
# what the emulator cannot run, with why (printed and counted, never silent)
emulator_cannot = {
    "bufcache": "qemu-user does not translate the dmabuf ioctls (DMA_BUF_IOCTL_SYNC answers "
                "ENOSYS) nor udmabuf's mappings",
}
failed = 0
ran = []
not_run = []
for t in tests:
    cmd = t["cmd"]
    if not cmd[0].startswith(build + "/"):
        continue  # a Python harness around a clip decode: not run here (above)
    if t["name"] in emulator_cannot:
        print(f"XFAIL build/i386/daemon {t['name']}: not run under qemu-user: {emulator_cannot[t['name']]}")
        not_run.append(t["name"])
        continue
    with open(cmd[0], "rb") as f:
        head = f.read(5)
    if head[:4] != b"\x7fELF" or head[4] != 1:
        print(f"FAIL {t['name']}: {cmd[0]} is not a 32-bit ELF program")
        failed += 1
        continue
    env = dict(os.environ, **(t.get("env") or {}))
    t0 = time.monotonic()
    try:
        p = subprocess.run([qemu, "-L", rootfs] + cmd, cwd=t.get("workdir") or build, env=env,
                           capture_output=True, text=True, timeout=max(t.get("timeout") or 30, 30) * 4)
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        rc, out = -1, "timed out"
    secs = time.monotonic() - t0
    ran.append(t["name"])
    if rc == 0:
        print(f"ok   {t['name']} ({secs:.1f} s)")
    else:
        failed += 1
        print(f"FAIL {t['name']} (exit {rc}, {secs:.1f} s)")
        print("\n".join("    " + l for l in out.strip().splitlines()[-20:]))
skipped = len(tests) - len(ran) - len(not_run)
if len(ran) < 15:
    print(f"FAIL only {len(ran)} program tests found in the i386 build")
    failed += 1
print(f"{len(ran)} unit tests run as i386 programs, {failed} failed; not run: {len(not_run)} "
      f"the emulator cannot run, {skipped} clip tests")
sys.exit(1 if failed else 0)
PY
rc=$?
[ $rc = 0 ] && echo "daemon-i386: PASS" || echo "daemon-i386: FAIL"
exit $rc
