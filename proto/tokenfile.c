#include "proto/tokenfile.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/jsonfile.h"

bool token_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

/* An optional time: absent or null is 0; otherwise JSONFILE_TIME_MAX at most. */
static int get_time(json_t *o, const char *key, bool required, int64_t *out, size_t idx,
                    char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(err, errlen, "tokens[%zu].%s: missing", idx, key);
			return -1;
		}
		*out = 0;
		return 0;
	}
	if (!jsonfile_time(v, out)) {
		snprintf(err, errlen, "tokens[%zu].%s: expected " JSONFILE_TIME_EXPECTED, idx, key);
		return -1;
	}
	return 0;
}

static int parse_entry(json_t *o, size_t idx, void *v, char *err, size_t errlen)
{
	struct token_entry *e = (struct token_entry *)v + idx;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "tokens[%zu]: expected an object", idx);
		return -1;
	}
	const char *name = json_string_value(json_object_get(o, "name"));
	if (!name || !token_name_valid(name)) {
		snprintf(err, errlen, "tokens[%zu].name: expected 1-64 characters of A-Z a-z 0-9 . _ @ -", idx);
		return -1;
	}
	if (!strcmp(name, TOKEN_NAME_SHARED)) {
		snprintf(err, errlen, "tokens[%zu].name: '%s' is reserved for the shared --token", idx, name);
		return -1;
	}
	strcpy(e->name, name);
	const char *hash = json_string_value(json_object_get(o, "sha256"));
	if (!hash || strlen(hash) != 64) {
		snprintf(err, errlen, "tokens[%zu].sha256: expected 64 lower-case hex digits", idx);
		return -1;
	}
	if (jsonfile_unhex(hash, 64, e->sha256) < 0) {
		snprintf(err, errlen, "tokens[%zu].sha256: expected 64 lower-case hex digits", idx);
		return -1;
	}
	if (get_time(o, "created", true, &e->created, idx, err, errlen) < 0 ||
	    get_time(o, "expires", false, &e->expires, idx, err, errlen) < 0 ||
	    get_time(o, "last_used", false, &e->last_used, idx, err, errlen) < 0)
		return -1;
	json_t *vip = json_object_get(o, "vip");
	e->vip = 0;
	if (vip && !json_is_null(vip)) {
		struct in_addr a;
		if (!json_is_string(vip) || inet_pton(AF_INET, json_string_value(vip), &a) != 1 ||
		    a.s_addr == 0) {
			snprintf(err, errlen, "tokens[%zu].vip: expected an IPv4 address or null", idx);
			return -1;
		}
		e->vip = ntohl(a.s_addr);
	}
	json_t *max = json_object_get(o, "max_sessions");
	e->max_sessions = 0;
	if (max && !json_is_null(max)) {
		if (!json_is_integer(max) || json_integer_value(max) < 1 ||
		    json_integer_value(max) > TOKEN_MAX_SESSIONS) {
			snprintf(err, errlen, "tokens[%zu].max_sessions: expected 1-%d or null", idx,
			         TOKEN_MAX_SESSIONS);
			return -1;
		}
		e->max_sessions = (uint32_t)json_integer_value(max);
	}
	return 0;
}

/* VIPs, then places in the file. */
static int by_vip(const void *a, const void *b)
{
	const struct token_entry *x = *(const struct token_entry *const *)a;
	const struct token_entry *y = *(const struct token_entry *const *)b;
	if (x->vip != y->vip)
		return x->vip < y->vip ? -1 : 1;
	return (x > y) - (x < y);
}

/* Names and fixed VIPs are unique. Checked on the entries sorted, not each
 * against those before it: that was quadratic, and with 10000 tokens took
 * most of the 0.8 s a reload held the hub's loop. The error names the
 * entry a check in file order would: the first that repeats an earlier
 * one (its name before its VIP), and for a VIP, the first that has it. */
static int check_unique(const struct token_entry *v, size_t n, char *err, size_t errlen)
{
	if (n < 2)
		return 0;
	const struct token_entry **p = malloc(n * sizeof(*p)), *name_dup = NULL, *vip_dup = NULL,
	                         *vip_first = NULL;
	size_t at;
	if (!p || jsonfile_first_repeat(v, n, sizeof(*v), offsetof(struct token_entry, name), &at) < 0) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (at < n)
		name_dup = &v[at];
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].vip)
			p[m++] = &v[i];
	qsort(p, m, sizeof(*p), by_vip);
	for (size_t i = 1, first = 0; i < m; i++) {
		if (p[i]->vip != p[first]->vip)
			first = i;
		else if (!vip_dup || p[i] < vip_dup)
			vip_dup = p[i], vip_first = p[first];
	}
	free(p);
	if (name_dup && (!vip_dup || name_dup <= vip_dup)) {
		snprintf(err, errlen, "tokens[%zu].name: '%s' appears twice", (size_t)(name_dup - v),
		         name_dup->name);
		return -1;
	}
	if (vip_dup) {
		snprintf(err, errlen, "tokens[%zu].vip: also the fixed VIP of '%s'", (size_t)(vip_dup - v),
		         vip_first->name);
		return -1;
	}
	return 0;
}

int tokenfile_parse(const char *buf, size_t len, struct token_entry **out, size_t *n,
                    char *err, size_t errlen)
{
	if (jsonfile_parse_list(buf, len, TOKENFILE_VERSION, "tokens", sizeof(**out), parse_entry,
	                        (void **)out, n, err, errlen) < 0)
		return -1;
	if (check_unique(*out, *n, err, errlen) < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

static json_t *time_or_null(int64_t t)
{
	return t ? json_integer(t) : json_null();
}

char *tokenfile_format(const struct token_entry *v, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		char hex[65], vip[INET_ADDRSTRLEN];
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", v[i].sha256[k]);
		struct in_addr a = {htonl(v[i].vip)};
		json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}",
			"name", v[i].name, "sha256", hex, "created", (json_int_t)v[i].created,
			"expires", time_or_null(v[i].expires), "last_used", time_or_null(v[i].last_used),
			"vip", v[i].vip ? json_string(inet_ntop(AF_INET, &a, vip, sizeof(vip))) : json_null());
		/* Only when set: a file without limits stays one that an older
		 * slopnd reads as it wrote it. */
		if (v[i].max_sessions)
			json_object_set_new(o, "max_sessions", json_integer(v[i].max_sessions));
		json_array_append_new(list, o);
	}
	return jsonfile_dump(json_pack("{s:i, s:o}", "version", TOKENFILE_VERSION, "tokens", list));
}
