// SPDX-License-Identifier: BSD-2-Clause
/*
 * gst-decode: runs GStreamer decoding pipelines to EOS, one after the other, writing every
 * decoded frame to its own file, and prints one line per frame, "frame FILE PTS_NS", so that
 * a comparison can pair frames by timestamp (frames a decoder drops after an error, or skips
 * after a seek, simply have no line). Optionally seeks (flushing, to the keyframe at or before
 * a time) once a number of frames has come out: the decoder then sees STREAMOFF/STREAMON
 * mid-stream.
 *
 *   gst-decode JOB [--then JOB]...
 *   JOB: [--seek-after N --seek-to SECONDS] OUTDIR PIPELINE-WITHOUT-SINK
 *
 * Prints "frames N seconds S" at the end of each job; with more than one job also "status R"
 * after it (0 at EOS, 1 on a pipeline error). Exit 0 when every job reached EOS, else 1.
 * Several jobs in one process: each pipeline is built, run and torn down (its decoder
 * element opens and closes the device) as in a process of its own, without paying for
 * GStreamer's start (its registry, the plugins) per clip, seconds under TCG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

struct run {
	GstElement *pipeline;
	GMainLoop *loop;
	long seek_after;
	double seek_to;
	long frames;
	int status;
	gboolean seeked;
};

static void on_frame(struct run *r, const GstStructure *s)
{
	const gchar *file = gst_structure_get_string(s, "filename");
	guint64 pts = GST_CLOCK_TIME_NONE;

	gst_structure_get_clock_time(s, "timestamp", &pts);
	printf("frame %s %" G_GUINT64_FORMAT "\n", file ? file : "?", (guint64)pts);
	r->frames++;
	if (r->seek_after >= 0 && !r->seeked && r->frames >= r->seek_after) {
		r->seeked = TRUE;
		printf("seek %.3f\n", r->seek_to);
		if (!gst_element_seek_simple(r->pipeline, GST_FORMAT_TIME,
					     GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT |
						     GST_SEEK_FLAG_SNAP_BEFORE,
					     (gint64)(r->seek_to * GST_SECOND))) {
			fprintf(stderr, "gst-decode: the seek was refused\n");
			r->status = 1;
			g_main_loop_quit(r->loop);
		}
	}
}

static gboolean on_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	struct run *r = data;
	GError *err = NULL;
	gchar *dbg = NULL;

	(void)bus;
	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ELEMENT: {
		const GstStructure *s = gst_message_get_structure(msg);

		if (s && gst_structure_has_name(s, "GstMultiFileSink"))
			on_frame(r, s);
		break;
	}
	case GST_MESSAGE_WARNING:
		gst_message_parse_warning(msg, &err, &dbg);
		printf("warning %s: %s\n", GST_OBJECT_NAME(msg->src), err->message);
		break;
	case GST_MESSAGE_ERROR:
		gst_message_parse_error(msg, &err, &dbg);
		printf("error %s: %s (%s)\n", GST_OBJECT_NAME(msg->src), err->message,
		       dbg ? dbg : "");
		r->status = 1;
		g_main_loop_quit(r->loop);
		break;
	case GST_MESSAGE_EOS:
		g_main_loop_quit(r->loop);
		break;
	default:
		break;
	}
	if (err)
		g_error_free(err);
	g_free(dbg);
	fflush(stdout);
	return TRUE;
}

/* One job: the pipeline built, run to EOS or an error, and torn down. */
static int run_job(const char *outdir, const char *pipeline, long seek_after, double seek_to)
{
	struct run r = { .seek_after = seek_after, .seek_to = seek_to };
	GError *err = NULL;
	gchar *desc;
	GstBus *bus;
	guint watch;
	gint64 t0;

	/* sync=false: as fast as the decoder goes, not in real time */
	desc = g_strdup_printf("%s ! multifilesink sync=false post-messages=true "
			       "location=%s/f%%05d.raw", pipeline, outdir);
	/* fatal errors: an unknown element would otherwise leave a half pipeline that never ends */
	r.pipeline = gst_parse_launch_full(desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &err);
	g_free(desc);
	if (!r.pipeline || err) {
		printf("error gst-decode: %s\n", err ? err->message : "bad pipeline");
		printf("frames 0 seconds 0.000\n");
		if (err)
			g_error_free(err);
		if (r.pipeline)
			gst_object_unref(r.pipeline);
		return 1;
	}
	r.loop = g_main_loop_new(NULL, FALSE);
	bus = gst_element_get_bus(r.pipeline);
	watch = gst_bus_add_watch(bus, on_message, &r);
	t0 = g_get_monotonic_time();
	if (gst_element_set_state(r.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		fprintf(stderr, "gst-decode: the pipeline does not start\n");
		r.status = 1;
	} else {
		g_main_loop_run(r.loop);
	}
	printf("frames %ld seconds %.3f\n", r.frames, (g_get_monotonic_time() - t0) / 1e6);
	gst_element_set_state(r.pipeline, GST_STATE_NULL);
	g_source_remove(watch);
	gst_object_unref(bus);
	gst_object_unref(r.pipeline);
	g_main_loop_unref(r.loop);
	return r.status;
}

int main(int argc, char **argv)
{
	int i = 1, jobs = 0, status = 0;

	gst_init(&argc, &argv);
	while (i < argc) {
		long seek_after = -1;
		double seek_to = 0;
		int st;

		while (i + 1 < argc && !strncmp(argv[i], "--", 2) && strcmp(argv[i], "--then")) {
			if (!strcmp(argv[i], "--seek-after"))
				seek_after = strtol(argv[i + 1], NULL, 10);
			else if (!strcmp(argv[i], "--seek-to"))
				seek_to = strtod(argv[i + 1], NULL);
			else
				break;
			i += 2;
		}
		if (argc - i < 2 || (argc - i > 2 && strcmp(argv[i + 2], "--then"))) {
			fprintf(stderr, "usage: gst-decode [--seek-after N --seek-to S] OUTDIR PIPELINE "
					"[--then ...]\n");
			return 2;
		}
		jobs++;
		st = run_job(argv[i], argv[i + 1], seek_after, seek_to);
		i += 2;
		if (jobs > 1 || i < argc)
			printf("status %d\n", st);
		fflush(stdout);
		if (st)
			status = 1;
		if (i < argc)
			i++; /* --then */
	}
	if (!jobs) {
		fprintf(stderr, "usage: gst-decode [--seek-after N --seek-to S] OUTDIR PIPELINE "
				"[--then ...]\n");
		return 2;
	}
	return status;
}
