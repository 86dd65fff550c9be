/* SPDX-License-Identifier: BSD-2-Clause */
#include <linux/videodev2.h>

#include "report.h"

/* A JSON string: the file name is whatever the caller passed. */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static const char *fourcc_name(uint32_t fourcc)
{
	switch (fourcc) {
	case V4L2_PIX_FMT_NV12:
		return "NV12";
	case V4L2_PIX_FMT_P010:
		return "P010";
	case V4L2_PIX_FMT_YUV420M:
		return "YUV420M";
	default:
		return "none";
	}
}

void bench_report_json(FILE *out, const struct bench_result *r)
{
	fputs("{\"codec\":", out);
	json_string(out, r->codec);
	fputs(",\"file\":", out);
	json_string(out, r->file);
	fputs(",\"backend\":", out);
	json_string(out, r->backend ? r->backend : "");
	fprintf(out, ",\"threads\":%u,\"lookahead\":%u,\"inflight\":%u,\"frame_delay\":%u,"
		"\"repeat\":%u,\"jobs\":%ld,"
		"\"pictures\":%ld,\"shown\":%ld,\"failed\":%ld,\"width\":%u,\"height\":%u,"
		"\"bits\":%u,\"fourcc\":\"%s\",\"wall_s\":%.6f,\"cpu_s\":%.6f,\"decode_s\":%.6f,"
		"\"drains\":%ld,\"grace_waits\":%ld,\"maxrss_kib\":%ld,\"capture_alloc_s\":%.6f",
		r->threads, r->lookahead, r->inflight, r->frame_delay, r->repeat, r->jobs, r->pictures, r->shown, r->failed,
		r->width, r->height, r->bits, fourcc_name(r->fourcc), r->wall_s, r->cpu_s,
		r->decode_s, r->drains, r->grace_waits, r->maxrss_kib, r->capture_alloc_s);
	if (r->md5_last) {
		fputs(",\"md5_last\":", out);
		json_string(out, r->md5_last);
	}
	fputs("}\n", out);
}
