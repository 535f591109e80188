#include "proto/nftnat.h"
#include "proto/text.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_snat(json_t *stmt)
{
	if (json_object_get(stmt, "masquerade") || json_object_get(stmt, "snat"))
		return true;
	/* iptables-nft's targets it has no native form for: {"xt": {"type":
	 * "target", "name": "MASQUERADE"}} */
	json_t *xt = json_object_get(stmt, "xt");
	const char *name = json_string_value(json_object_get(xt, "name"));
	return name && (!strcmp(name, "MASQUERADE") || !strcmp(name, "SNAT"));
}

static const char *str_or(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "?";
}

int nft_nat_rule_find(const char *json, size_t len, char *where, size_t cap)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *list = json_object_get(root, "nftables");
	int rv = json_is_array(list) ? 0 : -1;
	size_t i, j;
	json_t *item, *stmt;
	/* {"nftables": [{"metainfo": {...}}, {"rule": {"family": F, "table": T,
	 * "chain": C, "expr": [statement, ...]}}, ...]} */
	json_array_foreach(list, i, item) {
		json_t *rule = json_object_get(item, "rule");
		json_array_foreach(json_object_get(rule, "expr"), j, stmt) {
			if (!is_snat(stmt))
				continue;
			if (cap) {
				snprintf(where, cap, "%s %s %s", str_or(rule, "family"), str_or(rule, "table"),
				         str_or(rule, "chain"));
				for (char *p = where; *p; p++)
					if ((unsigned char)*p < 0x20 || *p == 0x7f)
						*p = '?';
			}
			rv = 1;
			goto out;
		}
	}
out:
	json_decref(root);
	return rv;
}

bool nft_table_tun(const char *prefix, const char *table, char *tun, size_t len)
{
	size_t pl = strlen(prefix), n = 0;
	if (strncmp(table, prefix, pl) || !table[pl] || !len)
		return false;
	for (const char *p = table + pl; *p; p++) {
		char c = *p;
		if (c == '_') {
			int hi = text_hexval(p[1]), lo = hi < 0 ? -1 : text_hexval(p[2]);
			if (lo < 0)
				return false;
			c = (char)(hi << 4 | lo);
			/* Letters and digits are never escaped, and a name has no NUL. */
			if (!c || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
				return false;
			p += 2;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
			return false;
		}
		if (n + 1 >= len)
			return false;
		tun[n++] = c;
	}
	tun[n] = '\0';
	return true;
}

int nft_tables_each(const char *json, size_t len, const char *family,
                    bool (*fn)(const char *name, void *ctx), void *ctx)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *list = json_object_get(root, "nftables");
	int rv = json_is_array(list) ? 0 : -1;
	size_t i;
	json_t *item;
	/* {"nftables": [{"metainfo": {...}}, {"table": {"family": F, "name": N,
	 * "handle": H}}, ...]} */
	json_array_foreach(list, i, item) {
		json_t *t = json_object_get(item, "table");
		const char *f = json_string_value(json_object_get(t, "family"));
		const char *name = json_string_value(json_object_get(t, "name"));
		if (f && name && !strcmp(f, family) && fn(name, ctx)) {
			rv = 1;
			break;
		}
	}
	json_decref(root);
	return rv;
}

int nft_rule_comment_find(const char *json, size_t len, const char *prefix, const char *skip,
                          const char *tag, char *out, size_t cap)
{
	json_t *root = json_loadb(json, len, 0, NULL);
	json_t *list = json_object_get(root, "nftables");
	int rv = json_is_array(list) ? 0 : -1;
	size_t i, pl = strlen(prefix), tl = strlen(tag);
	json_t *item;
	/* {"rule": {"family": F, "table": T, "chain": C, "comment": S, ...}} */
	json_array_foreach(list, i, item) {
		json_t *rule = json_object_get(item, "rule");
		const char *f = json_string_value(json_object_get(rule, "family"));
		const char *t = json_string_value(json_object_get(rule, "table"));
		const char *c = json_string_value(json_object_get(rule, "comment"));
		if (!f || !t || !c || strcmp(f, "inet") || strncmp(t, prefix, pl) || !strcmp(t, skip) ||
		    strncmp(c, tag, tl))
			continue;
		/* A longer one is no record of ours: not cut to something else. */
		if (strlen(c + tl) < cap) {
			memcpy(out, c + tl, strlen(c + tl) + 1);
			rv = 1;
		}
		break;
	}
	json_decref(root);
	return rv;
}
