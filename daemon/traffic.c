#include "daemon/traffic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tun/statefile.h"

#define TRAFFIC_FILE_MAX (16 << 20)

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
	if (r <= 0)
		return r;
	r = trafficfile_parse(buf, len, &t->v, &t->n, err, errlen);
	free(buf);
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
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

struct traffic_entry *traffic_get(struct traffic_store *t, const char *name)
{
	struct traffic_entry *e = traffic_find(t, name);
	if (e)
		return e;
	e = realloc(t->v, (t->n + 1) * sizeof(*e));
	if (!e)
		return NULL;
	t->v = e;
	e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

void traffic_forget(struct traffic_store *t, size_t i)
{
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

void traffic_add_session(struct traffic_entry *e, uint64_t rx_bytes, uint64_t rx_pkts,
                         uint64_t tx_bytes, uint64_t tx_pkts, int64_t when, const char *remote)
{
	e->rx_bytes += rx_bytes, e->rx_pkts += rx_pkts;
	e->tx_bytes += tx_bytes, e->tx_pkts += tx_pkts;
	e->sessions++;
	if (remote && when >= e->last_seen) {
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
