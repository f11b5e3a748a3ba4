/* aws/ratelim.h: the client-side rate limiter of the SDKs' "adaptive" retry
 * mode (AWS_RETRY_MODE=adaptive / retry_mode = adaptive).
 *
 * A token bucket whose fill rate follows CUBIC congestion control, as in
 * TCP: each throttling answer cuts the allowed send rate to BETA (0.7) of
 * the rate measured when it came, and successes grow it back along a cubic
 * curve that is flat near the rate that last caused throttling and steep
 * far from it. The bucket stays off until the first throttling answer, so
 * a client that is never throttled never waits.
 *
 * The limiter holds no clock: every call takes `now` (seconds, any
 * monotonic origin), so tests drive it with a virtual clock, and it never
 * sleeps: ratelim_acquire says how long to wait. One per AWS client (no
 * shared state); not thread-safe, like the client.
 */
#ifndef CUTOVER_RATELIM_H
#define CUTOVER_RATELIM_H

struct ratelim {
	int enabled;          /* on since the first throttling answer */
	/* token bucket */
	double fill_rate;     /* tokens per second, >= RATELIM_MIN_RATE */
	double max_capacity;  /* max(fill_rate, 1) tokens */
	double capacity;      /* may go below 0: a token promised to a waiting sender */
	double last_refill;   /* < 0: never refilled */
	/* CUBIC */
	double w_max;         /* the rate that last met throttling */
	double k;             /* seconds after that to grow back to w_max */
	double last_fail;
	/* measured send rate, smoothed over half-second buckets */
	double measured;
	double last_bucket;
	double count;
};

#define RATELIM_MIN_RATE 0.5

/* Starts a limiter at time now (off, CUBIC at rest). */
void ratelim_init(struct ratelim *l, double now);

/* Before sending a request at time now: takes a token and returns how
 * many seconds the caller must wait before sending (0 = at once). */
double ratelim_acquire(struct ratelim *l, double now);

/* After each answer (every attempt, retries included) at time now;
 * throttled = 1 for a throttling answer. */
void ratelim_update(struct ratelim *l, double now, int throttled);

/* The send rate the bucket allows (requests per second), or 0 while the
 * limiter is off. */
double ratelim_rate(const struct ratelim *l);

#endif
