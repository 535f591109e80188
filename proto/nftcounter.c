#include "proto/nftcounter.h"

#include <jansson.h>

int nft_counter_parse(const char *json, size_t len, uint64_t *pkts, uint64_t *bytes)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *list = json_object_get(root, "nftables");
	int rv = -1;
	size_t i;
	json_t *item;
	/* {"nftables": [{"metainfo": {...}}, {"counter": {..., "packets": N, "bytes": N}}]} */
	json_array_foreach(list, i, item) {
		json_t *c = json_object_get(item, "counter");
		json_t *p = json_object_get(c, "packets"), *b = json_object_get(c, "bytes");
		if (!json_is_integer(p) || !json_is_integer(b) || json_integer_value(p) < 0 ||
		    json_integer_value(b) < 0)
			continue;
		*pkts = (uint64_t)json_integer_value(p);
		*bytes = (uint64_t)json_integer_value(b);
		rv = 0;
		break;
	}
	json_decref(root);
	return rv;
}

int nft_rule_count(const char *json, size_t len)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *list = json_object_get(root, "nftables");
	int n = json_is_array(list) ? 0 : -1;
	size_t i;
	json_t *item;
	/* [{"metainfo": ...}, {"table": ...}, {"chain": ...}, {"rule": {...}}, ...] */
	json_array_foreach(list, i, item)
		n += json_is_object(json_object_get(item, "rule")) && n < INT32_MAX;
	json_decref(root);
	return n;
}
