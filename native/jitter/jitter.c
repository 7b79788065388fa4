/*
 * carphone's adaptive jitter buffer (see jitter.h for the interface).
 *
 * Timing model. Every packet's send time s is its RTP timestamp in ms. Its transit (arrival - s) less
 * the smallest transit seen lately (min) is its relative delay r: how much later than the fastest
 * packet it came. r goes into a histogram that forgets slowly; the target delay T is a quantile of it.
 * A frame is due for playout at s + min + T, and at every frame tick the buffer decides:
 *   - the next frame is here and due:     play it (NORMAL);
 *   - it is here, and so is the one after, and the delay is more than a frame above T: play both
 *     time-compressed into one frame (ACCELERATE), at most one frame in three, so the delay comes
 *     down gently;
 *   - it is missing, later ones are here, and its due time has passed: conceal it (CONCEAL);
 *   - it is missing and still within its due time, or nothing at all is here: wait (EXPAND, a
 *     stretched or concealed frame that consumes nothing), or after a long silence play comfort noise
 *     (SILENCE). Waiting on a stall is what makes the delay grow fast on a spike without losing the
 *     frames that arrive bunched up afterwards; the accelerations then bring it back down.
 * The minimum may fall at once (a faster route) but rises by at most 2 ms per second, faster than any
 * clock drift of 0.1 % yet slow enough that a route change upward is learned from the histogram.
 */
#include "jitter.h"

#define HIST_BINS 512
#define HIST_BIN_MS 2.0
#ifndef HIST_FORGET
#define HIST_FORGET 0.996
#endif
#ifndef TARGET_QUANTILE
#define TARGET_QUANTILE 0.93
#endif
#ifndef MIN_RISE_PER_MS
#define MIN_RISE_PER_MS 0.002
#endif
#ifndef STALL_EXPAND_MS
#define STALL_EXPAND_MS 400.0
#endif
#ifndef ACCEL_COOLDOWN
#define ACCEL_COOLDOWN 2
#endif
#ifndef FAST_ACCEL_FRAMES
#define FAST_ACCEL_FRAMES 3
#endif
#ifndef OOO_QUANTILE
#define OOO_QUANTILE 0.85
#endif
#ifndef OOO_FORGET
#define OOO_FORGET 0.99
#endif
#ifndef OOO_MIN_MASS
#define OOO_MIN_MASS 3.0
#endif
#ifndef ROUTE_SETTLE_MS
#define ROUTE_SETTLE_MS 1000.0
#endif
#ifndef ROUTE_DROP_MS
#define ROUTE_DROP_MS 15.0
#endif
#ifndef ROUTE_DROP_KEEP
#define ROUTE_DROP_KEEP 0.0
#endif
#ifndef BUNCH_WEIGHT
#define BUNCH_WEIGHT 0.1
#endif
#ifndef PRIOR_WEIGHT
#define PRIOR_WEIGHT 2
#endif
#ifndef INITIAL_TARGET_MS
#define INITIAL_TARGET_MS 40.0
#endif

typedef struct {
	uint32_t seq;
	uint32_t len;
	int64_t ts;
	uint8_t used;
	uint8_t data[JB_MAX_PAYLOAD];
} jb_slot;

typedef struct {
	int used;
	double frame_ms;
	double ms_per_tick; /* RTP timestamp unit in ms */
	/* sequence and timestamp unwrapping */
	int have_seq;
	uint32_t max_seq;
	int64_t last_ts;
	int64_t ts_base;
	/* delay estimation */
	int have_min;
	double min_transit;
	double last_arrival;
	double hist[HIST_BINS];
	double hist_total;
	double ooo[HIST_BINS]; /* relative delays of packets that were overtaken (reordering) */
	double ooo_total;
	double route_changed_at;
	double target;
	double last_transit;
	int have_transit;
	/* playout */
	int started;
	uint32_t next_seq;
	int waiting; /* the last decision consumed nothing */
	uint32_t filled; /* expansions since the last frame consumed */
	double starved_ms;
	int cooldown;
	jb_slot slots[JB_SLOTS];
	uint8_t input[JB_MAX_PAYLOAD];
	jb_frame out;
	jb_stats st;
} jb;

static jb instances[JB_MAX_INSTANCES];

static jb *get(int32_t h)
{
	if (h < 0 || h >= JB_MAX_INSTANCES || !instances[h].used)
		return 0;
	return &instances[h];
}

static void copy(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dst[i] = src[i];
}

static double fabs_(double x)
{
	return x < 0 ? -x : x;
}

static void reset(jb *b)
{
	double frame_ms = b->frame_ms, ms_per_tick = b->ms_per_tick;
	jb_stats st = b->st;
	uint8_t *p = (uint8_t *)b;
	for (uint32_t i = 0; i < sizeof(*b); i++)
		p[i] = 0;
	b->used = 1;
	b->frame_ms = frame_ms;
	b->ms_per_tick = ms_per_tick;
	b->st = st;
	b->target = INITIAL_TARGET_MS;
	/* A prior of a few packets at the initial target, so the first packets do not set it alone. */
	b->hist[(int)(INITIAL_TARGET_MS / HIST_BIN_MS)] = PRIOR_WEIGHT;
	b->hist_total = PRIOR_WEIGHT;
	b->st.c_target_ms = INITIAL_TARGET_MS;
}

int32_t jb_create(int32_t frame_ms, int32_t clock_rate)
{
	if (frame_ms < 5 || frame_ms > 120 || clock_rate < 1000 || clock_rate > 192000)
		return -1;
	for (int32_t h = 0; h < JB_MAX_INSTANCES; h++) {
		if (!instances[h].used) {
			jb *b = &instances[h];
			b->frame_ms = frame_ms;
			b->ms_per_tick = 1000.0 / clock_rate;
			jb_stats zero = {0};
			b->st = zero;
			reset(b);
			return h;
		}
	}
	return -1;
}

void jb_destroy(int32_t h)
{
	jb *b = get(h);
	if (b)
		b->used = 0;
}

void jb_reset(int32_t h)
{
	jb *b = get(h);
	if (b) {
		reset(b);
		b->st.n_reset++;
	}
}

uint8_t *jb_input(int32_t h)
{
	jb *b = get(h);
	return b ? b->input : 0;
}

jb_frame *jb_output(int32_t h)
{
	jb *b = get(h);
	return b ? &b->out : 0;
}

jb_stats *jb_statistics(int32_t h)
{
	jb *b = get(h);
	return b ? &b->st : 0;
}

static double send_ms(const jb *b, int64_t ts)
{
	return (double)(ts - b->ts_base) * b->ms_per_tick;
}

/*
 * Packets released together after a hold (an LTE delay spike, a handover's forwarding) come in order,
 * within a fraction of a frame of each other, far above the target. The buffer rides such a stall out
 * by waiting and then catches up; letting them set the target would keep the delay high for seconds
 * after every spike. They count for a tenth of a packet; a packet that overtook nothing and came on
 * its own, or one that was overtaken (reordering), counts in full.
 */
static double weight(const jb *b, double r, double arrival_ms, int in_order)
{
	if (in_order && arrival_ms - b->last_arrival < b->frame_ms / 4 && r > b->target)
		return BUNCH_WEIGHT;
	return 1.0;
}

static double quantile(const double *hist, double total, double q)
{
	double need = total * q, sum = 0;
	int i = 0;
	for (; i < HIST_BINS - 1; i++) {
		sum += hist[i];
		if (sum >= need)
			break;
	}
	return (i + 1) * HIST_BIN_MS;
}

static void learn(jb *b, double transit, double arrival_ms, int in_order)
{
	if (!b->have_min || transit < b->min_transit) {
		/* A much faster path (a route change): what the histograms learnt on the old one is stale. */
		if (b->have_min && b->min_transit - transit > ROUTE_DROP_MS) {
			for (int i = 0; i < HIST_BINS; i++) {
				b->hist[i] *= ROUTE_DROP_KEEP;
				b->ooo[i] *= ROUTE_DROP_KEEP;
			}
			b->hist_total *= ROUTE_DROP_KEEP;
			b->ooo_total *= ROUTE_DROP_KEEP;
			/* Packets still on the old, slower path overtaken by the new one are not reordering. */
			b->route_changed_at = arrival_ms;
		}
		b->min_transit = transit;
		b->have_min = 1;
	} else {
		double rise = (arrival_ms - b->last_arrival) * MIN_RISE_PER_MS;
		if (rise > 0) {
			b->min_transit += rise;
			if (b->min_transit > transit)
				b->min_transit = transit;
		}
	}
	double r = transit - b->min_transit;
	double w = weight(b, r, arrival_ms, in_order);
	b->last_arrival = arrival_ms;
	int bin = (int)(r / HIST_BIN_MS);
	if (bin >= HIST_BINS)
		bin = HIST_BINS - 1;
	if (bin < 0)
		bin = 0;
	for (int i = 0; i < HIST_BINS; i++)
		b->hist[i] *= HIST_FORGET;
	b->hist_total = b->hist_total * HIST_FORGET + w;
	b->hist[bin] += w;
	if (!in_order && arrival_ms - b->route_changed_at > ROUTE_SETTLE_MS) {
		for (int i = 0; i < HIST_BINS; i++)
			b->ooo[i] *= OOO_FORGET;
		b->ooo_total = b->ooo_total * OOO_FORGET + 1;
		b->ooo[bin] += 1;
	}
	double target = quantile(b->hist, b->hist_total, TARGET_QUANTILE);
	/* An overtaken packet that comes after its due time is lost, where an in-order late one only
	 * stalls playout: reordering gets a stricter quantile of its own. */
	if (b->ooo_total >= OOO_MIN_MASS) {
		double t = quantile(b->ooo, b->ooo_total, OOO_QUANTILE);
		if (t > target)
			target = t;
	}
	b->target = target;
	b->st.c_target_ms = b->target;
	if (b->have_transit) {
		double d = fabs_(transit - b->last_transit);
		b->st.c_jitter_ms += (d - b->st.c_jitter_ms) / 16;
	}
	b->last_transit = transit;
	b->have_transit = 1;
}

/*
 * A packet more than the buffer's length ahead of playout ends an outage whose packets were lost, not
 * held (a tunnel; a handover whose packets went to an address that is gone): the frames in between
 * will never come, and waiting for them would leave the rest of the call silent. Playout goes on from
 * this packet, once it is due; what is still buffered is from before the outage and far too late.
 */
static void skip_outage(jb *b, uint32_t seq)
{
	for (uint32_t i = 0; i < JB_SLOTS; i++)
		b->slots[i].used = 0;
	b->next_seq = seq;
	b->waiting = 1;
	b->filled = 0;
	b->st.n_reset++;
}

int32_t jb_put(int32_t h, uint32_t seq16, uint32_t ts, double arrival_ms, int32_t len)
{
	jb *b = get(h);
	if (!b || len <= 0 || len > JB_MAX_PAYLOAD)
		return JB_PUT_INVALID;
	b->st.n_put++;
	uint32_t seq;
	int64_t ext_ts;
	if (!b->have_seq) {
		seq = 0x10000u + (seq16 & 0xffff); /* room below for reordered packets */
		b->max_seq = seq;
		b->have_seq = 1;
		ext_ts = ts;
		b->ts_base = ts;
		b->last_ts = ts;
	} else {
		int16_t ds = (int16_t)((seq16 & 0xffff) - (b->max_seq & 0xffff));
		seq = b->max_seq + ds;
		int32_t dt = (int32_t)(ts - (uint32_t)b->last_ts);
		ext_ts = b->last_ts + dt;
		/* A timestamp that moved by more than 10 s against a near sequence number is a sender that
		 * restarted its clock: rebase timing, keep the sequence. */
		double moved = (double)dt * b->ms_per_tick - ds * b->frame_ms;
		if (fabs_(moved) > 10000.0) {
			b->ts_base += dt - (int64_t)(ds * b->frame_ms / b->ms_per_tick);
			b->have_min = 0;
			b->st.n_reset++;
		}
		if (ds > 0) {
			b->max_seq = seq;
			b->last_ts = ext_ts;
		}
	}
	learn(b, arrival_ms - send_ms(b, ext_ts), arrival_ms, seq == b->max_seq);
	if (b->started && (int32_t)(seq - b->next_seq) < 0) {
		b->st.n_late++;
		return JB_PUT_LATE;
	}
	if (b->started && seq - b->next_seq >= JB_SLOTS)
		skip_outage(b, seq);
	jb_slot *s = &b->slots[seq % JB_SLOTS];
	if (s->used && s->seq == seq) {
		b->st.n_duplicate++;
		return JB_PUT_DUPLICATE;
	}
	if (!b->started) {
		/* Before playout starts the earliest packet is where it will start. */
		if (!b->next_seq || (int32_t)(seq - b->next_seq) < 0)
			b->next_seq = seq;
		if (b->next_seq + JB_SLOTS <= seq)
			return JB_PUT_FULL;
	}
	s->seq = seq;
	s->ts = ext_ts;
	s->len = (uint32_t)len;
	s->used = 1;
	copy(s->data, b->input, (uint32_t)len);
	return JB_PUT_STORED;
}

static jb_slot *slot(jb *b, uint32_t seq)
{
	jb_slot *s = &b->slots[seq % JB_SLOTS];
	return s->used && s->seq == seq ? s : 0;
}

/* The earliest buffered frame after `seq`, or 0. */
static jb_slot *earliest_after(jb *b, uint32_t seq)
{
	for (uint32_t i = 1; i < JB_SLOTS; i++) {
		jb_slot *s = slot(b, seq + i);
		if (s)
			return s;
	}
	return 0;
}

static void take(jb *b, jb_slot *s, int second)
{
	if (second) {
		b->out.seq2 = s->seq;
		b->out.len2 = s->len;
		copy(b->out.payload2, s->data, s->len);
	} else {
		b->out.seq = s->seq;
		b->out.len = s->len;
		copy(b->out.payload, s->data, s->len);
	}
	s->used = 0;
	b->next_seq = s->seq + 1;
	b->st.n_played++;
}

static int32_t wait(jb *b)
{
	b->waiting = 1;
	b->starved_ms += b->frame_ms;
	if (!b->started || b->starved_ms > STALL_EXPAND_MS) {
		b->st.n_silence++;
		return JB_GET_SILENCE;
	}
	b->st.n_expanded++;
	b->filled++;
	return JB_GET_EXPAND;
}

/* The next frame is here and due: play it, or it and the one after it time-compressed. */
static int32_t play(jb *b, jb_slot *next, double now_ms)
{
	b->st.c_delay_ms = now_ms - (send_ms(b, next->ts) + b->min_transit);
	b->started = 1;
	b->waiting = 0;
	b->starved_ms = 0;
	b->filled = 0;
	jb_slot *after = slot(b, next->seq + 1);
	/* Far above target (after a spike) the delay comes down at every tick; near it, one in three. */
	int far = b->st.c_delay_ms > b->target + FAST_ACCEL_FRAMES * b->frame_ms;
	if (after && (b->cooldown == 0 || far) && b->st.c_delay_ms > b->target + b->frame_ms) {
		take(b, next, 0);
		take(b, after, 1);
		b->cooldown = ACCEL_COOLDOWN;
		b->st.n_accelerated++;
		return JB_GET_ACCELERATE;
	}
	take(b, next, 0);
	return JB_GET_NORMAL;
}

int32_t jb_get(int32_t h, double now_ms)
{
	jb *b = get(h);
	if (!b)
		return JB_GET_INVALID;
	b->out.len = b->out.len2 = 0;
	if (b->cooldown > 0)
		b->cooldown--;
	if (!b->have_seq)
		return wait(b);
	jb_slot *next = slot(b, b->next_seq);
	if (next) {
		/* After a stall or at the start, resume only once the frame is due: playing early would
		 * leave nothing in hand for the next tick. */
		double due_next = send_ms(b, next->ts) + b->min_transit + b->target;
		if (b->waiting && now_ms < due_next - b->frame_ms / 2) {
			b->st.c_delay_ms = now_ms - (send_ms(b, next->ts) + b->min_transit);
			return wait(b);
		}
		return play(b, next, now_ms);
	}
	jb_slot *later = earliest_after(b, b->next_seq);
	if (!later)
		return wait(b);
	/* The missing frame's due time, from the later frame's timestamp. */
	double frames_between = (double)(later->seq - b->next_seq);
	double later_send = send_ms(b, later->ts);
	double due_missing = later_send - frames_between * b->frame_ms + b->min_transit + b->target;
	b->st.c_delay_ms = now_ms - (due_missing - b->target);
	if (now_ms < due_missing && b->started)
		return wait(b);
	/* The frames the stall already filled with expansions need no concealment of their own: skip
	 * them, or all of the gap if it is long (an outage) or already covered. */
	uint32_t missing = later->seq - b->next_seq;
	if (b->filled >= missing || missing > 3) {
		b->st.n_concealed += missing;
		b->next_seq = later->seq;
		return play(b, later, now_ms);
	}
	b->st.n_concealed += b->filled + 1;
	b->next_seq += b->filled + 1;
	b->filled = 0;
	b->started = 1;
	b->waiting = 0;
	b->starved_ms = 0;
	return JB_GET_CONCEAL;
}
