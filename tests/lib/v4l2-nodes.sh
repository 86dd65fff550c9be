# Sourced by VM tests to find a driver's video node and its media node: our module's
# (daedalus-v4l2) and other drivers' beside it (visl, vimc). The node numbers depend on which
# drivers loaded first, so tests never assume /dev/video0.

# find_node DRIVER [CARD]: the first /dev/video* whose driver (and card name, if given) match.
# Device nodes only, not the packaged udev rule's /dev/video-dec0 link (which sorts first, and
# whose name is not the device's in /sys).
find_node() {
	local d
	for d in /dev/video*; do
		[ -c "$d" ] && [ ! -L "$d" ] || continue
		v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Driver name *: $1\$" || continue
		[ -z "${2:-}" ] || v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Name *: $2" || continue
		echo "$d"
		return
	done
}

# media_node_of VIDEO: the /dev/media* of the same device as the video node VIDEO (nothing if
# it has none).
media_node_of() {
	local m
	m=$(ls -d /sys/class/video4linux/"$(basename "$(readlink -f "$1")")"/device/media* 2>/dev/null | head -n 1)
	[ -z "$m" ] || echo "/dev/$(basename "$m")"
}
