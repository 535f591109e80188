/* Per-token traffic totals that outlast sessions and restarts: the totals
 * of ended sessions in memory, and traffic.json with the live sessions'
 * counters added, written a second after a session ends (one write for a
 * burst of them), at least once a minute (a kill -9 loses at most that)
 * and at exit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/savepace.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"
#include "tun/statefile.h"

#define SAVE_EVERY_USEC (60 * 1000000ULL)
#define SAVE_AFTER_END_USEC 1000000ULL

/* SLOPND_TRAFFIC_SAVE_SECONDS, for tests only: a shorter period, so that
 * a test sees the live counters reach the file without waiting a minute. */
static uint64_t save_every(void)
{
	uint64_t v = testenv_get("SLOPND_TRAFFIC_SAVE_SECONDS", 1, 59);
	return v ? v * 1000000 : SAVE_EVERY_USEC;
}

struct named {
	const char *name;
	size_t i;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

int hub_tokens_totals(const struct server *s, const char *const *names, size_t n,
                      struct traffic_entry *out, unsigned *live)
{
	if (!n)
		return 0; /* qsort and bsearch take no NULL array, even empty */
	struct named *idx = malloc(n * sizeof(*idx));
	const struct session **newest = calloc(n, sizeof(*newest));
	if (!idx || !newest) {
		free(idx);
		free(newest);
		return -1;
	}
	/* Each token's ended sessions (traffic.json), then its live ones. */
	for (size_t i = 0; i < n; i++) {
		const struct traffic_entry *e = traffic_find((struct traffic_store *)&s->traffic, names[i]);
		if (e) {
			out[i] = *e;
		} else {
			memset(&out[i], 0, sizeof(out[i]));
			snprintf(out[i].name, sizeof(out[i].name), "%s", names[i]);
		}
		live[i] = 0;
		idx[i] = (struct named){names[i], i};
	}
	qsort(idx, n, sizeof(*idx), by_name);
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (!ss->logged_in || ss->token_removed)
			continue;
		struct named key = {ss->token_name, 0};
		const struct named *hit = bsearch(&key, idx, n, sizeof(*idx), by_name);
		if (!hit)
			continue;
		const struct conn_stats *st = &ss->conn.stats;
		traffic_add_session(&out[hit->i], st->rx_bytes, st->rx_pkts, st->tx_bytes, st->tx_pkts,
		                    0, NULL);
		live[hit->i]++;
		if (!newest[hit->i] || ss->since >= newest[hit->i]->since)
			newest[hit->i] = ss;
	}
	for (size_t i = 0; i < n; i++)
		if (newest[i]) {
			out[i].last_seen = time(NULL);
			snprintf(out[i].last_remote, sizeof(out[i].last_remote), "%s", newest[i]->remote);
		}
	free(idx);
	free(newest);
	return 0;
}

const char **hub_token_names(const struct server *s, size_t *n)
{
	size_t sh = s->has_token ? 1 : 0;
	*n = sh + s->tokens.n;
	const char **names = calloc(*n + 1, sizeof(*names));
	if (!names)
		return NULL;
	if (sh)
		names[0] = SHARED_TOKEN_NAME;
	for (size_t i = 0; i < s->tokens.n; i++)
		names[sh + i] = s->tokens.v[i].name;
	return names;
}

/* Worth keeping: a token, or the shared --token. Not a removed token's
 * totals, even while its sessions live (hub_traffic_tokens_gone): a
 * token added again under its name took them over, or not, as a save came
 * between. */
static bool kept(const char *name, void *arg)
{
	struct server *s = arg;
	if (s->has_token && !strcmp(name, SHARED_TOKEN_NAME))
		return true;
	return tokens_find(&s->tokens, name) != NULL; /* by the store's name index */
}


static int fail(struct server *s, bool at_exit, const char *err)
{
	if (at_exit)
		/* Said whether or not it was before: this is where they are lost. */
		log_err("per-token totals not saved at exit: %s; %s holds those of the last save",
		        err, s->traffic.path);
	else if (save_failed(&s->saved[SAVED_TRAFFIC], err))
		log_warn("per-token totals not saved: %s (retrying every %llu s)", err,
		         (unsigned long long)(save_every() / 1000000));
	return -1;
}

/* -1 if a save was needed and failed (said, as an error at_exit). */
static int save(struct server *s, bool at_exit)
{
	struct traffic_store *t = &s->traffic;
	if (traffic_keep(t, kept, s))
		t->dirty = true;
	bool live = false;
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link)) {
		if (!ss->logged_in || ss->token_removed)
			continue;
		live = true;
		if (!traffic_get(t, ss->token_name))
			return fail(s, at_exit, "out of memory");
	}
	if (!live && !t->dirty)
		return 0; /* nothing moved since the last save */
	if (t->held) /* the file is not ours to write: at exit, this run's totals are lost */
		return at_exit ? hub_save_held_at_exit(&s->saved[SAVED_TRAFFIC], "per-token totals",
		                                       t->path, "the totals counted in this run are lost")
		               : 0;
	uint64_t t0 = timer_now_usec();
	struct traffic_entry *now = calloc(t->n + 1, sizeof(*now));
	const char **names = calloc(t->n + 1, sizeof(*names));
	unsigned *live_n = calloc(t->n + 1, sizeof(*live_n));
	for (size_t i = 0; names && i < t->n; i++)
		names[i] = t->v[i].name;
	bool ok = now && names && live_n && hub_tokens_totals(s, names, t->n, now, live_n) == 0;
	free(names);
	free(live_n);
	if (!ok) {
		free(now);
		return fail(s, at_exit, "out of memory");
	}
	char err[512];
	int r = traffic_write(t, now, t->n, err, sizeof(err));
	free(now);
	save_timed(&s->saved[SAVED_TRAFFIC], t0, timer_now_usec());
	if (r < 0)
		return fail(s, at_exit, err);
	if (save_worked(&s->saved[SAVED_TRAFFIC]))
		log_info("per-token totals saved to %s again", t->path);
	t->dirty = false;
	return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	save(userdata, false);
	sd_event_source_set_time(src, usec + save_every());
	return 0;
}

int hub_traffic_start(struct server *s)
{
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/traffic.json", s->cfg->state_dir);
	int r = traffic_load(&s->traffic, path, err, sizeof(err));
	if (r < 0 && !s->traffic.path)
		return -1;
	char bad[4200], why[4800];
	if (r == -1 && statefile_set_aside(path, bad, sizeof(bad)) == 0) {
		/* Accounting must not keep the VPN down; the bad file is kept for
		 * a look, beside any set aside before. */
		log_err("per-token totals %s: %s; starting from zero (the file is now %s)", path, err,
		        bad);
	} else if (r < 0) {
		/* Not read (a permission, an I/O error, not a file), or damaged
		 * and not set aside: it may hold totals that a save would lose
		 * for good. */
		if (r == -1)
			snprintf(why, sizeof(why), "%s; and it cannot be set aside as %s (%s)", err, bad,
			         strerror(errno));
		else
			snprintf(why, sizeof(why), "%s", err);
		s->traffic.held = true;
		log_err("per-token totals %s: %s: the totals are counted but not saved over the file "
		        "while the hub runs (make it readable, or move it away, and restart the hub)",
		        path, why);
		hub_save_hold(&s->saved[SAVED_TRAFFIC], why);
	}
	/* Totals of tokens removed before a save dropped them (a kill -9, or
	 * an older hub's, kept while the token's sessions lived): a token
	 * added under such a name must not take them over. */
	if (traffic_keep(&s->traffic, kept, s))
		s->traffic.dirty = true;
	uint64_t now;
	if (sd_event_now(s->ev, CLOCK_MONOTONIC, &now) < 0 ||
	    sd_event_add_time(s->ev, &s->traffic_timer, CLOCK_MONOTONIC, now + save_every(),
	                      1000000, on_timer, s) < 0 ||
	    sd_event_source_set_enabled(s->traffic_timer, SD_EVENT_ON) < 0) {
		log_err("cannot set up the per-token totals' timer");
		return -1;
	}
	return 0;
}

/* To disk soon, not at once: a burst of ends makes one write; and on a
 * hub with many tokens, whose saves cost more, no sooner than the last
 * save's cost allows (savepace.h): ends as often as a second each
 * rewrote the whole file, with an fsync, every second. */
static void save_soon(struct server *s)
{
	s->traffic.dirty = true;
	uint64_t due, now;
	const struct save_state *sv = &s->saved[SAVED_TRAFFIC];
	if (s->traffic_timer && sd_event_source_get_time(s->traffic_timer, &due) >= 0 &&
	    sd_event_now(s->ev, CLOCK_MONOTONIC, &now) >= 0) {
		uint64_t soon = save_pace_due(now, SAVE_AFTER_END_USEC, sv->last_end, sv->last_cost);
		if (due > soon)
			sd_event_source_set_time(s->traffic_timer, soon);
	}
}

void hub_traffic_session_end(struct server *s, const struct session *ss)
{
	if (ss->token_removed)
		return; /* its token's totals went at its removal */
	struct traffic_entry *e = traffic_get(&s->traffic, ss->token_name);
	const struct conn_stats *st = &ss->conn.stats;
	if (!e) {
		log_warn("session %llu: its traffic is not counted in its token's totals (out of memory)",
		         (unsigned long long)ss->id);
		return;
	}
	traffic_add_session(e, st->rx_bytes, st->rx_pkts, st->tx_bytes, st->tx_pkts, time(NULL),
	                    ss->remote);
	save_soon(s);
}

void hub_traffic_tokens_gone(struct server *s)
{
	/* One pass each, by the store's name index: a reload may drop
	 * thousands of tokens, with thousands of sessions live. */
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		if (ss->logged_in && !ss->token_removed && !kept(ss->token_name, s))
			ss->token_removed = true;
	if (traffic_keep(&s->traffic, kept, s))
		save_soon(s);
}

int hub_traffic_stop(struct server *s)
{
	int r = s->traffic.path ? save(s, true) : 0;
	if (s->traffic_timer)
		sd_event_source_disable_unref(s->traffic_timer);
	s->traffic_timer = NULL;
	traffic_free(&s->traffic);
	return r;
}
