#include "proto/peerfile.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/addr.h"
#include "proto/jsonfile.h"

/* A link-local address's zone, "%eth0" or "%2", into its index: 0 for a
 * name no interface has now (its packets cannot leave, and are not sent),
 * -1 for one that cannot be a zone. */
static long zone_parse(const char *z)
{
	size_t n = strlen(z);
	if (n == 0 || n >= IF_NAMESIZE)
		return -1;
	if (z[strspn(z, "0123456789")] == '\0') {
		char *end;
		unsigned long v = strtoul(z, &end, 10);
		return v > UINT32_MAX ? -1 : (long)v;
	}
	for (size_t i = 0; i < n; i++)
		if (strchr("/:%[]", z[i]) || z[i] <= ' ' || z[i] > '~')
			return -1;
	return (long)if_nametoindex(z);
}

int peer_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host) || colon == s)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	int port = port_parse(colon + 1, strlen(colon + 1));
	if (port < 0)
		return -1;
	memset(sa, 0, sizeof(*sa));
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *in6 = (void *)sa;
		host[hl - 1] = '\0';
		/* The zone of a link-local address: without it no answer leaves. */
		char *pct = strchr(host, '%');
		long zone = 0;
		if (pct) {
			*pct = '\0';
			zone = zone_parse(pct + 1);
			if (zone < 0)
				return -1;
		}
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1 ||
		    (pct && !IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)))
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		in6->sin6_scope_id = (uint32_t)zone;
		*len = sizeof(*in6);
		return 0;
	}
	struct sockaddr_in *in = (void *)sa;
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -1;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	*len = sizeof(*in);
	return 0;
}

static int parse_entry(json_t *o, size_t idx, void *v, char *err, size_t errlen)
{
	struct peer_entry *e = (struct peer_entry *)v + idx;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "peers[%zu]: expected an object", idx);
		return -1;
	}
	const char *remote = json_string_value(json_object_get(o, "remote"));
	if (!remote || peer_addr_parse(remote, &e->remote, &e->remotelen) < 0) {
		snprintf(err, errlen, "peers[%zu].remote: expected ADDR:PORT or [ADDR]:PORT", idx);
		return -1;
	}
	/* Ours only when the hub has several addresses: where to answer from. */
	json_t *local = json_object_get(o, "local");
	if (local && (!json_is_string(local) ||
	              peer_addr_parse(json_string_value(local), &e->local, &e->locallen) < 0 ||
	              e->local.ss_family != e->remote.ss_family)) {
		snprintf(err, errlen, "peers[%zu].local: expected ADDR:PORT or [ADDR]:PORT, of the "
		         "remote's family", idx);
		return -1;
	}
	json_t *cids = json_object_get(o, "cids");
	if (!json_is_array(cids) || json_array_size(cids) > PEER_CIDS_MAX) {
		snprintf(err, errlen, "peers[%zu].cids: expected an array of at most %d", idx,
		         PEER_CIDS_MAX);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(cids); i++) {
		json_t *c = json_array_get(cids, i);
		const char *h = json_string_value(c);
		size_t hl = h ? json_string_length(c) : 0;
		if (!h || hl == 0 || hl % 2 || hl / 2 > PEER_CID_MAX) {
			snprintf(err, errlen, "peers[%zu].cids[%zu]: expected 1-%d bytes in hex", idx, i,
			         PEER_CID_MAX);
			return -1;
		}
		struct peer_cid *cid = &e->cid[i];
		if (jsonfile_unhex(h, hl, cid->data) < 0) {
			snprintf(err, errlen, "peers[%zu].cids[%zu]: not hex", idx, i);
			return -1;
		}
		cid->len = (uint8_t)(hl / 2);
	}
	e->ncid = json_array_size(cids);
	return 0;
}

int peerfile_parse(const char *buf, size_t len, struct peer_entry **out, size_t *n,
                   char *err, size_t errlen)
{
	return jsonfile_parse_list(buf, len, PEERFILE_VERSION, "peers", sizeof(**out), parse_entry, (void **)out,
	                           n, err, errlen);
}

void peer_addr_text(const struct sockaddr_storage *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		char zone[IF_NAMESIZE + 1] = "";
		if (in6->sin6_scope_id) {
			char name[IF_NAMESIZE];
			if (if_indextoname(in6->sin6_scope_id, name))
				snprintf(zone, sizeof(zone), "%%%s", name);
			else
				snprintf(zone, sizeof(zone), "%%%u", (unsigned)in6->sin6_scope_id);
		}
		snprintf(out, len, "[%s%s]:%u", host, zone, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	}
}

static json_t *entry_json(const struct peer_entry *e)
{
	char remote[PEER_ADDR_TEXT_MAX], local[PEER_ADDR_TEXT_MAX];
	peer_addr_text(&e->remote, remote, sizeof(remote));
	json_t *cids = json_array();
	for (size_t i = 0; i < e->ncid && i < PEER_CIDS_MAX; i++) {
		char hex[2 * PEER_CID_MAX + 1];
		for (size_t k = 0; k < e->cid[i].len && k < PEER_CID_MAX; k++)
			snprintf(hex + 2 * k, 3, "%02x", e->cid[i].data[k]);
		hex[2 * (e->cid[i].len < PEER_CID_MAX ? e->cid[i].len : PEER_CID_MAX)] = '\0';
		json_array_append_new(cids, json_string(hex));
	}
	json_t *j = json_pack("{s:s, s:o}", "remote", remote, "cids", cids);
	if (j && e->locallen) {
		peer_addr_text(&e->local, local, sizeof(local));
		json_object_set_new(j, "local", json_string(local));
	}
	return j;
}

char *peerfile_format(const struct peer_entry *v, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, entry_json(&v[i]));
	return jsonfile_dump(json_pack("{s:i, s:o}", "version", PEERFILE_VERSION, "peers", list));
}
