#!/bin/bash
# The libFuzzer targets of the daemon's untrusted boundary (daemon/fuzz, docs/security.md),
# each codec for a short run from the seed corpus (20 s each, in a fresh corpus): they build
# with clang, ASan and UBSan in the testbed rootfs, every seed decodes, and nothing the
# fuzzer reaches in that time crashes. The long runs are `make fuzz` (scripts/fuzz).
CK=$(cd "$(dirname "$0")/../.." && pwd)
exec "$CK/scripts/fuzz" --check all "${DAEDALUS_FUZZ_CHECK_SECONDS:-20}"
