/*
 * carphone's adaptive jitter buffer: packets in, one playout decision per frame out.
 *
 * Freestanding C11 (no libc) so that it compiles to wasm32 with nothing but clang and wasm-ld. Time is
 * an input (arrival and playout times in milliseconds of the receiver's clock): the buffer has no clock
 * of its own and is tested by replaying traces.
 */
#ifndef CARPHONE_JITTER_H
#define CARPHONE_JITTER_H

#include <stdint.h>

#define JB_MAX_INSTANCES 8
#define JB_SLOTS 128
#define JB_MAX_PAYLOAD 1280

/* jb_put results */
enum {
	JB_PUT_STORED = 0,
	JB_PUT_LATE = 1,      /* its frame was already played or concealed */
	JB_PUT_DUPLICATE = 2, /* already in the buffer */
	JB_PUT_INVALID = 3,   /* bad handle, empty or oversized payload */
	JB_PUT_FULL = 4,      /* before playout starts: too far ahead of the earliest packet (JB_SLOTS frames) */
};

/* jb_get actions: what the caller plays for this frame */
enum {
	JB_GET_NORMAL = 0,     /* decode the returned frame */
	JB_GET_CONCEAL = 1,    /* the next frame is missing: conceal it (it is counted as lost) */
	JB_GET_EXPAND = 2,     /* play a stretched or concealed frame and consume nothing: delay grows */
	JB_GET_ACCELERATE = 3, /* decode the returned frame and the one after it, time-compressed into one */
	JB_GET_SILENCE = 4,    /* nothing due (not started, or the sender's DTX gap): comfort noise */
	JB_GET_INVALID = -1,
};

/* Statistics, as doubles so that the WebAssembly host reads them with one Float64Array. */
typedef struct {
	double c_delay_ms;     /* current playout delay above the fastest packet's, ms */
	double c_target_ms;    /* the delay the buffer aims for, ms */
	double c_jitter_ms;    /* interarrival jitter estimate (RFC 3550 style), ms */
	double n_put;
	double n_played;       /* frames played as received (accelerated ones included) */
	double n_late;         /* packets that came after their frame was played or concealed */
	double n_duplicate;
	double n_concealed;    /* frames concealed because their packet was missing */
	double n_accelerated;  /* accelerate operations (each saves one frame of delay) */
	double n_expanded;     /* expand operations (each adds one frame of delay) */
	double n_silence;      /* frames of DTX / not yet started */
	double n_reset;        /* timing rebases after a timestamp jump, and skips past a lost outage */
} jb_stats;

/* The frame jb_get returns, if any. */
typedef struct {
	uint32_t seq;          /* extended sequence number */
	uint32_t len;
	uint32_t seq2;         /* for JB_GET_ACCELERATE: the second frame */
	uint32_t len2;
	uint8_t payload[JB_MAX_PAYLOAD];
	uint8_t payload2[JB_MAX_PAYLOAD];
} jb_frame;

int32_t jb_create(int32_t frame_ms, int32_t clock_rate);
void jb_destroy(int32_t h);
void jb_reset(int32_t h);
/* The buffer jb_put reads the payload from (JB_MAX_PAYLOAD bytes). */
uint8_t *jb_input(int32_t h);
int32_t jb_put(int32_t h, uint32_t seq16, uint32_t ts, double arrival_ms, int32_t len);
int32_t jb_get(int32_t h, double now_ms);
jb_frame *jb_output(int32_t h);
jb_stats *jb_statistics(int32_t h);

#endif
