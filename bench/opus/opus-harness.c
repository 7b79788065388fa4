/*
 * The peer for bench/opus-encoder.ts: Debian's libopus (what baresip links) encoding the same 8 kHz mono
 * frames with the same settings as carphone (VOIP, 24 kb/s, default complexity). Reads 16-bit PCM from
 * stdin, encodes it frame by frame `rounds` times and prints the fastest round's ns per frame and the
 * mean packet size.
 */
#include <opus/opus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FRAME 160

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	size_t cap = 1 << 20, n = 0;
	int16_t *pcm = malloc(cap * sizeof *pcm);
	size_t got;
	while (pcm && (got = fread(pcm + n, sizeof *pcm, cap - n, stdin)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			pcm = realloc(pcm, cap * sizeof *pcm);
		}
	}
	size_t frames = n / FRAME;
	if (!pcm || frames == 0) {
		fprintf(stderr, "no PCM on stdin\n");
		return 1;
	}
	int err;
	OpusEncoder *enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &err);
	if (err != OPUS_OK) {
		fprintf(stderr, "opus_encoder_create: %s\n", opus_strerror(err));
		return 1;
	}
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
	unsigned char packet[1500];
	double best = 0;
	long bytes = 0;
	for (int r = 0; r < rounds; r++) {
		opus_encoder_ctl(enc, OPUS_RESET_STATE);
		bytes = 0;
		double t0 = now_ns();
		for (size_t f = 0; f < frames; f++) {
			opus_int32 len = opus_encode(enc, pcm + f * FRAME, FRAME, packet, sizeof packet);
			if (len < 0) {
				fprintf(stderr, "opus_encode: %s\n", opus_strerror(len));
				return 1;
			}
			bytes += len;
		}
		double per = (now_ns() - t0) / frames;
		if (r == 0 || per < best)
			best = per;
	}
	printf("%.0f %.1f\n", best, (double)bytes / frames);
	opus_encoder_destroy(enc);
	free(pcm);
	return 0;
}
