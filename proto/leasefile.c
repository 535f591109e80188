#include "proto/leasefile.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/jsonfile.h"

static int parse_entry(json_t *o, size_t idx, void *v, char *err, size_t errlen)
{
	struct lease_entry *e = (struct lease_entry *)v + idx;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "leases[%zu]: expected an object", idx);
		return -1;
	}
	const char *token = json_string_value(json_object_get(o, "token"));
	if (!token || (!token_name_valid(token) && strcmp(token, TOKEN_NAME_SHARED) != 0)) {
		snprintf(err, errlen, "leases[%zu].token: expected a token's name", idx);
		return -1;
	}
	snprintf(e->token, sizeof(e->token), "%s", token);
	json_t *id = json_object_get(o, "client_id");
	if (id && !json_is_null(id)) {
		const char *s = json_string_value(id);
		if (!s || strlen(s) != json_string_length(id) || !slopn_client_id_valid(s)) {
			snprintf(err, errlen, "leases[%zu].client_id: expected 1-%d characters of "
			         "A-Z a-z 0-9 . _ - or null", idx, SLOPN_CLIENT_ID_MAX);
			return -1;
		}
		snprintf(e->client_id, sizeof(e->client_id), "%s", s);
	}
	struct in_addr a;
	const char *vip = json_string_value(json_object_get(o, "vip"));
	if (!vip || inet_pton(AF_INET, vip, &a) != 1 || a.s_addr == 0) {
		snprintf(err, errlen, "leases[%zu].vip: expected an IPv4 address", idx);
		return -1;
	}
	e->vip = ntohl(a.s_addr);
	json_t *v6 = json_object_get(o, "vip6");
	if (v6 && !json_is_null(v6)) {
		const char *s = json_string_value(v6);
		if (!s || inet_pton(AF_INET6, s, &e->vip6) != 1 || IN6_IS_ADDR_UNSPECIFIED(&e->vip6)) {
			snprintf(err, errlen, "leases[%zu].vip6: expected an IPv6 address or null", idx);
			return -1;
		}
	}
	int64_t seen;
	if (!jsonfile_time(json_object_get(o, "last_seen"), &seen)) {
		snprintf(err, errlen, "leases[%zu].last_seen: expected " JSONFILE_TIME_EXPECTED, idx);
		return -1;
	}
	e->last_seen = seen;
	json_t *held = json_object_get(o, "held");
	if (held && !json_is_boolean(held)) {
		snprintf(err, errlen, "leases[%zu].held: expected true or false", idx);
		return -1;
	}
	e->held = json_is_true(held);
	return 0;
}

int leasefile_parse(const char *buf, size_t len, struct lease_entry **out, size_t *n,
                    char *err, size_t errlen)
{
	return jsonfile_parse_list(buf, len, LEASEFILE_VERSION, "leases", sizeof(**out), parse_entry, (void **)out,
	                           n, err, errlen);
}

/* One lease as compact JSON, malloc'd; NULL when out of memory. */
static char *entry_text(const struct lease_entry *e)
{
	char vip[INET_ADDRSTRLEN], vip6[INET6_ADDRSTRLEN];
	struct in_addr a = {htonl(e->vip)};
	bool has6 = !IN6_IS_ADDR_UNSPECIFIED(&e->vip6);
	json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:I}", "token", e->token,
		"client_id", e->client_id[0] ? json_string(e->client_id) : json_null(),
		"vip", inet_ntop(AF_INET, &a, vip, sizeof(vip)),
		"vip6", has6 ? json_string(inet_ntop(AF_INET6, &e->vip6, vip6, sizeof(vip6))) : json_null(),
		"last_seen", (json_int_t)e->last_seen);
	/* Only when true: a file of clients away reads as before. */
	if (o && e->held && json_object_set_new(o, "held", json_true()) < 0) {
		json_decref(o);
		return NULL;
	}
	char *t = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return t;
}

char *leasefile_format(const struct lease_entry *v, size_t n)
{
	/* One lease a line: a /16's worth stays a file a person can read. */
	static const char tail[] = "\n]}\n";
	size_t cap = 64 + n * 160, used;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	used = (size_t)snprintf(buf, cap, "{\"version\":%d,\"leases\":[\n", LEASEFILE_VERSION);
	for (size_t i = 0; i < n; i++) {
		char *t = entry_text(&v[i]);
		size_t need = t ? strlen(t) + 3 + sizeof(tail) : 0;
		if (t && used + need > cap) {
			char *b = realloc(buf, cap = (used + need) * 2);
			if (!b) {
				free(t);
				t = NULL;
			} else {
				buf = b;
			}
		}
		if (!t) {
			free(buf);
			return NULL;
		}
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ",\n" : "", t);
		free(t);
	}
	snprintf(buf + used, cap - used, "%s", tail);
	return buf;
}
