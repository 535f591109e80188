#include "daemon/traffic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tun/statefile.h"

#define TRAFFIC_FILE_MAX (16 << 20)

/* The store is kept in name order: token.list, the metrics and each save
 * look up every token's totals, which a scan per token made quadratic
 * (a quarter of a second of the hub's loop for a token.list of 10000). */
static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct traffic_entry *)a)->name, ((const struct traffic_entry *)b)->name);
}

/* Where name is, or would go. */
static size_t lower_bound(const struct traffic_store *t, const char *name)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int traffic_load(struct traffic_store *t, const char *path, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (!(t->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *buf;
	size_t len;
	int r = statefile_read(path, TRAFFIC_FILE_MAX, &buf, &len, err, errlen);
	if (r < 0 && errno != EFBIG)
		return -2; /* not read is not damaged */
	if (r <= 0)
		return r;
	r = trafficfile_parse(buf, len, &t->v, &t->n, err, errlen);
	free(buf);
	if (r == 0 && t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_name);
	return r;
}

void traffic_free(struct traffic_store *t)
{
	free(t->path);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

struct traffic_entry *traffic_find(struct traffic_store *t, const char *name)
{
	size_t i = lower_bound(t, name);
	return i < t->n && !strcmp(t->v[i].name, name) ? &t->v[i] : NULL;
}

struct traffic_entry *traffic_get(struct traffic_store *t, const char *name)
{
	size_t i = lower_bound(t, name);
	if (i < t->n && !strcmp(t->v[i].name, name))
		return &t->v[i];
	struct traffic_entry *v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	t->v = v;
	memmove(&v[i + 1], &v[i], (t->n - i) * sizeof(*v));
	t->n++;
	memset(&v[i], 0, sizeof(v[i]));
	snprintf(v[i].name, sizeof(v[i].name), "%s", name);
	return &v[i];
}

size_t traffic_keep(struct traffic_store *t, bool (*keep)(const char *name, void *arg), void *arg)
{
	/* One pass, the order kept: forgetting one at a time moved the rest
	 * each time (a reload that drops thousands of tokens). */
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (keep(t->v[i].name, arg))
			t->v[n++] = t->v[i];
	size_t gone = t->n - n;
	t->n = n;
	return gone;
}

/* Stops at TRAFFIC_COUNT_MAX: a total near it (edited in by hand) plus a
 * session would otherwise be written negative, and the next start would
 * set the file aside with every token's totals. */
static void add(uint64_t *total, uint64_t more)
{
	*total = *total >= TRAFFIC_COUNT_MAX || more > TRAFFIC_COUNT_MAX - *total ? TRAFFIC_COUNT_MAX
	                                                                           : *total + more;
}

void traffic_add_session(struct traffic_entry *e, uint64_t rx_bytes, uint64_t rx_pkts,
                         uint64_t tx_bytes, uint64_t tx_pkts, int64_t when, const char *remote)
{
	add(&e->rx_bytes, rx_bytes), add(&e->rx_pkts, rx_pkts);
	add(&e->tx_bytes, tx_bytes), add(&e->tx_pkts, tx_pkts);
	add(&e->sessions, 1);
	if (remote) {
		e->last_seen = when;
		snprintf(e->last_remote, sizeof(e->last_remote), "%s", remote);
	}
}

int traffic_write(const struct traffic_store *t, const struct traffic_entry *v, size_t n,
                  char *err, size_t errlen)
{
	char *text = trafficfile_format(v, n);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rv = statefile_write(t->path, text, strlen(text), 0600, err, errlen);
	free(text);
	return rv;
}
