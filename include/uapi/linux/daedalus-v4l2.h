/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * daedalus-v4l2: protocol between the kernel module (V4L2 stateless decoder
 * front end) and the userspace decoding daemon, spoken over the misc device
 * /dev/daedalus-v4l2.
 *
 * This header is an ABI shared by kernel/ and daemon/. Every structure has a
 * fixed size, explicit padding and reserved fields that must be zero. The
 * protocol is described in docs/protocol.md.
 */
#ifndef _UAPI_LINUX_DAEDALUS_V4L2_H
#define _UAPI_LINUX_DAEDALUS_V4L2_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DAEDALUS_DEVICE_PATH		"/dev/daedalus-v4l2"

/* Bumped on every incompatible change; HELLO must match exactly. */
#define DAEDALUS_PROTOCOL_VERSION	1

/* Hard limits of the wire format (the kernel may report smaller ones). */
#define DAEDALUS_MAX_MEM_PLANES		3	/* dmabufs per V4L2 buffer */
#define DAEDALUS_MAX_COLOR_PLANES	3	/* Y, U, V (or Y, UV) */
#define DAEDALUS_MAX_REFS		16	/* H.264 DPB size */
#define DAEDALUS_MAX_CTRLS		16	/* controls per job */

/* Codec of a job; one per OUTPUT (coded) pixel format. */
#define DAEDALUS_CODEC_H264		1	/* V4L2_PIX_FMT_H264_SLICE */
#define DAEDALUS_CODEC_VP8		2	/* V4L2_PIX_FMT_VP8_FRAME */
#define DAEDALUS_CODEC_VP9		3	/* V4L2_PIX_FMT_VP9_FRAME */
#define DAEDALUS_CODEC_AV1		4	/* V4L2_PIX_FMT_AV1_FRAME */

/**
 * struct daedalus_hello - handshake, must be the first ioctl on the fd
 * @version:		in: DAEDALUS_PROTOCOL_VERSION of the daemon;
 *			out: the kernel's version (also on -EPROTONOSUPPORT)
 * @flags:		in: DAEDALUS_HELLO_FLAG_* the daemon asks for; out: those
 *			granted (a kernel without a flag fails with -EINVAL)
 * @max_mem_planes:	out: memory planes per buffer (<= DAEDALUS_MAX_MEM_PLANES)
 * @max_color_planes:	out: color planes per picture
 * @max_refs:		out: reference slots per job (<= DAEDALUS_MAX_REFS)
 * @max_ctrls:		out: control entries per job (<= DAEDALUS_MAX_CTRLS)
 * @max_ctrl_bytes:	out: largest control payload of one job; a
 *			&struct daedalus_msg.ctrl_data area this large never
 *			gets -ENOSPC
 * @max_jobs:		out: jobs that can be in flight at once (device wide)
 * @max_width:		out: largest coded width the V4L2 side accepts
 * @max_height:		out: largest coded height the V4L2 side accepts
 * @job_timeout_ms:	out: watchdog; a job not completed by then fails
 * @session:		out: number of this connection (starts at 1), also
 *			found in every message
 * @max_inflight:	with DAEDALUS_HELLO_FLAG_PIPELINE: in, the jobs of one
 *			context the daemon wants in flight at once; out, the
 *			granted number (1 .. the wish); without the flag: in 0,
 *			out 1
 * @reserved:		must be zero
 */
struct daedalus_hello {
	__u32 version;
	__u32 flags;
	__u32 max_mem_planes;
	__u32 max_color_planes;
	__u32 max_refs;
	__u32 max_ctrls;
	__u32 max_ctrl_bytes;
	__u32 max_jobs;
	__u32 max_width;
	__u32 max_height;
	__u32 job_timeout_ms;
	__u32 session;
	__u32 max_inflight;
	__u32 reserved[7];
};

/*
 * Several jobs of one context in flight: the kernel sends a context's next
 * job before the previous one is completed (up to @max_inflight), and
 * returns the buffers of each context in job order, whatever the order of
 * the COMPLETE calls (docs/protocol.md, "Jobs in flight").
 */
#define DAEDALUS_HELLO_FLAG_PIPELINE	(1U << 0)

/*
 * Reference slots carry fds: a reference buffer whose memory the daemon has
 * no fd of yet gets one, installed by GET_MSG as for output and capture.
 * Without this flag a reference slot describes the buffer (handle, flags,
 * timestamp) but its planes have fd -1 until the buffer itself is a job's
 * output or capture: a daemon that keeps its own reference pictures (the
 * FFmpeg and dav1d decoders do) is never handed memory it would not read.
 * A daemon that reads references from their dmabufs asks for it.
 */
#define DAEDALUS_HELLO_FLAG_REF_FDS	(1U << 1)

/*
 * Jobs name their instance's user (&struct daedalus_job.owner), the user
 * the kernel counts the instance for (max_instances_per_user): a daemon
 * that shares something out among users (its decoders' memory) asks for it.
 */
#define DAEDALUS_HELLO_FLAG_OWNER	(1U << 2)

/* Every flag this header defines: HELLO fails with -EINVAL for any other bit. */
#define DAEDALUS_HELLO_VALID_FLAGS	(DAEDALUS_HELLO_FLAG_PIPELINE | \
					 DAEDALUS_HELLO_FLAG_REF_FDS | \
					 DAEDALUS_HELLO_FLAG_OWNER)

/**
 * struct daedalus_mem_plane - one memory plane (one dmabuf) of a buffer
 * @handle:	stable id of this dmabuf, never reused while the module is
 *		loaded; use it as the cache key of your mapping. 0 = unused
 * @fd:		>= 0: a new dmabuf fd, installed into the daemon by this very
 *		GET_MSG call (first use of @handle in this session); the
 *		daemon owns it and closes it on DAEDALUS_MSG_BUF_GONE.
 *		-1: the fd was sent earlier for this @handle, or this is a
 *		reference slot and the daemon did not ask for
 *		DAEDALUS_HELLO_FLAG_REF_FDS
 * @length:	usable size of the plane in bytes (from offset 0 of the dmabuf)
 * @bytesused:	OUTPUT: bytes of bitstream, starting at @data_offset.
 *		CAPTURE / reference: 0
 * @data_offset: OUTPUT: offset of the first bitstream byte; else 0
 * @reserved:	zero
 */
struct daedalus_mem_plane {
	__u64 handle;
	__s32 fd;
	__u32 length;
	__u32 bytesused;
	__u32 data_offset;
	__u32 reserved[2];
};

/**
 * struct daedalus_buffer - a V4L2 buffer as seen by the daemon
 * @timestamp:		V4L2 timestamp in ns (OUTPUT's, copied to CAPTURE)
 * @index:		vb2 index within its queue (diagnostics only)
 * @num_mem_planes:	valid entries of @mem
 * @flags:		DAEDALUS_BUF_FLAG_*
 * @reserved0:		zero
 * @mem:		memory planes
 */
struct daedalus_buffer {
	__u64 timestamp;
	__u32 index;
	__u32 num_mem_planes;
	__u32 flags;
	__u32 reserved0;
	struct daedalus_mem_plane mem[DAEDALUS_MAX_MEM_PLANES];
};

/*
 * The buffer holds no correct picture: the previous job that wrote it ended
 * with an error, or was a HOLD job (pieces kept by the daemon, nothing written).
 */
#define DAEDALUS_BUF_FLAG_ERROR		(1U << 0)

/**
 * struct daedalus_color_plane - where one color plane of a picture lives
 * @mem_plane:	index into &struct daedalus_buffer.mem
 * @offset:	byte offset of the plane's first line within that dmabuf
 * @stride:	bytes from one line to the next
 * @size:	bytes reserved for the plane (stride * padded lines)
 */
struct daedalus_color_plane {
	__u32 mem_plane;
	__u32 offset;
	__u32 stride;
	__u32 size;
};

/**
 * struct daedalus_picture - layout of the CAPTURE (decoded) buffers
 * @fourcc:		V4L2 pixel format (NV12, P010 or YUV420M)
 * @width:		allocated (padded) width in pixels
 * @height:		allocated (padded) height in lines
 * @num_color_planes:	valid entries of @plane
 * @coded_width:	OUTPUT format width (the stream's coded size)
 * @coded_height:	OUTPUT format height
 * @reserved:		zero
 * @plane:		color planes, luma first
 */
struct daedalus_picture {
	__u32 fourcc;
	__u32 width;
	__u32 height;
	__u32 num_color_planes;
	__u32 coded_width;
	__u32 coded_height;
	__u32 reserved[2];
	struct daedalus_color_plane plane[DAEDALUS_MAX_COLOR_PLANES];
};

/**
 * struct daedalus_ctrl - one control payload copied into the ctrl_data area
 * @id:		V4L2 control id (V4L2_CID_STATELESS_*, menus, ...)
 * @elem_size:	size of one element (the uAPI struct size, 4 for menus)
 * @elems:	number of elements (> 1 only for dynamic arrays, e.g.
 *		V4L2_CID_STATELESS_AV1_TILE_GROUP_ENTRY)
 * @offset:	byte offset of the payload in the ctrl_data area (8 aligned)
 * @size:	elem_size * elems
 * @flags:	DAEDALUS_CTRL_FLAG_*
 * @reserved:	zero
 */
struct daedalus_ctrl {
	__u32 id;
	__u32 elem_size;
	__u32 elems;
	__u32 offset;
	__u32 size;
	__u32 flags;
	__u32 reserved[2];
};

/* The control was part of this job's request (else: sticky value). */
#define DAEDALUS_CTRL_FLAG_IN_REQUEST	(1U << 0)

/**
 * struct daedalus_ref - one reference slot of a job
 * @timestamp:	the timestamp named by the codec control for this slot
 * @flags:	DAEDALUS_REF_FLAG_*
 * @reserved0:	zero
 * @buf:	the CAPTURE buffer holding that picture (if FOUND)
 *
 * Slots are codec specific: H.264 = v4l2_ctrl_h264_decode_params.dpb[i]
 * (only entries with V4L2_H264_DPB_ENTRY_FLAG_VALID), VP8 = last, golden,
 * alt, VP9 = last, golden, alt, AV1 = reference_frame_ts[0..7].
 */
struct daedalus_ref {
	__u64 timestamp;
	__u32 flags;
	__u32 reserved0;
	struct daedalus_buffer buf;
};

/* The slot names a timestamp (slot is in use by the codec control). */
#define DAEDALUS_REF_FLAG_USED		(1U << 0)
/* A CAPTURE buffer with that timestamp exists; @buf is valid. */
#define DAEDALUS_REF_FLAG_FOUND		(1U << 1)
/* The buffer is the job's own CAPTURE buffer (e.g. H.264 second field). */
#define DAEDALUS_REF_FLAG_SELF		(1U << 2)

/**
 * struct daedalus_job - one decode job (DAEDALUS_MSG_JOB)
 * @job_id:	id to pass back in &struct daedalus_complete
 * @ctx_id:	id of the V4L2 file handle (decoder instance)
 * @codec:	DAEDALUS_CODEC_*
 * @flags:	DAEDALUS_JOB_FLAG_*
 * @sequence:	per context counter of jobs
 * @num_refs:	valid entries of @refs (slot count of the codec)
 * @num_ctrls:	valid entries of @ctrls
 * @ctrl_bytes:	bytes written to the ctrl_data area
 * @queued:	hint: OUTPUT buffers of the context still waiting to be
 *		dispatched when this job was made (the client's lookahead)
 * @inflight:	hint: jobs of the context not yet completed, this one
 *		included (always 1 without DAEDALUS_HELLO_FLAG_PIPELINE)
 * @owner:	with DAEDALUS_HELLO_FLAG_OWNER: the uid (in the initial user
 *		namespace) of the user the instance counts for: its opener's
 *		effective uid, or inside user namespaces the owner of the
 *		outermost one; the same for every job of the context. Zero
 *		without the flag.
 * @reserved:	zero
 * @picture:	layout of @capture (and of every FOUND reference)
 * @output:	the OUTPUT (bitstream) buffer: read-only when the module
 *		allocated it (MMAP), as the client's file when it was imported
 * @capture:	the CAPTURE buffer to decode into
 * @refs:	reference slots
 * @ctrls:	control payloads, in the ctrl_data area
 */
struct daedalus_job {
	__u64 job_id;
	__u32 ctx_id;
	__u32 codec;
	__u32 flags;
	__u32 sequence;
	__u32 num_refs;
	__u32 num_ctrls;
	__u32 ctrl_bytes;
	__u32 queued;
	__u32 inflight;
	__u32 owner;
	__u32 reserved[4];
	struct daedalus_picture picture;
	struct daedalus_buffer output;
	struct daedalus_buffer capture;
	struct daedalus_ref refs[DAEDALUS_MAX_REFS];
	struct daedalus_ctrl ctrls[DAEDALUS_MAX_CTRLS];
};

/* First job of a CAPTURE buffer (first slice / field of a picture). */
#define DAEDALUS_JOB_FLAG_NEW_FRAME	(1U << 0)
/* More jobs follow for the same CAPTURE buffer (HOLD_CAPTURE_BUF). */
#define DAEDALUS_JOB_FLAG_HOLD		(1U << 1)
/*
 * First job since the OUTPUT queue started streaming: the application
 * (re)started the stream, e.g. after a seek; decoder state from before it
 * (references, held slices) is void.
 */
#define DAEDALUS_JOB_FLAG_STREAM_START	(1U << 2)
/*
 * An earlier job of the picture in this CAPTURE buffer (a HOLD job: a slice
 * or first field) failed, or went to an earlier session (a daemon that has
 * gone, taking the pieces it held): the picture misses that piece whatever
 * this job decodes, and the kernel returns the buffer with ERROR.
 */
#define DAEDALUS_JOB_FLAG_LOST_PIECE	(1U << 3)

/**
 * struct daedalus_event - payload of the non-job messages
 * @id:		BUF_GONE: the handle; CTX_GONE: the ctx id;
 *		JOB_CANCEL: the job id
 * @flags:	JOB_CANCEL: DAEDALUS_CANCEL_FLAG_*; zero for the others
 * @reserved32:	zero
 * @reserved:	zero
 */
struct daedalus_event {
	__u64 id;
	__u32 flags;
	__u32 reserved32;
	__u64 reserved[2];
};

/*
 * JOB_CANCEL of a job that timed out: the kernel keeps its buffers from the
 * application until the daemon completes the job (any status; it fails) or
 * closes the bridge, at most one more job_timeout_ms. Without the flag the
 * job is already finished (the application's STREAMOFF or close) and a
 * COMPLETE for it gets ENOENT.
 */
#define DAEDALUS_CANCEL_FLAG_WAIT	(1U << 0)

#define DAEDALUS_MSG_JOB		1	/* u.job */
#define DAEDALUS_MSG_BUF_GONE		2	/* u.event: close and unmap */
#define DAEDALUS_MSG_CTX_GONE		3	/* u.event: drop ctx state */
#define DAEDALUS_MSG_JOB_CANCEL		4	/* u.event: stop work on the job */

/**
 * struct daedalus_msg - argument of DAEDALUS_IOC_GET_MSG
 * @ctrl_data:		in: user pointer to an area for control payloads
 * @ctrl_data_size:	in: its size (>= max_ctrl_bytes is always enough)
 * @flags:		in: DAEDALUS_GET_FLAG_*
 * @type:		out: DAEDALUS_MSG_*
 * @session:		out: session number (see &struct daedalus_hello)
 * @reserved:		zero (in), zero (out)
 * @u:			out: body, selected by @type
 * @u.job:		DAEDALUS_MSG_JOB
 * @u.event:		the other types
 */
struct daedalus_msg {
	__u64 ctrl_data;
	__u32 ctrl_data_size;
	__u32 flags;
	__u32 type;
	__u32 session;
	__u32 reserved[6];
	union {
		struct daedalus_job job;
		struct daedalus_event event;
	} u;
};

/* Return -EAGAIN instead of sleeping when no message is pending. */
#define DAEDALUS_GET_FLAG_NONBLOCK	(1U << 0)

/* Completion status of a job. */
#define DAEDALUS_STATUS_OK		0
#define DAEDALUS_STATUS_ERROR		1

/* Reason codes with DAEDALUS_STATUS_ERROR (for logs and statistics). */
#define DAEDALUS_REASON_NONE		0
#define DAEDALUS_REASON_BITSTREAM	1	/* corrupt or unsupported data */
#define DAEDALUS_REASON_MISSING_REF	2	/* a needed reference is absent */
#define DAEDALUS_REASON_UNSUPPORTED	3	/* feature the daemon lacks */
#define DAEDALUS_REASON_NO_MEMORY	4
#define DAEDALUS_REASON_INTERNAL	5
#define DAEDALUS_REASON_CANCELLED	6	/* after DAEDALUS_MSG_JOB_CANCEL */

/**
 * struct daedalus_complete - argument of DAEDALUS_IOC_COMPLETE
 * @job_id:		&struct daedalus_job.job_id
 * @ctx_id:		&struct daedalus_job.ctx_id (checked)
 * @status:		DAEDALUS_STATUS_*
 * @reason:		DAEDALUS_REASON_* (0 with STATUS_OK)
 * @num_mem_planes:	valid entries of @bytesused, 0 = "whole planes";
 *			else must equal the CAPTURE buffer's plane count
 * @bytesused:		CAPTURE bytesused per memory plane, each <= its
 *			length; 0 = the plane's full length
 * @reserved:		zero
 */
struct daedalus_complete {
	__u64 job_id;
	__u32 ctx_id;
	__u32 status;
	__u32 reason;
	__u32 num_mem_planes;
	__u32 bytesused[DAEDALUS_MAX_MEM_PLANES];
	__u32 reserved[7];
};

#define DAEDALUS_IOC_MAGIC	'D'
#define DAEDALUS_IOC_HELLO	_IOWR(DAEDALUS_IOC_MAGIC, 0x00, struct daedalus_hello)
#define DAEDALUS_IOC_GET_MSG	_IOWR(DAEDALUS_IOC_MAGIC, 0x01, struct daedalus_msg)
#define DAEDALUS_IOC_COMPLETE	_IOW(DAEDALUS_IOC_MAGIC, 0x02, struct daedalus_complete)

#endif /* _UAPI_LINUX_DAEDALUS_V4L2_H */
