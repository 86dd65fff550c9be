#!/bin/bash
# Package mirrors are the host's business: no URL may appear in what builds or tests the
# project (scripts, CI, make and test files), except reserved example/invalid names.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
hits=$(git ls-files -co --exclude-standard -- scripts .ci Makefile tests debian kernel daemon include |
	xargs -r grep -nIE '(https?|ftp)://[A-Za-z0-9.-]+' 2>/dev/null |
	grep -vE '(https?|ftp)://([A-Za-z0-9-]+\.)*(example\.(org|com|net)|invalid|localhost)([/:" ]|$)')
if [ -n "$hits" ]; then
	echo "URLs found (name no hosts in the project):"
	echo "$hits"
	exit 1
fi
echo "ok: no host names in $(git ls-files -co --exclude-standard -- scripts .ci Makefile tests | wc -l) files"
