/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The H.264 access rules (h264_access.c) when the engine's set of decoded pictures is full,
 * as it is 4096 pictures after the last IDR of an open-GOP stream: it forgets the pictures
 * least recently named, never a live reference, and still fails a picture that names one it
 * forgot or never decoded (it used to say "decoded" to everything once full); a picture that
 * failed is never usable as a reference. And the empty DPB of a picture with P or B slices:
 * allowed only first after a flush (an intra-refresh recovery point the client resumed at).
 */
#include <stdio.h>
#include <string.h>

#include "h264_access.h"
#include "ref_set.h"

static int failures;

#include "test_check.h"

/* A P picture with POC poc at timestamp ts whose DPB lists ref; 0 if it may decode. */
static int check_p(struct dd_h264_access *a, const struct dd_ref_set *decoded, uint64_t ts,
		   uint64_t ref, struct dd_error *err)
{
	struct v4l2_ctrl_h264_decode_params dp = { .top_field_order_cnt = 100,
						   .bottom_field_order_cnt = 100 };
	struct dd_job job = { .codec = DD_CODEC_H264, .timestamp = ts };
	struct dd_expectation x = { .num_refs = 1, .ref_ts = { ref } };

	job.ctrl.h264.decode_params = &dp;
	memset(err, 0, sizeof(*err));
	return dd_h264_access_check(a, &job, &x, decoded, err);
}

/* A P picture whose DPB lists nothing for reference (dd_expectation.no_refs). */
static int check_no_refs(struct dd_h264_access *a, const struct dd_ref_set *decoded,
			 struct dd_error *err)
{
	struct v4l2_ctrl_h264_decode_params dp = { .top_field_order_cnt = 8,
						   .bottom_field_order_cnt = 8 };
	struct dd_job job = { .codec = DD_CODEC_H264, .timestamp = 7000 };
	struct dd_expectation x = { .no_refs = true };

	job.ctrl.h264.decode_params = &dp;
	memset(err, 0, sizeof(*err));
	return dd_h264_access_check(a, &job, &x, decoded, err);
}

static void empty_dpb(void)
{
	struct v4l2_ctrl_h264_decode_params dp = { .top_field_order_cnt = 4,
						   .bottom_field_order_cnt = 4 };
	struct dd_job job = { .codec = DD_CODEC_H264, .timestamp = 6000 };
	struct dd_expectation p = { .num_refs = 0, .no_refs = true };
	struct dd_h264_access a;
	struct dd_ref_set decoded;
	struct dd_error err;

	dd_h264_access_init(&a);
	dd_ref_set_init(&decoded);
	job.ctrl.h264.decode_params = &dp;
	CHECK(check_no_refs(&a, &decoded, &err) == 0,
	      "first picture after open, P slices, empty DPB (a recovery point) refused: %s",
	      err.msg);
	/* it decoded: the next such picture is mid-stream */
	dd_h264_access_decoded(&a, &job, &p, &decoded);
	dd_ref_set_add(&decoded, 6000);
	CHECK(check_no_refs(&a, &decoded, &err) == -1 && err.kind == DD_ERR_REFERENCE &&
	      strstr(err.msg, "no picture for reference"),
	      "mid-stream P picture with an empty DPB: %s", err.msg[0] ? err.msg : "passed");
	dd_h264_access_reset(&a); /* a flush */
	CHECK(check_no_refs(&a, &decoded, &err) == 0,
	      "first picture after a flush, P slices, empty DPB refused: %s", err.msg);
	dd_h264_access_free(&a);
	dd_ref_set_free(&decoded);
}

int main(void)
{
	struct dd_h264_access a;
	struct dd_ref_set decoded;
	struct dd_error err;
	uint64_t ts;

	dd_h264_access_init(&a);
	dd_ref_set_init(&decoded);
	for (ts = 1; ts <= 10; ts++)
		dd_ref_set_add(&decoded, ts * 1000);
	CHECK(check_p(&a, &decoded, 11000, 5000, &err) == 0,
	      "a P picture predicted from a decoded picture failed: %s", err.msg);
	CHECK(check_p(&a, &decoded, 11000, 99000, &err) == -1,
	      "a P picture predicted from a picture never decoded passed");

	/*
	 * Past the set's capacity, each picture naming 5000 and 6000 (the live references, as
	 * engine.c's record_success() touches them): the others are forgotten first
	 */
	for (ts = 11; ts <= DD_REF_SET_CAPACITY + 20; ts++) {
		dd_ref_set_touch(&decoded, 5000);
		dd_ref_set_touch(&decoded, 6000);
		dd_ref_set_add(&decoded, ts * 1000);
	}
	CHECK(!dd_ref_set_contains(&decoded, 12345), "the full set says yes to a picture never "
	      "decoded");
	CHECK(!dd_ref_set_contains(&decoded, 2000), "the full set still holds the picture least "
	      "recently named");
	CHECK(check_p(&a, &decoded, 9999000, 2000, &err) == -1,
	      "with the decoded set full, a P picture predicted from a forgotten picture passed");
	CHECK(dd_ref_set_contains(&decoded, 6000) && dd_ref_set_contains(&decoded, 5000),
	      "the full set forgot a live reference");
	CHECK(dd_ref_set_contains(&decoded, (DD_REF_SET_CAPACITY + 20) * 1000),
	      "the full set lacks the picture added last");
	/* picture 5000 decoded again, and failed this time */
	dd_ref_set_remove(&decoded, 5000);
	dd_h264_access_failed(&a, 5000, false);
	CHECK(check_p(&a, &decoded, 9999000, 5000, &err) == -1,
	      "with the decoded set full, a P picture predicted from a failed picture passed");
	if (strstr(err.msg, "was not decoded"))
		printf("ok   a full decoded set, a reference that failed: %s\n", err.msg);
	CHECK(check_p(&a, &decoded, 9999000, 6000, &err) == 0,
	      "with the decoded set full, a reference that did not fail was refused: %s",
	      err.msg);

	dd_h264_access_free(&a);
	dd_ref_set_free(&decoded);
	empty_dpb();
	return check_summary("h264-access", failures);
}
