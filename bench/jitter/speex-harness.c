/*
 * Plays a packet trace through speexdsp's jitter buffer, through its public API only, on the same
 * 20 ms tick grid the carphone bench uses: at each tick every packet that has arrived by then is put,
 * then one frame is got, then the buffer ticks. Input on stdin: "seq send_ms arrival_ms" lines
 * (arrival -1: lost). Output: "tick seq" for a played frame, "tick M" missing, "tick I" insertion,
 * and last "# ns_per_frame N": the time spent in speexdsp's put/get/tick per frame.
 */
#include <speex/speex_jitter.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

typedef struct {
	unsigned seq;
	double send, arrival;
} packet;

static int by_arrival(const void *a, const void *b)
{
	double x = ((const packet *)a)->arrival, y = ((const packet *)b)->arrival;
	return x < y ? -1 : x > y;
}

int main(void)
{
	size_t n = 0, cap = 1024;
	packet *p = malloc(cap * sizeof *p);
	unsigned seq;
	double send, arrival;
	while (scanf("%u %lf %lf", &seq, &send, &arrival) == 3) {
		if (arrival < 0)
			continue;
		if (n == cap)
			p = realloc(p, (cap *= 2) * sizeof *p);
		p[n++] = (packet){seq, send, arrival};
	}
	if (!n)
		return 1;
	qsort(p, n, sizeof *p, by_arrival);
	JitterBuffer *jb = jitter_buffer_init(20);
	double t0 = p[0].arrival, last = p[n - 1].arrival;
	size_t next = 0;
	char data[4] = {0}, out[64];
	double spent = 0;
	long k = 0;
	for (; t0 + 20.0 * k < last + 3000; k++) {
		double now = t0 + 20.0 * k;
		double start = now_ns();
		for (; next < n && p[next].arrival <= now; next++) {
			JitterBufferPacket in = {data, 1, (spx_uint32_t)(p[next].send + 0.5), 20,
						 (spx_uint16_t)p[next].seq, p[next].seq};
			jitter_buffer_put(jb, &in);
		}
		JitterBufferPacket got = {out, sizeof out, 0, 0, 0, 0};
		spx_int32_t offset = 0;
		int r = jitter_buffer_get(jb, &got, 20, &offset);
		jitter_buffer_tick(jb);
		spent += now_ns() - start;
		if (r == JITTER_BUFFER_OK)
			printf("%ld %u\n", k, got.user_data);
		else if (r == JITTER_BUFFER_INSERTION)
			printf("%ld I\n", k);
		else
			printf("%ld M\n", k);
	}
	printf("# ns_per_frame %.1f\n", spent / k);
	jitter_buffer_destroy(jb);
	free(p);
	return 0;
}
