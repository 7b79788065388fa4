/*
 * An independent Opus decoder for tests: Debian's libopus (what baresip links), decoding 8 kHz mono the
 * way a receiver with in-band FEC does. Reads packets from stdin, each as a 16-bit little-endian length
 * and its bytes; argv[1] = N: packets N, 2N, 3N ... are taken as lost and decoded from the next packet's
 * in-band FEC (opus_decode with decode_fec = 1), as many samples as argv[2]. Writes 16-bit PCM to stdout.
 */
#include <opus/opus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_PACKETS 4096
#define MAX_PACKET 1500

static unsigned char packets[MAX_PACKETS][MAX_PACKET];
static int lengths[MAX_PACKETS];

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: opus-fec-decoder EVERY_NTH_LOST FRAME_SAMPLES < packets\n");
		return 2;
	}
	int every = atoi(argv[1]);
	int frame = atoi(argv[2]);
	int n = 0;
	uint16_t length;
	while (n < MAX_PACKETS && fread(&length, sizeof length, 1, stdin) == 1) {
		if (length > MAX_PACKET || fread(packets[n], 1, length, stdin) != length) {
			fprintf(stderr, "truncated packet %d\n", n);
			return 1;
		}
		lengths[n++] = length;
	}
	int err;
	OpusDecoder *decoder = opus_decoder_create(8000, 1, &err);
	if (err != OPUS_OK) {
		fprintf(stderr, "opus_decoder_create: %s\n", opus_strerror(err));
		return 1;
	}
	opus_int16 pcm[5760];
	for (int k = 0; k < n; k++) {
		int lost = every > 0 && k > 0 && k % every == 0 && k + 1 < n;
		int samples = lost ? opus_decode(decoder, packets[k + 1], lengths[k + 1], pcm, frame, 1)
				   : opus_decode(decoder, packets[k], lengths[k], pcm, 5760, 0);
		if (samples < 0) {
			fprintf(stderr, "packet %d: %s\n", k, opus_strerror(samples));
			return 1;
		}
		fwrite(pcm, sizeof pcm[0], samples, stdout);
	}
	opus_decoder_destroy(decoder);
	return 0;
}
