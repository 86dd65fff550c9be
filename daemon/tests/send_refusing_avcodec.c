/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A libavcodec for the engine's ffmpeg_avcodec_path test hook (decode_clip --avcodec). It
 * links the real library, so every symbol the engine looks up in it is the real one but
 * avcodec_send_packet(), defined here: that refuses the packets it is told to with
 * AVERROR(ENOMEM) without passing them on, as libavcodec does when an allocation fails
 * before a frame thread takes a packet (its copy of the packet, the context updates), and
 * passes every other call to the real function.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>

#include <libavcodec/avcodec.h>

typedef int (*send_fn)(AVCodecContext *avctx, const AVPacket *avpkt);

static _Atomic(send_fn) real_send;
static atomic_uint to_refuse, refused;
static atomic_int refused_size;

void dd_test_refuse_sends(unsigned int n);
unsigned int dd_test_sends_refused(void);
int dd_test_refused_size(void);
unsigned int dd_test_avcodec_version(void);

/*
 * The real library's version. Its call also keeps libavcodec a dependency of this module
 * (linked --as-needed), through which the engine finds every other symbol.
 */
unsigned int dd_test_avcodec_version(void)
{
	return avcodec_version();
}

/* The next n packets with data are refused. */
void dd_test_refuse_sends(unsigned int n)
{
	atomic_store(&to_refuse, n);
}

/* How many were refused since the library was loaded. */
unsigned int dd_test_sends_refused(void)
{
	return atomic_load(&refused);
}

/* The size of the last packet refused: which one it was (a filler is a few bytes). */
int dd_test_refused_size(void)
{
	return atomic_load(&refused_size);
}

int avcodec_send_packet(AVCodecContext *avctx, const AVPacket *avpkt)
{
	send_fn real = atomic_load(&real_send);
	unsigned int n = atomic_load(&to_refuse);

	if (avpkt && avpkt->size > 0 && n &&
	    atomic_compare_exchange_strong(&to_refuse, &n, n - 1)) {
		atomic_store(&refused_size, avpkt->size);
		atomic_fetch_add(&refused, 1);
		return AVERROR(ENOMEM);
	}
	if (!real) {
		/* the next definition after this module's: the real library's */
		*(void **)&real = dlsym(RTLD_NEXT, "avcodec_send_packet");
		if (!real)
			return AVERROR(ENOSYS);
		atomic_store(&real_send, real);
	}
	return real(avctx, avpkt);
}
