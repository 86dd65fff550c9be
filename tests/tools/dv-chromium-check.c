/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dv-chromium-check [VIDEO MEDIA]: what Chromium's V4L2 stateless decoder asks of a device
 * before it decodes anything (media/gpu/v4l2/: V4L2Device, V4L2VideoDecoder, v4l2_utils):
 * - the video node is MPLANE m2m with STREAMING;
 * - the media node it opens beside it (/dev/media-decN) describes the same device: Chromium
 *   pairs them by MEDIA_IOC_DEVICE_INFO's bus_info, then driver, against QUERYCAP's;
 * - the OUTPUT queue supports requests (REQBUFS count 0) and CAPTURE imports DMABUF (its
 *   frame pool), and a request can be allocated;
 * - H.264, VP8 and VP9 (and AV1) are offered, each with its profiles listed by QUERYCTRL and
 *   QUERYMENU (Chromium reports only those), and ENUM_FRAMESIZES says how large: a device
 *   that gives no STEPWISE or CONTINUOUS range is taken to stop at 1920x1088.
 * Without arguments the video node is found by its driver name and the media node
 * independently (any /dev/mediaN of the same driver), so the pairing is really checked; with
 * them (e.g. /dev/video-dec0 /dev/media-dec0, the udev rule's names) those nodes are used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/media.h>
#include <linux/videodev2.h>
#include <linux/v4l2-controls.h>

#include "dv_check.h"

int dv_check_fails;

static bool ours(const char *driver)
{
	return !strcmp(driver, "daedalus-v4l2") || !strcmp(driver, "daedalus_v4l2");
}

static int find_video(struct v4l2_capability *cap)
{
	char path[32];

	for (int i = 0; i < 64; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, cap) && ours((const char *)cap->driver)) {
			printf("     video node %s\n", path);
			return fd;
		}
		close(fd);
	}
	return -1;
}

static int find_media(struct media_device_info *info)
{
	char path[32];

	for (int i = 0; i < 64; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/media%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, MEDIA_IOC_DEVICE_INFO, info) && ours(info->driver)) {
			printf("     media node %s\n", path);
			return fd;
		}
		close(fd);
	}
	return -1;
}

static bool offered(int vfd, uint32_t fourcc)
{
	struct v4l2_fmtdesc d = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE };

	for (d.index = 0; !ioctl(vfd, VIDIOC_ENUM_FMT, &d); d.index++)
		if (d.pixelformat == fourcc)
			return true;
	return false;
}

/* The menu items QUERYMENU accepts between the control's minimum and maximum, as a bit mask. */
static unsigned int profiles(int vfd, uint32_t id)
{
	struct v4l2_queryctrl q = { .id = id };
	unsigned int mask = 0;

	if (ioctl(vfd, VIDIOC_QUERYCTRL, &q) || q.type != V4L2_CTRL_TYPE_MENU)
		return 0;
	for (int i = q.minimum; i <= q.maximum && i < 32; i++) {
		struct v4l2_querymenu m = { .id = id, .index = (uint32_t)i };

		if (!ioctl(vfd, VIDIOC_QUERYMENU, &m))
			mask |= 1u << i;
	}
	return mask;
}

static void codec(int vfd, const char *name, uint32_t fourcc, uint32_t profile_id,
		  unsigned int want_profiles)
{
	struct v4l2_frmsizeenum fs = { .index = 0, .pixel_format = fourcc };
	unsigned int got;
	bool range;

	CHECK(offered(vfd, fourcc), "%s: ENUM_FMT(OUTPUT) offers %.4s", name, (char *)&fourcc);
	got = profiles(vfd, profile_id);
	CHECK((got & want_profiles) == want_profiles,
	      "%s: QUERYMENU lists profiles %#x, Chromium needs %#x", name, got, want_profiles);
	errno = 0;
	range = !ioctl(vfd, VIDIOC_ENUM_FRAMESIZES, &fs) &&
		(fs.type == V4L2_FRMSIZE_TYPE_STEPWISE || fs.type == V4L2_FRMSIZE_TYPE_CONTINUOUS);
	CHECK(range && fs.stepwise.max_width > 1920 && fs.stepwise.max_height > 1088,
	      "%s: ENUM_FRAMESIZES %s %ux%u..%ux%u (above Chromium's 1920x1088 fallback)", name,
	      range ? "range" : "no range", range ? fs.stepwise.min_width : 0,
	      range ? fs.stepwise.min_height : 0, range ? fs.stepwise.max_width : 0,
	      range ? fs.stepwise.max_height : 0);
}

int main(int argc, char **argv)
{
	struct v4l2_capability cap = { 0 };
	struct media_device_info info = { 0 };
	struct v4l2_requestbuffers rb;
	int vfd, mfd, req = -1;

	if (argc == 3) {
		vfd = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC);
		CHECK(vfd >= 0 && !ioctl(vfd, VIDIOC_QUERYCAP, &cap), "open and QUERYCAP %s",
		      argv[1]);
		mfd = open(argv[2], O_RDWR | O_CLOEXEC);
		CHECK(mfd >= 0 && !ioctl(mfd, MEDIA_IOC_DEVICE_INFO, &info),
		      "open and MEDIA_IOC_DEVICE_INFO %s", argv[2]);
	} else if (argc == 1) {
		vfd = find_video(&cap);
		CHECK(vfd >= 0, "a daedalus-v4l2 video node (QUERYCAP driver)");
		mfd = find_media(&info);
		CHECK(mfd >= 0, "a daedalus-v4l2 media node (MEDIA_IOC_DEVICE_INFO driver)");
	} else {
		fprintf(stderr, "usage: dv-chromium-check [VIDEO MEDIA]\n");
		return 2;
	}
	if (vfd < 0 || mfd < 0)
		return 1;
	printf("     QUERYCAP driver '%s' bus_info '%s'; media driver '%s' bus_info '%s' model '%s'\n",
	       (char *)cap.driver, (char *)cap.bus_info, info.driver, info.bus_info, info.model);
	CHECK(ours((const char *)cap.driver), "the video node is daedalus-v4l2's");
	CHECK((cap.capabilities & V4L2_CAP_DEVICE_CAPS) &&
	      (cap.device_caps & V4L2_CAP_VIDEO_M2M_MPLANE) &&
	      (cap.device_caps & V4L2_CAP_STREAMING),
	      "device_caps %#x: VIDEO_M2M_MPLANE and STREAMING", cap.device_caps);
	CHECK(!strcmp(info.bus_info, (const char *)cap.bus_info),
	      "media bus_info equals QUERYCAP's (Chromium pairs the nodes by it)");
	CHECK(!strcmp(info.driver, (const char *)cap.driver),
	      "media driver equals QUERYCAP's (Chromium's second pairing rule)");

	rb = (struct v4l2_requestbuffers){ .count = 0,
		.type = V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE, .memory = V4L2_MEMORY_MMAP };
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) &&
	      (rb.capabilities & V4L2_BUF_CAP_SUPPORTS_REQUESTS),
	      "REQBUFS(0) on OUTPUT: capabilities %#x have SUPPORTS_REQUESTS", rb.capabilities);
	rb = (struct v4l2_requestbuffers){ .count = 0,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE, .memory = V4L2_MEMORY_DMABUF };
	CHECK(!ioctl(vfd, VIDIOC_REQBUFS, &rb) &&
	      (rb.capabilities & V4L2_BUF_CAP_SUPPORTS_DMABUF),
	      "REQBUFS(0, DMABUF) on CAPTURE: capabilities %#x have SUPPORTS_DMABUF",
	      rb.capabilities);
	CHECK(!ioctl(mfd, MEDIA_IOC_REQUEST_ALLOC, &req) && req >= 0,
	      "MEDIA_IOC_REQUEST_ALLOC on the media node");
	if (req >= 0)
		close(req);

	codec(vfd, "H.264", V4L2_PIX_FMT_H264_SLICE, V4L2_CID_MPEG_VIDEO_H264_PROFILE,
	      1u << V4L2_MPEG_VIDEO_H264_PROFILE_BASELINE |
	      1u << V4L2_MPEG_VIDEO_H264_PROFILE_CONSTRAINED_BASELINE |
	      1u << V4L2_MPEG_VIDEO_H264_PROFILE_MAIN | 1u << V4L2_MPEG_VIDEO_H264_PROFILE_HIGH);
	codec(vfd, "VP8", V4L2_PIX_FMT_VP8_FRAME, V4L2_CID_MPEG_VIDEO_VP8_PROFILE,
	      1u << V4L2_MPEG_VIDEO_VP8_PROFILE_0);
	codec(vfd, "VP9", V4L2_PIX_FMT_VP9_FRAME, V4L2_CID_MPEG_VIDEO_VP9_PROFILE,
	      1u << V4L2_MPEG_VIDEO_VP9_PROFILE_0 | 1u << V4L2_MPEG_VIDEO_VP9_PROFILE_2);
	codec(vfd, "AV1", V4L2_PIX_FMT_AV1_FRAME, V4L2_CID_MPEG_VIDEO_AV1_PROFILE,
	      1u << V4L2_MPEG_VIDEO_AV1_PROFILE_MAIN);
	close(vfd);
	close(mfd);
	printf("dv-chromium-check: %s (%d failed)\n", dv_check_fails ? "FAIL" : "PASS",
	       dv_check_fails);
	return dv_check_fails ? 1 : 0;
}
