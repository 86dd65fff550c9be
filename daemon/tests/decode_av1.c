/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Drives the engine with AV1 the way a V4L2 client drives the device (av1_client.c: the
 * controls from GStreamer's AV1 parser, the OUTPUT buffer in GStreamer's, Chromium's or the
 * tile-data-only layout). Prints one line per shown picture, in display order:
 *     pic <index> <width>x<height> <md5 of the planar picture> | FAILED
 * which run_clips.py compares with `ffmpeg -c:v libdav1d -f framemd5` of the same clip.
 * Frames shown by show_existing_frame never become jobs; the client shows the picture it
 * already has (as GStreamer does).
 *
 *   --layout gst|chromium|tiles  what the OUTPUT buffer holds (default gst)
 *   --roundtrip  also rebuild every frame's OBUs with the daemon's writers, parse them back
 *                with a second GStreamer parser and compare every header field that matters
 *                for decoding with what the first parser found in the original stream
 *   --fuzz SEED:FROM:TO  jobs FROM..TO get random damage to their controls and tile entries;
 *                they may fail, but nothing may crash and a later key frame must decode
 *   --lookahead N  keep up to N jobs submitted before collecting the oldest (dd_stream_submit,
 *                like a client with N requests queued; the engine's frame_delay is N), and
 *                sync at the end; every picture must still be the same. 1 = dd_stream_decode
 *   --shared-every N  the CPU share (dd_stream_set_shared()): shared from the first job, toggled
 *                  every N jobs; the engine changes dav1d's frame contexts at shown key frames,
 *                  and every picture stays the reference's
 *   --share-changes M  with --shared-every: at least M changes must happen (default 1)
 *   --corrupt JOB[:garbage|truncate]  damage the tile data of job JOB (random bytes, or every
 *                tile cut to 2 bytes): the job must fail, so must every later job predicting
 *                from a failed one, and the next shown key frame must decode (prints
 *                fault/resync lines for run_clips.py)
 *   --starve [A:]B  jobs A..B-1 (A = 0 if not given) decode with a picture memory limit of
 *                one byte (dd_stream_set_memory_limit: a decoder past its stream's claim),
 *                with the jobs before A still in flight (dav1d allocates a frame's picture
 *                when it is sent; with frame contexts it may take the frame and keep the
 *                error); the client waits for its jobs before B, then the limit goes. They
 *                must fail, job A with DD_ERR_NO_MEMORY, and the stream must match again
 *                from the next shown key frame, as after --corrupt
 *   --lose-recycled JOB  from job JOB on, the first inter frame that replaces every slot holding
 *                some picture it does not predict from gets that picture's timestamp (as a
 *                client that names pictures by CAPTURE buffer reuses the buffer: Chromium,
 *                FFmpeg's v4l2-request) and never reaches the engine, which is told
 *                (dd_stream_lost(): cancelled before it started); the client's slots follow
 *                the bitstream. A later job names the timestamp meaning the lost frame: it
 *                must fail for its reference (DD_ERR_REFERENCE), not decode from the older
 *                picture dav1d still holds under it,
 *                and the pictures shown until the next shown key frame must match or have
 *                FAILED (run_clips.py --shown-exact)
 *   --forward-key  turn the first (shown) key frame into a forward key frame: the job says
 *                show_frame = 0, showable_frame = 1, error resilient (implied for a shown key
 *                frame), refresh slot 0 only; then, as from a show_existing_frame of that slot,
 *                the client shows the picture and names it in all eight slots. Decoding is
 *                unchanged (show_frame does not touch the tile data), so every picture must
 *                still match, which needs the daemon to replay the key frame's re-show.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/videodev2.h>

#include "av1_client.h"
#include "av1_obu_writer.h"
#include "engine.h"
#include "ivf.h"
#include "meter_checks.h"
#include "test_picture.h"

static int verbose;

/* --shared-every: how often the engine changed dav1d's frame contexts for it */
static int share_switches;

static void log_cb(void *opaque, enum dd_log_level level, const char *msg)
{
	(void)opaque;
	if (strstr(msg, "sharing the CPUs"))
		share_switches++;
	if (level <= DD_LOG_WARNING || verbose)
		fprintf(stderr, "engine: %s\n", msg);
}

/* ---- round trip ---------------------------------------------------------------------- */

struct roundtrip {
	GstAV1Parser *parser;
	struct dd_av1_state state;
	uint8_t *buf;
	size_t cap;
	long frames, mismatches;
};

static int rt_feed(struct roundtrip *rt, const uint8_t *data, size_t size,
		   GstAV1FrameHeaderOBU *fh, GstAV1TileGroupOBU *tg, bool *have_tg)
{
	size_t pos = 0;

	*have_tg = false;
	while (pos < size) {
		GstAV1OBU obu;
		GstAV1SequenceHeaderOBU seq;
		guint32 consumed;

		if (gst_av1_parser_identify_one_obu(rt->parser, data + pos, (guint32)(size - pos),
						    &obu, &consumed))
			return -1;
		pos += consumed;
		if (obu.obu_type == GST_AV1_OBU_SEQUENCE_HEADER) {
			if (gst_av1_parser_parse_sequence_header_obu(rt->parser, &obu, &seq))
				return -1;
		} else if (obu.obu_type == GST_AV1_OBU_FRAME_HEADER) {
			if (gst_av1_parser_parse_frame_header_obu(rt->parser, &obu, fh))
				return -1;
		} else if (obu.obu_type == GST_AV1_OBU_TILE_GROUP) {
			if (gst_av1_parser_parse_tile_group_obu(rt->parser, &obu, tg))
				return -1;
			*have_tg = true;
		} else {
			return -1;
		}
	}
	return 0;
}

#define SAME(field)                                                                      \
	do {                                                                             \
		if (memcmp(&a->field, &b->field, sizeof(a->field))) {                     \
			printf("roundtrip: frame %ld: %s differs\n", rt->frames, #field); \
			bad++;                                                           \
		}                                                                        \
	} while (0)

/* What decides the decoded picture; syntax-only choices (sizes, signalling) may differ. */
static int compare(struct roundtrip *rt, const GstAV1FrameHeaderOBU *a,
		   const GstAV1FrameHeaderOBU *b)
{
	int bad = 0;

	SAME(frame_type);
	SAME(show_frame);
	SAME(showable_frame);
	SAME(error_resilient_mode);
	SAME(disable_cdf_update);
	SAME(allow_screen_content_tools);
	SAME(force_integer_mv);
	SAME(order_hint);
	SAME(primary_ref_frame);
	SAME(refresh_frame_flags);
	SAME(allow_intrabc);
	SAME(allow_high_precision_mv);
	SAME(is_motion_mode_switchable);
	SAME(use_ref_frame_mvs);
	SAME(disable_frame_end_update_cdf);
	SAME(allow_warped_motion);
	SAME(reduced_tx_set);
	SAME(use_superres);
	SAME(superres_denom);
	SAME(interpolation_filter);
	SAME(upscaled_width);
	SAME(frame_width);
	SAME(frame_height);
	SAME(render_width);
	SAME(render_height);
	SAME(quantization_params.base_q_idx);
	SAME(quantization_params.delta_q_y_dc);
	SAME(quantization_params.delta_q_u_dc);
	SAME(quantization_params.delta_q_u_ac);
	SAME(quantization_params.delta_q_v_dc);
	SAME(quantization_params.delta_q_v_ac);
	SAME(quantization_params.using_qmatrix);
	if (a->quantization_params.using_qmatrix) {
		SAME(quantization_params.qm_y);
		SAME(quantization_params.qm_u);
		SAME(quantization_params.qm_v);
	}
	SAME(quantization_params.delta_q_present);
	SAME(quantization_params.delta_q_res);
	SAME(loop_filter_params.delta_lf_present);
	SAME(loop_filter_params.delta_lf_res);
	SAME(loop_filter_params.delta_lf_multi);
	SAME(segmentation_params.segmentation_enabled);
	if (a->segmentation_params.segmentation_enabled) {
		SAME(segmentation_params.segmentation_update_map);
		SAME(segmentation_params.segmentation_temporal_update);
		SAME(segmentation_params.feature_enabled);
		SAME(segmentation_params.feature_data);
	}
	SAME(coded_lossless);
	SAME(all_lossless);
	SAME(loop_filter_params.loop_filter_level);
	SAME(loop_filter_params.loop_filter_sharpness);
	SAME(loop_filter_params.loop_filter_delta_enabled);
	if (a->loop_filter_params.loop_filter_delta_enabled) {
		SAME(loop_filter_params.loop_filter_ref_deltas);
		SAME(loop_filter_params.loop_filter_mode_deltas);
	}
	SAME(tile_info.tile_cols);
	SAME(tile_info.tile_rows);
	SAME(tile_info.tile_cols_log2);
	SAME(tile_info.tile_rows_log2);
	SAME(tile_info.mi_col_starts);
	SAME(tile_info.mi_row_starts);
	SAME(tile_info.context_update_tile_id);
	SAME(cdef_params);
	SAME(loop_restoration_params.frame_restoration_type);
	if (a->loop_restoration_params.uses_lr)
		SAME(loop_restoration_params.loop_restoration_size);
	SAME(tx_mode);
	SAME(reference_select);
	SAME(skip_mode_present);
	SAME(skip_mode_frame);
	if (!a->frame_is_intra) {
		SAME(ref_frame_idx);
		SAME(order_hints);
		SAME(global_motion_params.gm_type);
		SAME(global_motion_params.gm_params);
	}
	SAME(film_grain_params.apply_grain);
	if (a->film_grain_params.apply_grain) {
		SAME(film_grain_params.grain_seed);
		SAME(film_grain_params.num_y_points);
		SAME(film_grain_params.point_y_value);
		SAME(film_grain_params.point_y_scaling);
		SAME(film_grain_params.chroma_scaling_from_luma);
		SAME(film_grain_params.num_cb_points);
		SAME(film_grain_params.num_cr_points);
		SAME(film_grain_params.grain_scaling_minus_8);
		SAME(film_grain_params.ar_coeff_lag);
		SAME(film_grain_params.ar_coeffs_y_plus_128);
		SAME(film_grain_params.ar_coeff_shift_minus_6);
		SAME(film_grain_params.grain_scale_shift);
		SAME(film_grain_params.cb_mult);
		SAME(film_grain_params.cr_mult);
		SAME(film_grain_params.overlap_flag);
		SAME(film_grain_params.clip_to_restricted_range);
	}
	return bad;
}

static int roundtrip_job(struct roundtrip *rt, const struct av1_job *job)
{
	static GstAV1FrameHeaderOBU fh;
	static GstAV1TileGroupOBU tg;
	struct dd_av1_frame_in in = { &job->seq, &job->frame, &job->grain };
	struct dd_av1_frame_info info;
	struct dd_error err;
	size_t need = 8192 + dd_av1_tile_group_bound(job->num_tiles, job->size), len;
	bool have_tg;
	long n;
	int bad = 0;

	rt->frames++;
	if (need > rt->cap) {
		free(rt->buf);
		rt->buf = malloc(need);
		rt->cap = rt->buf ? need : 0;
		if (!rt->buf)
			return -1;
	}
	if (job->show_existing) {
		n = dd_av1_write_show_existing((unsigned int)job->show_slot, rt->buf, rt->cap, &err);
		if (n < 0 || rt_feed(rt, rt->buf, (size_t)n, &fh, &tg, &have_tg))
			goto fail;
		if (job->show_existing_key)
			dd_av1_state_show_existing_key(&rt->state, (unsigned int)job->show_slot);
		gst_av1_parser_reference_frame_update(rt->parser, &fh);
		return 0;
	}
	n = dd_av1_write_sequence_header(&job->seq, rt->buf, 64, &err);
	if (n < 0)
		goto fail;
	len = (size_t)n;
	n = dd_av1_write_frame_header(&in, &rt->state, &info, rt->buf + len, 4096, &err);
	if (n < 0)
		goto fail;
	len += (size_t)n;
	n = dd_av1_write_tile_group(&info, job->tiles, job->num_tiles, job->buf, job->size,
				    rt->buf + len, rt->cap - len, &err);
	if (n < 0)
		goto fail;
	len += (size_t)n;
	if (rt_feed(rt, rt->buf, len, &fh, &tg, &have_tg) || !have_tg) {
		printf("roundtrip: frame %ld: GStreamer cannot parse the rebuilt OBUs\n",
		       rt->frames);
		rt->mismatches++;
		return -1;
	}
	bad = compare(rt, &job->fh, &fh);
	if (tg.num_tiles != job->num_tiles) {
		printf("roundtrip: frame %ld: %u tiles, want %u\n", rt->frames, tg.num_tiles,
		       job->num_tiles);
		bad++;
	}
	gst_av1_parser_reference_frame_update(rt->parser, &fh);
	dd_av1_state_update(&rt->state, &info, (uint64_t)rt->frames);
	if (bad)
		rt->mismatches++;
	return bad ? -1 : 0;
fail:
	printf("roundtrip: frame %ld: the writer failed: %s\n", rt->frames, err.msg);
	rt->mismatches++;
	return -1;
}

/* ---- fuzzing ------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

/* Flips bytes of the controls and tile entries (never the buffer: that is dav1d's job). */
static void damage(struct av1_job *job)
{
	uint8_t *areas[3] = { (uint8_t *)&job->frame, (uint8_t *)&job->seq,
			      (uint8_t *)job->tiles };
	size_t sizes[3] = { sizeof(job->frame), sizeof(job->seq),
			    sizeof(job->tiles[0]) * (job->num_tiles ? job->num_tiles : 1) };
	unsigned int n = 1 + rnd() % 6;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int a = rnd() % 8 < 6 ? 0 : 1 + rnd() % 2;

		areas[a][rnd() % sizes[a]] ^= (uint8_t)(1u << (rnd() % 8));
	}
	if (rnd() % 8 == 0)
		job->num_tiles = rnd() % (job->num_tiles + 2);
}

/* ---- jobs in flight ----------------------------------------------------------------- */

/* One submitted job, until collected: the engine reads its own copy of the controls. */
struct inflight {
	struct av1_job job;
	struct dd_job dj;
	struct pic *p;
	long index;     /* job number */
	bool fwd;       /* sent as a forward key frame */
	bool fuzzed;    /* damaged by --fuzz */
	bool corrupted; /* damaged by --corrupt */
	long display;   /* its index among the shown pictures, or -1 */
	unsigned int num_names;
	uint64_t names[V4L2_AV1_REFS_PER_FRAME];
};

static int copy_job(struct av1_job *to, const struct av1_job *from)
{
	uint8_t *buf = to->buf;
	size_t cap = to->cap;

	if (from->size > cap) {
		free(buf);
		cap = from->size;
		buf = malloc(cap);
		if (!buf) {
			to->buf = NULL;
			to->cap = 0;
			return -1;
		}
	}
	*to = *from;
	to->buf = buf;
	to->cap = cap;
	if (from->size)
		memcpy(buf, from->buf, from->size);
	return 0;
}

/* Damages the tile data (the bytes dav1d decodes, not the headers the controls describe). */
static void corrupt(struct av1_job *job, bool truncate)
{
	for (unsigned int t = 0; t < job->num_tiles; t++) {
		struct v4l2_ctrl_av1_tile_group_entry *e = &job->tiles[t];

		if (truncate) {
			if (e->tile_size > 2)
				e->tile_size = 2;
			continue;
		}
		for (uint32_t i = 0; i < e->tile_size && e->tile_offset + i < job->size; i++)
			job->buf[e->tile_offset + i] = (uint8_t)rnd();
	}
}

/* The timestamps of the slots an inter frame predicts from. */
static void job_names(struct inflight *in)
{
	const struct v4l2_ctrl_av1_frame *f = &in->job.frame;

	in->num_names = 0;
	if (f->frame_type == V4L2_AV1_KEY_FRAME || f->frame_type == V4L2_AV1_INTRA_ONLY_FRAME)
		return;
	for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++)
		if (f->ref_frame_idx[i] >= 0 && f->ref_frame_idx[i] < 8)
			in->names[in->num_names++] = f->reference_frame_ts[f->ref_frame_idx[i]];
}

/* ---- main ---------------------------------------------------------------------------- */

static void print_pic(long display, const struct pic *p)
{
	char md5[33];

	if (!p || p->failed) {
		printf("pic %ld FAILED\n", display);
		return;
	}
	pic_md5(p, md5);
	printf("pic %ld %ux%u %s\n", display, p->width, p->height, md5);
}

/* Everything decided once a job is done, in decode order. */
struct run {
	long jobs, failures, fuzz_from, fuzz_to, corrupt_at;
	struct starve starve;
	bool fuzzed, key_after_fuzz, key_after_corrupt;
	long lose_from;      /* --lose-recycled, or -1 */
	bool lost;           /* the recycled job was lost */
	bool lost_ts_named;  /* a later job named its timestamp (and failed) */
	uint64_t lost_ts;
	int status;
	/* since --corrupt: the failed jobs, which later jobs must not decode from */
	uint64_t failed_ts[256];
	unsigned int num_failed;
};

static bool names_failed(const struct run *run, const struct inflight *in, uint64_t *which)
{
	for (unsigned int n = 0; n < in->num_names; n++)
		for (unsigned int i = 0; i < run->num_failed; i++)
			if (in->names[n] == run->failed_ts[i]) {
				*which = in->names[n];
				return true;
			}
	return false;
}

static void finish(struct run *run, struct inflight *in, bool ok, const struct dd_error *err)
{
	const struct av1_job *job = &in->job;
	bool key = job->frame.frame_type == V4L2_AV1_KEY_FRAME;
	bool excused = in->fuzzed || run->fuzzed ||
		       (run->corrupt_at >= 0 && in->index >= run->corrupt_at &&
			!run->key_after_corrupt);
	uint64_t which;

	if (!ok) {
		in->p->failed = 1;
		run->failures++;
		run->status |= starve_failed(&run->starve, in->index, err);
		if (!excused) {
			fprintf(stderr, "job %ld failed: %s\n", in->index, err->msg);
			run->status = 1;
		}
		if (!err->msg[0]) {
			fprintf(stderr, "job %ld failed without a reason\n", in->index);
			run->status = 1;
		}
		if (run->num_failed < sizeof(run->failed_ts) / sizeof(run->failed_ts[0]))
			run->failed_ts[run->num_failed++] = in->dj.timestamp;
		else
			run->status = 1;
		if (run->corrupt_at >= 0 && !run->key_after_corrupt)
			fprintf(stderr, "job %ld failed as expected: %s\n", in->index, err->msg);
		/*
		 * The engine must know the picture is gone: dav1d may reject the frame too when
		 * the older picture's order hint desyncs its header parse, but that is chance (a
		 * stream without order hints would decode from the wrong picture).
		 */
		for (unsigned int n = 0; run->lost && !run->key_after_corrupt && n < in->num_names;
		     n++) {
			if (in->names[n] != run->lost_ts || run->lost_ts_named)
				continue;
			run->lost_ts_named = true;
			if (err->kind != DD_ERR_REFERENCE) {
				fprintf(stderr, "job %ld names the lost frame's ts %llu and failed, "
					"but not for its reference: %s\n", in->index,
					(unsigned long long)run->lost_ts, err->msg);
				run->status = 1;
			}
		}
	} else {
		if (in->corrupted) {
			fprintf(stderr, "job %ld was damaged and decoded anyway\n", in->index);
			run->status = 1;
		}
		if (names_failed(run, in, &which)) {
			fprintf(stderr, "job %ld decoded from ts %llu, which failed\n", in->index,
				(unsigned long long)which);
			run->status = 1;
		}
		if (run->fuzzed && in->index > run->fuzz_to && key)
			run->key_after_fuzz = true;
		/* a shown key frame refreshes every slot: pictures from here on must match */
		if (run->corrupt_at >= 0 && in->index > run->corrupt_at && key &&
		    !run->key_after_corrupt && in->display >= 0) {
			run->key_after_corrupt = true;
			run->num_failed = 0;
			printf("resync %ld\n", in->display);
		}
	}
	if (in->fwd)
		fprintf(stderr, "job 0 sent as a forward key frame, shown by "
			"show_existing_frame\n");
	pic_unref(in->p);
	in->p = NULL;
}

/* The pictures in display order, printed once every job is done. */
struct shown {
	struct pic **pics;
	long count, cap;
};

static void show(struct shown *sh, struct pic *p)
{
	if (sh->count == sh->cap) {
		sh->cap = sh->cap ? sh->cap * 2 : 64;
		sh->pics = realloc(sh->pics, sizeof(*sh->pics) * (size_t)sh->cap);
		if (!sh->pics) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	sh->pics[sh->count++] = p ? pic_ref(p) : NULL;
}

/*
 * --lose-recycled: a timestamp the job may take, as a client whose pictures are named by
 * the buffer they are in: every slot holding it is refreshed by the job, which does not
 * predict from it (so a buffer-recycling client may decode into that buffer). 1 with *ts.
 */
static int recyclable_ts(const struct av1_client *c, const struct av1_job *job, uint64_t *ts)
{
	const struct v4l2_ctrl_av1_frame *f = &job->frame;

	if (f->frame_type != V4L2_AV1_INTER_FRAME)
		return 0;
	for (int k = 0; k < 8; k++) {
		uint64_t t = c->slot_ts[k];
		bool ok = true;

		for (int i = 0; i < 8; i++)
			if (c->slot_ts[i] == t && !(job->fh.refresh_frame_flags & (1u << i)))
				ok = false;
		for (int i = 0; i < V4L2_AV1_REFS_PER_FRAME; i++)
			if (f->ref_frame_idx[i] >= 0 && f->ref_frame_idx[i] < 8 &&
			    c->slot_ts[f->ref_frame_idx[i]] == t)
				ok = false;
		if (ok) {
			*ts = t;
			return 1;
		}
	}
	return 0;
}

/* Collects the oldest job in flight; false when the engine returned another one. */
static bool collect_one(struct dd_stream *stream, struct run *run, struct inflight *ring,
			unsigned int ring_size, unsigned int *head, unsigned int *count, bool wait)
{
	struct inflight *in = &ring[*head];
	struct dd_error err = { "", DD_ERR_DATA };
	uint64_t cookie = UINT64_MAX;
	enum dd_collect r = dd_stream_collect(stream, wait, &cookie, &err);

	if (r == DD_COLLECT_NONE || cookie != (uint64_t)in->index) {
		fprintf(stderr, "collect: %s (cookie %llu), want job %ld\n",
			r == DD_COLLECT_NONE ? "nothing" : "another job",
			(unsigned long long)cookie, in->index);
		return false;
	}
	finish(run, in, r == DD_COLLECT_OK, &err);
	*head = (*head + 1) % ring_size;
	(*count)--;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "layout", required_argument, NULL, 'l' },
		{ "roundtrip", no_argument, NULL, 'r' },
		{ "fuzz", required_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "forward-key", no_argument, NULL, 'k' },
		{ "lookahead", required_argument, NULL, 'L' },
		{ "corrupt", required_argument, NULL, 'c' },
		{ "shared-every", required_argument, NULL, 's' },
		{ "share-changes", required_argument, NULL, 'S' },
		{ "starve", required_argument, NULL, 'M' },
		{ "lose-recycled", required_argument, NULL, 'R' },
		{ 0 },
	};
	enum av1_layout layout = AV1_LAYOUT_GST;
	struct dd_engine_config cfg = { .log = log_cb };
	static struct av1_job job;
	struct roundtrip rt = { 0 };
	struct run run = { .fuzz_from = -1, .fuzz_to = -1, .corrupt_at = -1, .lose_from = -1,
			   .starve = STARVE_NONE };
	struct shown sh = { 0 };
	struct av1_client client;
	struct pic *slots[8] = { 0 };
	struct inflight *ring;
	struct dd_engine *engine;
	struct dd_stream *stream;
	struct dd_error err;
	struct ivf ivf;
	unsigned int lookahead = 1, ring_size, head = 0, count = 0, shared_every = 0;
	int share_changes = 1;
	bool roundtrip = false, forward_key = false, truncate = false;
	char mode[16] = "";
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			layout = !strcmp(optarg, "chromium") ? AV1_LAYOUT_CHROMIUM :
				 !strcmp(optarg, "tiles") ? AV1_LAYOUT_TILES : AV1_LAYOUT_GST;
			break;
		case 'r':
			roundtrip = true;
			break;
		case 'f':
			if (sscanf(optarg, "%lu:%ld:%ld", (unsigned long *)&rng_state, &run.fuzz_from,
				   &run.fuzz_to) != 3)
				return 2;
			break;
		case 't':
			cfg.threads = (unsigned int)atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'k':
			forward_key = true;
			break;
		case 'L':
			lookahead = (unsigned int)atoi(optarg);
			if (lookahead < 1 || lookahead > 64)
				return 2;
			break;
		case 's':
			shared_every = (unsigned int)atoi(optarg);
			if (shared_every < 1)
				return 2;
			break;
		case 'S':
			share_changes = atoi(optarg);
			break;
		case 'M':
			if (starve_parse(&run.starve, optarg))
				return 2;
			/* from job A on, failures are judged as after --corrupt A */
			run.corrupt_at = run.starve.from;
			break;
		case 'R':
			run.lose_from = atol(optarg);
			if (run.lose_from < 0)
				return 2;
			break;
		case 'c':
			if (sscanf(optarg, "%ld:%15s", &run.corrupt_at, mode) < 1 ||
			    run.corrupt_at < 0 || (mode[0] && strcmp(mode, "garbage") &&
						   strcmp(mode, "truncate")))
				return 2;
			truncate = !strcmp(mode, "truncate");
			rng_state = 12345;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: decode_av1 [--layout gst|chromium|tiles] [--roundtrip] "
			"[--fuzz SEED:FROM:TO] [--threads N] [--lookahead N] "
			"[--corrupt JOB[:garbage|truncate]] [--lose-recycled JOB] "
			"[--shared-every N [--share-changes M]] clip.ivf\n");
		return 2;
	}
	if (ivf_load(&ivf, argv[optind], 0) || strcmp(ivf.fourcc, "AV01")) {
		fprintf(stderr, "%s: not an AV1 IVF file\n", argv[optind]);
		return 1;
	}
	cfg.frame_delay = lookahead;
	engine = dd_engine_new(&cfg);
	stream = engine ? dd_stream_open(engine, DD_CODEC_AV1, V4L2_PIX_FMT_NV12, &err) : NULL;
	if (!stream) {
		fprintf(stderr, "cannot open an AV1 stream: %s\n", engine ? err.msg : "no memory");
		return 1;
	}
	if (av1_client_init(&client, layout))
		return 1;
	if (roundtrip) {
		rt.parser = gst_av1_parser_new();
		dd_av1_state_reset(&rt.state);
	}
	ring_size = lookahead + 1;
	ring = calloc(ring_size, sizeof(*ring));
	if (!ring)
		return 1;
	for (size_t f = 0; f < ivf.count; f++) {
		int r;

		av1_client_start_tu(&client, ivf.frames[f].data, ivf.frames[f].size);
		while ((r = av1_client_next(&client, &job, (uint64_t)run.jobs * 1000)) == 1) {
			uint64_t ts = (uint64_t)run.jobs * 1000;
			struct inflight *in;
			struct dd_job *dj;

			if (roundtrip && !run.fuzzed && roundtrip_job(&rt, &job))
				run.status = 1;
			if (job.show_existing) {
				show(&sh, slots[job.show_slot & 7]);
				if (job.show_existing_key)
					for (int i = 0; i < 8; i++) {
						pic_unref(slots[i]);
						slots[i] = pic_ref(slots[job.show_slot & 7]);
					}
				av1_client_done(&client, &job, ts);
				continue;
			}
			if (run.lose_from >= 0 && run.jobs >= run.lose_from && !run.lost &&
			    recyclable_ts(&client, &job, &run.lost_ts)) {
				/* cancelled before it started: the daemon tells the engine so */
				ts = run.lost_ts;
				dd_stream_lost(stream, &ts);
				run.lost = true;
				run.corrupt_at = run.jobs;
				printf("fault %ld\n", sh.count);
				fprintf(stderr, "job %ld lost, named ts %llu as the picture it replaces\n",
					run.jobs, (unsigned long long)ts);
				if (job.fh.show_frame)
					show(&sh, NULL);
				for (int i = 0; i < 8; i++)
					if (job.fh.refresh_frame_flags & (1u << i)) {
						pic_unref(slots[i]);
						slots[i] = NULL;
					}
				run.failed_ts[run.num_failed++] = ts;
				av1_client_done(&client, &job, ts);
				run.jobs++;
				continue;
			}
			if (starve_in(&run.starve, run.jobs)) {
				dd_stream_set_memory_limit(stream, 1);
			} else if (run.jobs == run.starve.to) {
				/* the client waits for the starved jobs */
				dd_stream_sync(stream);
				while (count)
					if (!collect_one(stream, &run, ring, ring_size, &head,
							 &count, false))
						return 1;
				dd_stream_set_memory_limit(stream, 0);
			}
			/* a client with lookahead requests queued: the oldest must be done first */
			while (count >= lookahead)
				if (!collect_one(stream, &run, ring, ring_size, &head, &count, true))
					return 1;
			in = &ring[(head + count) % ring_size];
			in->index = run.jobs;
			in->p = pic_new(job.seq.bit_depth == 10 ? V4L2_PIX_FMT_P010 :
							       V4L2_PIX_FMT_NV12,
					job.frame.upscaled_width, job.frame.frame_height_minus_1 + 1);
			in->p->width = job.frame.upscaled_width;
			in->p->height = job.frame.frame_height_minus_1 + 1;
			in->fwd = in->fuzzed = in->corrupted = false;
			if (forward_key && run.jobs == 0 &&
			    job.frame.frame_type == V4L2_AV1_KEY_FRAME &&
			    (job.frame.flags & V4L2_AV1_FRAME_FLAG_SHOW_FRAME)) {
				job.frame.flags &= ~V4L2_AV1_FRAME_FLAG_SHOW_FRAME;
				job.frame.flags |= V4L2_AV1_FRAME_FLAG_SHOWABLE_FRAME |
						   V4L2_AV1_FRAME_FLAG_ERROR_RESILIENT_MODE;
				job.frame.refresh_frame_flags = 0x01;
				in->fwd = true;
			}
			if (run.jobs >= run.fuzz_from && run.jobs <= run.fuzz_to) {
				damage(&job);
				run.fuzzed = in->fuzzed = true;
			}
			if (run.jobs == run.corrupt_at) {
				if (run.starve.from < 0)
					corrupt(&job, truncate);
				in->corrupted = true;
				printf("fault %ld\n", sh.count);
			}
			if (starve_in(&run.starve, run.jobs))
				in->corrupted = true; /* must fail */
			if (copy_job(&in->job, &job)) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
			job_names(in);
			dj = &in->dj;
			*dj = (struct dd_job){ .codec = DD_CODEC_AV1, .timestamp = ts };
			dj->ctrl.av1.sequence = &in->job.seq;
			dj->ctrl.av1.frame = &in->job.frame;
			dj->ctrl.av1.tiles = in->job.tiles;
			dj->ctrl.av1.num_tiles = in->job.num_tiles;
			dj->ctrl.av1.film_grain = &in->job.grain;
			dj->bitstream = in->job.buf;
			dj->bitstream_size = in->job.size;
			dj->dst = &in->p->dst;
			/* decode order decides what is shown and held, whatever the result */
			in->display = job.fh.show_frame ? sh.count : -1;
			/* a forward key frame's show_existing_frame refreshes all slots the same way */
			if (job.fh.show_frame)
				show(&sh, in->p);
			for (int i = 0; i < 8; i++)
				if (job.fh.refresh_frame_flags & (1u << i)) {
					pic_unref(slots[i]);
					slots[i] = pic_ref(in->p);
				}
			err.msg[0] = '\0';
			/* the CPU share: one frame context from the first job, toggled every N */
			if (shared_every)
				dd_stream_set_shared(stream, (run.jobs / shared_every) % 2 == 0);
			if (lookahead == 1) {
				finish(&run, in, !dd_stream_decode(stream, dj, &err), &err);
			} else if (dd_stream_submit(stream, dj, (uint64_t)run.jobs, &err)) {
				/* failed at once: never pending */
				finish(&run, in, false, &err);
			} else {
				count++;
			}
			av1_client_done(&client, &job, ts);
			run.jobs++;
		}
		if (r < 0) {
			fprintf(stderr, "temporal unit %zu: GStreamer's parser failed\n", f);
			run.status = 1;
			break;
		}
	}
	/* the end of the stream: every job finishes without waiting one by one */
	dd_stream_sync(stream);
	while (count)
		if (!collect_one(stream, &run, ring, ring_size, &head, &count, false))
			return 1;
	if (dd_stream_pending(stream)) {
		fprintf(stderr, "jobs still pending after the last collect\n");
		run.status = 1;
	}
	for (long i = 0; i < sh.count; i++) {
		print_pic(i, sh.pics[i]);
		pic_unref(sh.pics[i]);
	}
	if (run.fuzzed && !run.key_after_fuzz) {
		fprintf(stderr, "no key frame decoded after the damaged jobs\n");
		run.status = 1;
	}
	if (run.corrupt_at >= 0 && !run.key_after_corrupt) {
		fprintf(stderr, "no shown key frame decoded after the damaged job\n");
		run.status = 1;
	}
	if (run.lose_from >= 0 && !run.lost_ts_named) {
		fprintf(stderr, "--lose-recycled: %s\n", run.lost ?
			"no job that named the lost frame's timestamp before the next key frame "
			"failed" : "no job could recycle a picture's timestamp");
		run.status = 1;
	}
	run.status |= starve_done(&run.starve);
	/* shared from the first job, and back at a later key frame when the clip has one */
	if (shared_every && share_switches < share_changes) {
		fprintf(stderr, "--shared-every: dav1d's frame contexts changed %d times, not %d\n",
			share_switches, share_changes);
		run.status = 1;
	}
	if (shared_every)
		fprintf(stderr, "--shared-every %u: %d changes of dav1d's frame contexts\n",
			shared_every, share_switches);
	if (roundtrip)
		fprintf(stderr, "roundtrip: %ld frames, %ld mismatches\n", rt.frames,
			rt.mismatches);
	fprintf(stderr, "%ld jobs, %ld failed, %ld pictures shown, layout %s, lookahead %u\n",
		run.jobs, run.failures, sh.count, layout == AV1_LAYOUT_GST ? "gst" :
		layout == AV1_LAYOUT_CHROMIUM ? "chromium" : "tiles", lookahead);
	for (int i = 0; i < 8; i++)
		pic_unref(slots[i]);
	for (unsigned int i = 0; i < ring_size; i++)
		free(ring[i].job.buf);
	free(ring);
	free(sh.pics);
	free(job.buf);
	free(rt.buf);
	if (rt.parser)
		gst_av1_parser_free(rt.parser);
	av1_client_free(&client);
	if (stream_close_counted(stream))
		run.status = 1;
	dd_engine_free(engine);
	ivf_free(&ivf);
	return run.status;
}
