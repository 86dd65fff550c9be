#!/bin/bash
# check-clip.py with several --check options (lib.sh's check_clips) judges each clip on its
# own although all of them share one Python and one gst-decode process: run here in the
# rootfs on the host, with GStreamer's software decoders standing in for the device's
# (libvpx's vp8dec and vp9dec, whose output is the reference's, in NV12 through
# videoconvert). A correct decode of every clip must pass with exit status 0; the same list
# with every VP9 picture mirrored must fail exactly the VP9 checks (status 2) and still pass
# the VP8 ones; an unknown element must fail its own check only; and a gst-decode that dies
# after its first pipeline must fail the checks it never finished.
set -u
CK=$(cd "$(dirname "$0")/../.." && pwd)
cd "$CK" || exit 1
tmp=$(mktemp -d "$CK/build/check-clips-accounting.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$CK/build/media/clips"
cat >"$tmp/run.sh" <<'EOF'
#!/bin/bash
# in the rootfs: $1 = checkout, $2 = scratch directory
set -u
ck=$1 tmp=$2
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/gst-decode" "$ck/tests/media/gst-decode.c" \
	$(pkg-config --cflags --libs gstreamer-1.0) || { echo "FAIL: cannot build gst-decode"; exit 1; }
# gst-decode with the device's decoders replaced: $tmp/decode-MODE
for mode in good mirror unknown die; do
	case $mode in
	good) vp9="vp9dec ! videoconvert" ;;
	mirror) vp9="vp9dec ! videoflip method=horizontal-flip ! videoconvert" ;;
	unknown) vp9="no-such-decoder" ;;
	die) vp9="vp9dec ! videoconvert" ;;
	esac
	cat >"$tmp/decode-$mode" <<-EOT
		#!/bin/bash
		args=()
		for a in "\$@"; do
			a=\${a//v4l2slvp8dec max-errors=-1/vp8dec ! videoconvert}
			a=\${a//v4l2slvp9dec max-errors=-1/$vp9}
			args+=("\$a")
		done
		if [ $mode = die ]; then
			# the output ends after the first pipeline's: the process "died" there
			"$tmp/gst-decode" "\${args[@]}" | sed '/^status /q'
			exit 139
		fi
		exec "$tmp/gst-decode" "\${args[@]}"
	EOT
	chmod +x "$tmp/decode-$mode"
done
fail=0
expect() { # mode, expected status, expected PASS lines, expected FAIL lines
	local out st p f
	out=$(python3 "$ck/tests/media/check-clip.py" --workdir "$ck/build/media/clips" \
		--gst-decode "$tmp/decode-$1" --check "--clip vp8-altref-odd" \
		--check "--clip vp9-altref-odd --seek 8:1.2" --check "--clip vp8-reschange" \
		--check "--clip vp9-tiles" 2>&1)
	st=$?
	p=$(grep -c '^PASS ' <<<"$out") f=$(grep -c '^FAIL ' <<<"$out")
	if [ "$st" = "$2" ] && [ "$p" = "$3" ] && [ "$f" = "$4" ]; then
		echo "ok   $1: status $st, $p passed, $f failed"
	else
		echo "FAIL $1: status $st, $p passed, $f failed (expected $2, $3, $4):"
		grep -v "MISMATCH frame" <<<"$out" | sed 's/^/    /'
		fail=1
	fi
}
expect good 0 4 0
expect mirror 2 2 2
expect unknown 2 2 2
expect die 3 1 3
exit $fail
EOF
chmod +x "$tmp/run.sh"
scripts/testbed chroot -- "$tmp/run.sh" "$CK" "$tmp"
