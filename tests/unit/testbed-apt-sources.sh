#!/bin/bash
# The testbed rootfs must come from the host's own Debian archive (the project names no mirror):
# scripts/testbed turns the host's apt entries, one-line or deb822, into trixie entries.
set -euo pipefail
CK=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # name expected actual
	if [ "$2" == "$3" ]; then echo "ok   $1"; else
		echo "FAIL $1"; echo " expected: $2" | cat -A | head -5; echo " actual:   $3" | cat -A | head -5; fail=1; fi
}
sources() { DAEDALUS_APT_ETC=$1 DAEDALUS_TESTBED_SOURCED=1 bash -c ". '$CK/scripts/testbed'; host_debian_sources"; }

mkdir -p "$tmp/a/sources.list.d"
cat >"$tmp/a/sources.list.d/debian.sources" <<'S'
Types: deb
# a comment
URIs: http://archive.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://src.example.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main
S
cat >"$tmp/a/sources.list.d/other.sources" <<'S'
Types: deb
URIs: https://vendor.example.com/apt
Suites: nodistro
Components: main
S
check deb822 "deb http://archive.example.org/debian trixie main
deb http://archive.example.org/debian trixie-updates main
deb http://security.example.org/debian-security trixie-security main" "$(sources "$tmp/a")"

mkdir -p "$tmp/b"
cat >"$tmp/b/sources.list" <<'S'
# deb http://commented.example.org/debian bookworm main
deb [arch=amd64 signed-by=/x.gpg] http://one.example.org/debian trixie main contrib
deb http://one.example.org/debian-security trixie-security main
S
check one-line "deb http://one.example.org/debian trixie main
deb http://one.example.org/debian trixie-updates main
deb http://one.example.org/debian-security trixie-security main" "$(sources "$tmp/b")"

mkdir -p "$tmp/c"
echo "deb http://ubuntu.example.org/ubuntu noble main" >"$tmp/c/sources.list"
check "no Debian entry: mmdebstrap's default" "" "$(sources "$tmp/c")"
exit $fail
