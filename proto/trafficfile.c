#include "proto/trafficfile.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/jsonfile.h"

/* A counter: absent is 0; otherwise an integer >= 0. */
static int get_count(json_t *o, const char *key, uint64_t *out, size_t idx, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "tokens[%zu].%s: expected an integer >= 0", idx, key);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_entry(json_t *o, size_t idx, void *v, char *err, size_t errlen)
{
	struct traffic_entry *e = (struct traffic_entry *)v + idx;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "tokens[%zu]: expected an object", idx);
		return -1;
	}
	const char *name = json_string_value(json_object_get(o, "name"));
	if (!name || !token_name_valid(name)) {
		snprintf(err, errlen, "tokens[%zu].name: expected 1-64 characters of A-Z a-z 0-9 . _ @ -", idx);
		return -1;
	}
	strcpy(e->name, name);
	if (get_count(o, "rx_bytes", &e->rx_bytes, idx, err, errlen) < 0 ||
	    get_count(o, "rx_pkts", &e->rx_pkts, idx, err, errlen) < 0 ||
	    get_count(o, "tx_bytes", &e->tx_bytes, idx, err, errlen) < 0 ||
	    get_count(o, "tx_pkts", &e->tx_pkts, idx, err, errlen) < 0 ||
	    get_count(o, "sessions", &e->sessions, idx, err, errlen) < 0)
		return -1;
	json_t *ls = json_object_get(o, "last_seen");
	e->last_seen = 0;
	if (ls && !json_is_null(ls) && !jsonfile_time(ls, &e->last_seen)) {
		snprintf(err, errlen, "tokens[%zu].last_seen: expected " JSONFILE_TIME_EXPECTED " or null", idx);
		return -1;
	}
	json_t *r = json_object_get(o, "last_remote");
	e->last_remote[0] = '\0';
	if (r && !json_is_null(r)) {
		const char *s = json_string_value(r);
		size_t len = s ? strlen(s) : 0;
		bool text = s && len == json_string_length(r);
		for (size_t i = 0; text && i < len; i++)
			text = s[i] > ' ' && s[i] < 127;
		if (!text || len >= sizeof(e->last_remote)) {
			snprintf(err, errlen, "tokens[%zu].last_remote: expected an address of at most %d characters, or null",
			         idx, TRAFFIC_REMOTE_MAX - 1);
			return -1;
		}
		memcpy(e->last_remote, s, len + 1);
	}
	return 0;
}

int trafficfile_parse(const char *buf, size_t len, struct traffic_entry **out, size_t *n,
                      char *err, size_t errlen)
{
	if (jsonfile_parse_list(buf, len, TRAFFICFILE_VERSION, "tokens", sizeof(**out), parse_entry,
	                        (void **)out, n, err, errlen) < 0)
		return -1;
	/* Names unique: checked sorted, not pairwise (quadratic). */
	size_t at;
	int r = jsonfile_first_repeat(*out, *n, sizeof(**out), offsetof(struct traffic_entry, name), &at);
	if (r == 0 && at == *n)
		return 0;
	if (r < 0)
		snprintf(err, errlen, "out of memory");
	else
		snprintf(err, errlen, "tokens[%zu].name: '%s' appears twice", at, (*out)[at].name);
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

/* As the file holds it: past its most, its most (what parse takes back). */
static json_int_t count(uint64_t v)
{
	return (json_int_t)(v < TRAFFIC_COUNT_MAX ? v : TRAFFIC_COUNT_MAX);
}

char *trafficfile_format(const struct traffic_entry *v, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
			"name", v[i].name, "rx_bytes", count(v[i].rx_bytes),
			"rx_pkts", count(v[i].rx_pkts), "tx_bytes", count(v[i].tx_bytes),
			"tx_pkts", count(v[i].tx_pkts), "sessions", count(v[i].sessions),
			"last_seen", v[i].last_seen ? json_integer(v[i].last_seen) : json_null(),
			"last_remote", v[i].last_remote[0] ? json_string(v[i].last_remote) : json_null()));
	return jsonfile_dump(json_pack("{s:i, s:o}", "version", TRAFFICFILE_VERSION, "tokens", list));
}
