// SPDX-License-Identifier: BSD-2-Clause
/*
 * dv-x264-recon W H PIX_FMT OUT.h264 [OPTION=VALUE...] < raw frames
 *
 * An H.264 reference that shares no code with FFmpeg's h264 decoder: the pictures x264
 * reconstructs while it encodes. An encoder predicts from exactly what a conformant decoder
 * will decode (anything else would drift), so its reconstruction is the decoded stream, made
 * by x264's own code. Encodes the raw frames on stdin (W x H, PIX_FMT as FFmpeg names it,
 * 30 frames per second, as tests/media/clips.py's source makes them) with libx264 through
 * libavcodec, with the OPTION=VALUE pairs given to avcodec_open2() as the ffmpeg command's
 * options are (preset=medium crf=26 g=30 x264-params=... flags=+ildct+ilme), and with the
 * global header a Matroska clip gets. Writes the stream to OUT.h264 (Annex B, the parameter
 * sets first) and prints one line per reconstructed picture, in output order:
 *   PTS MD5
 * MD5 over the visible picture's planes, rows packed (as FFmpeg's framemd5 of the decode).
 * The caller checks that OUT.h264 carries the same NAL units as the clip: only then are
 * these the clip's pictures. Exit 1 on any failure, with a line on stderr; exit 3 when the
 * libx264 wrapper cannot hand out the reconstruction of this format (FFmpeg 7.1's maps only
 * 8-bit layouts: a 10-bit stream gets ENOSYS).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/md5.h>
#include <libavutil/pixdesc.h>

struct recon {
	int64_t pts;
	char md5[33];
};

struct state {
	AVCodecContext *enc;
	FILE *out;
	struct recon *pics;
	size_t n, cap;
};

static int fail(const char *what, int err)
{
	char msg[AV_ERROR_MAX_STRING_SIZE] = "";

	if (err == AVERROR(ENOSYS)) {
		fprintf(stderr, "dv-x264-recon: libavcodec's libx264 wrapper hands out no "
			"reconstruction of this picture format\n");
		exit(3);
	}
	if (err < 0)
		av_strerror(err, msg, sizeof(msg));
	fprintf(stderr, "dv-x264-recon: %s%s%s\n", what, err < 0 ? ": " : "", msg);
	return 1;
}

/*
 * MD5 of the visible picture as framemd5 hashes a planar decode: Y, then U, then V, each row
 * packed, samples of more than 8 bits as 16-bit little-endian words holding the value.
 * x264 reconstructs into its own layout (NV12, or 16-bit interleaved chroma), so each
 * component is gathered by its descriptor.
 */
static int picture_md5(const AVFrame *f, char hex[33])
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
	struct AVMD5 *md5 = av_md5_alloc();
	uint8_t sum[16], *row = malloc((size_t)f->width * 2);

	if (!d || !md5 || !row || d->nb_components < 3 || (d->flags & AV_PIX_FMT_FLAG_BE)) {
		av_free(md5);
		free(row);
		return -1;
	}
	av_md5_init(md5);
	for (int c = 0; c < 3; c++) {
		const AVComponentDescriptor *cd = &d->comp[c];
		int w = c ? AV_CEIL_RSHIFT(f->width, d->log2_chroma_w) : f->width;
		int h = c ? AV_CEIL_RSHIFT(f->height, d->log2_chroma_h) : f->height;
		int wide = cd->depth > 8;

		for (int y = 0; y < h; y++) {
			const uint8_t *src = f->data[cd->plane] + (ptrdiff_t)y * f->linesize[cd->plane] +
					     cd->offset;

			for (int x = 0; x < w; x++) {
				const uint8_t *px = src + (ptrdiff_t)x * cd->step;
				unsigned int v = wide ? (unsigned int)(px[0] | px[1] << 8) >> cd->shift :
							px[0];

				if (wide) {
					row[2 * x] = (uint8_t)v;
					row[2 * x + 1] = (uint8_t)(v >> 8);
				} else {
					row[x] = (uint8_t)v;
				}
			}
			av_md5_update(md5, row, (size_t)(w * (wide ? 2 : 1)));
		}
	}
	av_md5_final(md5, sum);
	av_free(md5);
	free(row);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	return 0;
}

/* Every packet the encoder has: written out, and the picture it reconstructed with it. */
static int drain(struct state *st, AVPacket *pkt, AVFrame *rec)
{
	int r;

	while ((r = avcodec_receive_packet(st->enc, pkt)) >= 0) {
		if (fwrite(pkt->data, 1, (size_t)pkt->size, st->out) != (size_t)pkt->size)
			return fail("cannot write the stream", 0);
		/* the reconstruction of the picture this packet codes */
		r = avcodec_receive_frame(st->enc, rec);
		if (r < 0)
			return fail("no reconstructed picture for a packet", r);
		if (st->n == st->cap) {
			size_t cap = st->cap ? 2 * st->cap : 64;
			struct recon *p = realloc(st->pics, cap * sizeof(*p));

			if (!p)
				return fail("out of memory", 0);
			st->pics = p;
			st->cap = cap;
		}
		st->pics[st->n].pts = pkt->pts;
		if (picture_md5(rec, st->pics[st->n].md5))
			return fail("a reconstructed picture of a layout this cannot read", 0);
		st->n++;
		av_frame_unref(rec);
		av_packet_unref(pkt);
	}
	return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : fail("encoding failed", r);
}

/* One picture from stdin into f's planes: 1, 0 at the end of the input, -1 if cut short. */
static int read_picture(AVFrame *f)
{
	const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
	int bytes = d->comp[0].depth > 8 ? 2 : 1;

	for (int p = 0; p < 3; p++) {
		int w = p ? AV_CEIL_RSHIFT(f->width, d->log2_chroma_w) : f->width;
		int h = p ? AV_CEIL_RSHIFT(f->height, d->log2_chroma_h) : f->height;

		for (int y = 0; y < h; y++) {
			size_t n = (size_t)(w * bytes);
			size_t got = fread(f->data[p] + (ptrdiff_t)y * f->linesize[p], 1, n, stdin);

			if (got != n)
				return p || y || got ? -1 : 0;
		}
	}
	return 1;
}

static int by_pts(const void *a, const void *b)
{
	const struct recon *x = a, *y = b;

	return (x->pts > y->pts) - (x->pts < y->pts);
}

int main(int argc, char **argv)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	struct state st = { 0 };
	AVDictionary *opts = NULL;
	AVFrame *in = av_frame_alloc(), *rec = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	enum AVPixelFormat fmt;
	int64_t pts = 0;
	int r, w, h;

	if (argc < 5) {
		fprintf(stderr, "usage: dv-x264-recon W H PIX_FMT OUT.h264 [OPTION=VALUE...]\n");
		return 2;
	}
	w = atoi(argv[1]);
	h = atoi(argv[2]);
	fmt = av_get_pix_fmt(argv[3]);
	if (!codec)
		return fail("no libx264 encoder in this libavcodec", 0);
	if (w <= 0 || h <= 0 || fmt == AV_PIX_FMT_NONE || !in || !rec || !pkt)
		return fail("bad size or pixel format", 0);
	if (!(codec->capabilities & AV_CODEC_CAP_ENCODER_RECON_FRAME))
		return fail("this libx264 wrapper cannot export reconstructed pictures", 0);
	for (int i = 5; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return fail("an option is not OPTION=VALUE", 0);
		*eq = '\0';
		av_dict_set(&opts, argv[i], eq + 1, 0);
	}
	st.enc = avcodec_alloc_context3(codec);
	if (!st.enc)
		return fail("out of memory", 0);
	/* what ffmpeg's command gives the encoder for the clips' source and a Matroska file */
	st.enc->width = w;
	st.enc->height = h;
	st.enc->pix_fmt = fmt;
	st.enc->time_base = (AVRational){ 1, 30 };
	st.enc->framerate = (AVRational){ 30, 1 };
	st.enc->sample_aspect_ratio = (AVRational){ 1, 1 };
	st.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER | AV_CODEC_FLAG_RECON_FRAME;
	r = avcodec_open2(st.enc, codec, &opts);
	if (r < 0)
		return fail("cannot open libx264 with these options", r);
	if (av_dict_count(opts)) {
		const AVDictionaryEntry *e = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);

		fprintf(stderr, "dv-x264-recon: option %s not taken\n", e->key);
		return 1;
	}
	st.out = fopen(argv[4], "wb");
	if (!st.out)
		return fail("cannot create the output file", 0);
	/* the parameter sets, which Matroska keeps in its header and the clip's Annex B has */
	if (fwrite(st.enc->extradata, 1, (size_t)st.enc->extradata_size, st.out) !=
	    (size_t)st.enc->extradata_size)
		return fail("cannot write the stream", 0);
	for (;;) {
		in->format = fmt;
		in->width = w;
		in->height = h;
		r = av_frame_get_buffer(in, 0);
		if (r < 0)
			return fail("out of memory", r);
		r = read_picture(in);
		if (r <= 0) {
			av_frame_unref(in);
			if (r < 0)
				return fail("the input ends inside a picture", 0);
			break;
		}
		in->pts = pts++;
		r = avcodec_send_frame(st.enc, in);
		av_frame_unref(in);
		if (r < 0)
			return fail("the encoder refused a picture", r);
		if (drain(&st, pkt, rec))
			return 1;
	}
	r = avcodec_send_frame(st.enc, NULL);
	if (r < 0 || drain(&st, pkt, rec))
		return fail("flushing the encoder failed", r);
	if (fclose(st.out))
		return fail("cannot write the stream", 0);
	if ((int64_t)st.n != pts)
		return fail("not one reconstructed picture per input picture", 0);
	qsort(st.pics, st.n, sizeof(*st.pics), by_pts);
	for (size_t i = 0; i < st.n; i++)
		printf("%lld %s\n", (long long)st.pics[i].pts, st.pics[i].md5);
	free(st.pics);
	av_packet_free(&pkt);
	av_frame_free(&in);
	av_frame_free(&rec);
	avcodec_free_context(&st.enc);
	av_dict_free(&opts);
	return 0;
}
