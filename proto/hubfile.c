#include "proto/hubfile.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "proto/jsonfile.h"
#include "proto/peerfile.h"

static int parse(json_t *root, struct hubfile *out, char *err, size_t errlen)
{
	json_t *server = json_object_get(root, "server"), *list = json_object_get(root, "addresses");
	const char *s = json_string_value(server);
	size_t sl = s ? json_string_length(server) : 0;
	if (!s || sl == 0 || sl >= HUBFILE_SERVER_MAX || strlen(s) != sl) {
		snprintf(err, errlen, "server: expected HOST:PORT of 1-%d characters", HUBFILE_SERVER_MAX - 1);
		return -1;
	}
	memcpy(out->server, s, sl + 1);
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > HUBFILE_MAX) {
		snprintf(err, errlen, "addresses: expected an array of 1-%d", HUBFILE_MAX);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *a = json_string_value(json_array_get(list, i));
		if (!a || peer_addr_parse(a, &out->addr[i], &out->len[i]) < 0) {
			snprintf(err, errlen, "addresses[%zu]: expected ADDR:PORT or [ADDR]:PORT", i);
			return -1;
		}
	}
	out->n = json_array_size(list);
	return 0;
}

int hubfile_parse(const char *buf, size_t len, struct hubfile *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_t *root = jsonfile_load(buf, len, HUBFILE_VERSION, err, errlen);
	if (!root)
		return -1;
	int rv = parse(root, out, err, errlen);
	json_decref(root);
	if (rv < 0)
		memset(out, 0, sizeof(*out));
	return rv;
}

char *hubfile_format(const struct hubfile *h)
{
	json_t *list = json_array();
	for (size_t i = 0; i < h->n && i < HUBFILE_MAX; i++) {
		char a[PEER_ADDR_TEXT_MAX];
		peer_addr_text(&h->addr[i], a, sizeof(a));
		json_array_append_new(list, json_string(a));
	}
	return jsonfile_dump(json_pack("{s:i, s:s, s:o}", "version", HUBFILE_VERSION, "server",
	                               h->server, "addresses", list));
}
