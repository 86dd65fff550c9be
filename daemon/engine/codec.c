/* SPDX-License-Identifier: BSD-2-Clause */
#include "codec.h"

/* Indexed by enum dd_codec. */
static const struct dd_codec_ops *const codec_list[DD_CODEC_COUNT] = {
	[DD_CODEC_VP8] = &dd_codec_vp8,
	[DD_CODEC_VP9] = &dd_codec_vp9,
	[DD_CODEC_AV1] = &dd_codec_av1,
	[DD_CODEC_H264] = &dd_codec_h264,
};

const struct dd_codec_ops *dd_codec_ops_get(enum dd_codec codec)
{
	if ((unsigned int)codec >= DD_CODEC_COUNT)
		return NULL;
	return codec_list[codec];
}

const char *dd_codec_name(enum dd_codec codec)
{
	const struct dd_codec_ops *c = dd_codec_ops_get(codec);

	return c ? c->name : "unknown codec";
}

void dd_job_coded_size(const struct dd_job *job, uint32_t *width, uint32_t *height)
{
	const struct dd_codec_ops *c = dd_codec_ops_get(job->codec);

	*width = 0;
	*height = 0;
	if (c)
		c->coded_size(job, width, height);
}

unsigned int dd_codec_refs_predicted(const struct dd_job *job, const struct dd_expectation *x,
				     uint64_t ts[DD_MAX_JOB_REFS])
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < x->num_refs && i < DD_MAX_JOB_REFS; i++)
		if (x->ref_ts[i] != job->timestamp)
			ts[n++] = x->ref_ts[i];
	return n;
}
