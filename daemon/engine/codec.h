/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the generic engine (engine.c) needs to know about one codec, so that it has no
 * `if (codec == ...)` of its own: one const struct dd_codec_ops per codec, in
 * codec_vpx.c (VP8, VP9), codec_av1.c and codec_h264.c.
 *
 * The engine does the same for every codec: it checks a job (check), checks its references
 * against the pictures decoded since the last key frame or flush (or in flight), fails the
 * jobs in flight that predict from a job that failed (predicts_from), and after each job
 * updates the set of decoded pictures. A codec whose references and access points need more
 * than that (H.264: leading pictures, DPB entries excused at an I picture) brings its own
 * per-stream state and rules in access.
 */
#ifndef DAEDALUS_CODEC_H
#define DAEDALUS_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "expectation.h"
#include "ref_set.h"

/* A codec's per-stream state, owned by the stream, opaque to the engine. */
struct dd_codec_state;

/*
 * A codec's own reference and access-point rules, replacing the engine's (every reference
 * decoded or in flight; dependents of a failed job in flight fail with it). All calls are in
 * decode order, on the stream's thread.
 */
struct dd_codec_access_ops {
	/* NULL when out of memory. */
	struct dd_codec_state *(*state_new)(void);
	void (*state_free)(struct dd_codec_state *st);
	/* A flush: nothing decoded so far may be referenced. */
	void (*reset)(struct dd_codec_state *st);
	/*
	 * Whether the job may be decoded now; -1 with err if it must fail (x may be updated,
	 * e.g. x->leading). decoded: the pictures this stream decoded since its last key frame
	 * or flush. Called with the state every job before this one left: when jobs are still in
	 * flight, the engine calls it only once they are all finished, before this job's result
	 * counts (the backend decodes it anyway; a failure here fails it then).
	 */
	int (*check)(const struct dd_codec_state *st, const struct dd_job *job,
		     struct dd_expectation *x, const struct dd_ref_set *decoded,
		     struct dd_error *err);
	/* The job's picture decoded; called before its timestamp joins decoded. */
	void (*decoded)(struct dd_codec_state *st, const struct dd_job *job,
			const struct dd_expectation *x, const struct dd_ref_set *decoded);
	/* The job failed (x as check() left it, or as the codec's check filled it). */
	void (*failed)(struct dd_codec_state *st, uint64_t timestamp,
		       const struct dd_expectation *x);
	/*
	 * Optional: after check() accepted the job, with nothing in flight: true when the
	 * backend's decoder must start afresh before it, as after a flush (the engine then
	 * flushes the backend, forgets every picture and calls reset()). H.264: a non-IDR I
	 * picture that becomes an access point after lost pictures. libavcodec keeps its own
	 * DPB from the bitstream (frame_num, memory management commands), and the pictures
	 * it never got leave that DPB other than the encoder's: a later picture's commands
	 * then fail ("mmco: unref short failure") although everything it predicts from
	 * decoded. The engine asks only for jobs with x->intra and not x->key_frame, and
	 * finishes the jobs in flight before such a job so that check() sees their results.
	 */
	bool (*restart)(const struct dd_codec_state *st, const struct dd_job *job,
			const struct dd_expectation *x, const struct dd_ref_set *decoded);
};

/* dd_codec_ops.fields(): the sequence may code field pictures */
#define DD_FIELDS_POSSIBLE 4u

struct dd_codec_ops {
	enum dd_codec codec;
	const char *name; /* for people: "H.264" */

	/*
	 * The job's controls against its bitstream, before any backend sees it: -1 with err if
	 * the job must fail, else 0 with x filled (what the controls promise; x is zeroed).
	 */
	int (*check)(const struct dd_job *job, struct dd_expectation *x, struct dd_error *err);

	/* x->ref_ts[i] in messages ("golden"); NULL: "reference". */
	const char *(*ref_name)(unsigned int i);

	/*
	 * The timestamps the job predicts from (at most DD_MAX_JOB_REFS, never its own), after
	 * a successful check(): a job in flight fails when one of them fails. NULL with access
	 * (its check at the end of the flight decides).
	 */
	unsigned int (*predicts_from)(const struct dd_job *job, const struct dd_expectation *x,
				      uint64_t ts[DD_MAX_JOB_REFS]);

	/* The coded size the controls announce, unchecked (for logs). */
	void (*coded_size)(const struct dd_job *job, uint32_t *width, uint32_t *height);

	/* NULL: the engine's rules (see above). */
	const struct dd_codec_access_ops *access;
	/*
	 * The decoder's state after a frame depends on every frame since the key frame, not
	 * only on the pictures a frame names (VP8: probabilities kept by refresh_entropy_probs,
	 * the segment map, loop filter deltas; VP9: the four saved probability contexts, the
	 * previous frame's motion vectors and segment map). A decoder that missed a frame, or
	 * got one it could not decode, decodes the next frames wrong without noticing, even
	 * when every picture they name is intact: after a failed or lost job every later job
	 * fails until the next key frame.
	 */
	bool chained;
	/*
	 * NULL, or which fields of a frame the job's picture codes: 1 the top one, 2 the bottom
	 * one, 3 both (a frame picture); with DD_FIELDS_POSSIBLE when its sequence allows field
	 * pictures at all. A CAPTURE picture completed by one field (a field sent alone, the
	 * client waiting for it before it sends the other) must be finished before the other
	 * field comes, which frame threads cannot do (codec_h264.c): see engine.c, note_fields().
	 */
	unsigned int (*fields)(const struct dd_job *job);
};

/* NULL for a codec the engine does not know. */
const struct dd_codec_ops *dd_codec_ops_get(enum dd_codec codec);

/* predicts_from for codecs whose x->ref_ts are what they predict from. */
unsigned int dd_codec_refs_predicted(const struct dd_job *job, const struct dd_expectation *x,
				     uint64_t ts[DD_MAX_JOB_REFS]);

extern const struct dd_codec_ops dd_codec_vp8;
extern const struct dd_codec_ops dd_codec_vp9;
extern const struct dd_codec_ops dd_codec_av1;
extern const struct dd_codec_ops dd_codec_h264;

#endif
