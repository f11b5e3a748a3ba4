/* safety/quiet.c: see safety/quiet.h. */
#include "safety/quiet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

#define RATE_WINDOW 64

struct qh {
	struct quiet_wait_ctx *w;
	struct alink *link;
	struct quiet_host pub;
	uint64_t last_elapsed, last_nonzero_elapsed;
	uint64_t win_req[RATE_WINDOW], win_ms[RATE_WINDOW];
	unsigned win_n;
	int done, rc;
	struct cut_err err;
	pthread_t th;
};

struct quiet_wait_ctx {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int changed;
};

static int
on_count(void *arg, const struct aop_count *c)
{
	struct qh *h = arg;
	struct quiet_wait_ctx *w = h->w;
	int stop;

	pthread_mutex_lock(&w->mu);
	h->pub.reporting = 1;
	h->pub.requests_last = c->requests;
	h->pub.total += c->requests;
	h->pub.excluded += c->excluded;
	if (c->requests > 0)
		h->last_nonzero_elapsed = c->elapsed_ms;
	h->last_elapsed = c->elapsed_ms;
	/* The agent's own clock: quiet time is what its intervals covered. */
	h->pub.quiet_ms = c->elapsed_ms - h->last_nonzero_elapsed;
	h->win_req[h->win_n % RATE_WINDOW] = c->requests;
	h->win_ms[h->win_n % RATE_WINDOW] = c->interval_ms;
	h->win_n++;
	uint64_t req = 0, ms = 0;
	for (unsigned i = 0; i < RATE_WINDOW && i < h->win_n && ms < 60000; i++) {
		unsigned k = (h->win_n - 1 - i) % RATE_WINDOW;
		req += h->win_req[k];
		ms += h->win_ms[k];
	}
	h->pub.per_minute = ms ? (double)req * 60000.0 / (double)ms : 0;
	w->changed = 1;
	stop = w->stop;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return stop ? 1 : 0;
}

/* The thread body needs the options: passed through this wrapper. */
struct follow_arg {
	struct qh *h;
	const struct aop_logcount_opts *log;
};

static void *
follow2(void *arg)
{
	struct follow_arg *fa = arg;
	struct qh *h = fa->h;
	int rc = aop_logcount(h->link, fa->log, on_count, h, &h->err);

	pthread_mutex_lock(&h->w->mu);
	h->rc = rc;
	if (rc == 0 && !h->w->stop)
		/* The follow ended by itself (duration, or the agent gave up). */
		h->rc = cut_err_set(&h->err, CUT_EREMOTE, "Following the access log on %s ended early.",
		    h->link->name);
	h->done = 1;
	h->w->changed = 1;
	pthread_cond_broadcast(&h->w->cv);
	pthread_mutex_unlock(&h->w->mu);
	return NULL;
}

int
quiet_wait(struct alink *links, size_t n, const struct quiet_opts *o, struct cut_err *err)
{
	struct quiet_wait_ctx w = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	uint64_t quiet = o->quiet_ms ? o->quiet_ms : 60000;
	uint64_t deadline_len = o->deadline_ms ? o->deadline_ms : 15u * 60u * 1000u;
	uint64_t start = (uint64_t)cut_mono_ms(), deadline = start + deadline_len;
	struct qh *hs = calloc(n, sizeof(*hs));
	struct follow_arg *fa = calloc(n, sizeof(*fa));
	struct quiet_host *pub = calloc(n, sizeof(*pub));
	size_t started = 0;
	int rc = 0;

	if (n == 0 || hs == NULL || fa == NULL || pub == NULL) {
		free(hs);
		free(fa);
		free(pub);
		return cut_err_set(err, n == 0 ? CUT_EINVAL : CUT_ENOMEM, n == 0 ?
		    "There are no live instances to watch for requests." : "Out of memory.");
	}
	for (size_t i = 0; i < n; i++) {
		hs[i].w = &w;
		hs[i].link = &links[i];
		hs[i].pub.name = links[i].name;
		fa[i] = (struct follow_arg){ &hs[i], &o->log };
		if (pthread_create(&hs[i].th, NULL, follow2, &fa[i]) != 0) {
			rc = cut_err_set(err, CUT_ENOMEM, "Cannot start a thread to follow %s.", links[i].name);
			break;
		}
		started++;
	}
	pthread_mutex_lock(&w.mu);
	while (rc == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!w.changed)
			pthread_cond_timedwait(&w.cv, &w.mu, &ts);
		int changed = w.changed;
		w.changed = 0;

		struct quiet_status st = { pub, n, (uint64_t)cut_mono_ms() - start, UINT64_MAX };
		int all_reporting = 1;
		for (size_t i = 0; i < n; i++) {
			if (hs[i].done) {
				rc = hs[i].rc;
				*err = hs[i].err;
				break;
			}
			pub[i] = hs[i].pub;
			all_reporting &= pub[i].reporting;
			if (pub[i].quiet_ms < st.quiet_ms)
				st.quiet_ms = pub[i].quiet_ms;
		}
		if (rc != 0)
			break;
		if (!all_reporting)
			st.quiet_ms = 0;
		if (changed && o->progress) {
			pthread_mutex_unlock(&w.mu);
			o->progress(o->arg, &st);
			pthread_mutex_lock(&w.mu);
		}
		if (o->cancel && *o->cancel) {
			rc = cut_err_set(err, CUT_ECANCEL, "Interrupted while waiting for the live site to go quiet.");
			break;
		}
		if (all_reporting && st.quiet_ms >= quiet)
			break;
		if ((uint64_t)cut_mono_ms() >= deadline) {
			/* Name the busiest instance: that is where users still are. */
			size_t busiest = 0;
			for (size_t i = 1; i < n; i++)
				if (pub[i].per_minute > pub[busiest].per_minute)
					busiest = i;
			if (o->yes || o->ask == NULL) {
				rc = cut_err_set(err, CUT_ETIMEOUT, "The live site did not go quiet within %llu s "
				    "(%s still had %.1f requests a minute, quiet for %llu s of the %llu s needed); "
				    "stopping, since a snapshot now would lose their writes; wait longer "
				    "(--quiet-deadline) or find what keeps requesting.",
				    (unsigned long long)(deadline_len / 1000), pub[busiest].name,
				    pub[busiest].per_minute, (unsigned long long)(st.quiet_ms / 1000),
				    (unsigned long long)(quiet / 1000));
				break;
			}
			pthread_mutex_unlock(&w.mu);
			enum quiet_answer a = o->ask(o->arg, &st);
			pthread_mutex_lock(&w.mu);
			if (a == QUIET_GO)
				break;
			if (a == QUIET_STOP) {
				rc = cut_err_set(err, CUT_ECANCEL, "Stopped by the operator while the live site "
				    "was still receiving requests.");
				break;
			}
			deadline = (uint64_t)cut_mono_ms() + deadline_len;
		}
	}
	/* Each follow ends at its next interval report (its callback sees stop). */
	w.stop = 1;
	pthread_mutex_unlock(&w.mu);
	for (size_t i = 0; i < started; i++)
		pthread_join(hs[i].th, NULL);
	free(hs);
	free(fa);
	free(pub);
	return rc;
}

/* ---- qrate: polled counts ---------------------------------------------- */

struct qrate {
	struct quiet_wait_ctx w;
	struct qh *hs;
	struct follow_arg *fa;
	size_t n, started;
	uint64_t taken_at;
	uint64_t *seen;           /* per host: pub.total at the previous take */
};

int
qrate_start(struct alink *links, size_t n, const struct aop_logcount_opts *o,
    struct qrate **out, struct cut_err *err)
{
	struct qrate *q = calloc(1, sizeof(*q));

	*out = NULL;
	if (q == NULL || n == 0 || (q->hs = calloc(n, sizeof(*q->hs))) == NULL ||
	    (q->fa = calloc(n, sizeof(*q->fa))) == NULL || (q->seen = calloc(n, sizeof(*q->seen))) == NULL) {
		qrate_stop(q);
		return cut_err_set(err, n == 0 ? CUT_EINVAL : CUT_ENOMEM, n == 0 ?
		    "There are no instances to count requests on." : "Out of memory.");
	}
	pthread_mutex_init(&q->w.mu, NULL);
	pthread_cond_init(&q->w.cv, NULL);
	q->n = n;
	q->taken_at = (uint64_t)cut_mono_ms();
	for (size_t i = 0; i < n; i++) {
		q->hs[i].w = &q->w;
		q->hs[i].link = &links[i];
		q->hs[i].pub.name = links[i].name;
		q->fa[i] = (struct follow_arg){ &q->hs[i], o };
		if (pthread_create(&q->hs[i].th, NULL, follow2, &q->fa[i]) != 0) {
			qrate_stop(q);
			return cut_err_set(err, CUT_ENOMEM, "Cannot start a thread to follow %s.", links[i].name);
		}
		q->started++;
	}
	*out = q;
	return 0;
}

int
qrate_take(struct qrate *q, uint64_t *requests, uint64_t *interval_ms, struct cut_err *err)
{
	uint64_t now = (uint64_t)cut_mono_ms(), sum = 0;
	int rc = 0;

	pthread_mutex_lock(&q->w.mu);
	for (size_t i = 0; i < q->n; i++) {
		if (q->hs[i].done) {
			rc = q->hs[i].rc;
			*err = q->hs[i].err;
			break;
		}
		sum += q->hs[i].pub.total - q->seen[i];
		q->seen[i] = q->hs[i].pub.total;
	}
	pthread_mutex_unlock(&q->w.mu);
	if (rc != 0)
		return rc;
	*requests = sum;
	*interval_ms = now - q->taken_at;
	q->taken_at = now;
	return 0;
}

void
qrate_stop(struct qrate *q)
{
	if (q == NULL)
		return;
	if (q->hs != NULL) {
		pthread_mutex_lock(&q->w.mu);
		q->w.stop = 1;
		pthread_mutex_unlock(&q->w.mu);
		for (size_t i = 0; i < q->started; i++)
			pthread_join(q->hs[i].th, NULL);
	}
	free(q->hs);
	free(q->fa);
	free(q->seen);
	free(q);
}
