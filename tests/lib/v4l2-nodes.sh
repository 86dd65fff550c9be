# Sourced by VM tests that use other drivers' video nodes beside ours (visl, vimc).

# find_node DRIVER [CARD]: the first /dev/video* whose driver (and card name, if given) match.
find_node() {
	local d
	for d in /dev/video*; do
		v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Driver name *: $1\$" || continue
		[ -z "${2:-}" ] || v4l2-ctl -d "$d" -D 2>/dev/null | grep -q "Name *: $2" || continue
		echo "$d"
		return
	done
}
