#include "proto/jsonfile.h"
#include "proto/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *jsonfile_dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!s)
		return NULL;
	size_t l = strlen(s);
	char *t = realloc(s, l + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[l] = '\n';
	t[l + 1] = '\0';
	return t;
}

json_t *jsonfile_load(const char *buf, size_t len, int version, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		char why[sizeof(je.text) + 8];
		snprintf(err, errlen, "line %d column %d: %s", je.line, je.column,
		         text_json_why(je.text, why, sizeof(why)));
		return NULL;
	}
	json_t *ver = json_object_get(root, "version");
	if (!json_is_object(root))
		snprintf(err, errlen, "expected a JSON object");
	else if (!ver)
		snprintf(err, errlen, "version: missing (expected %d)", version);
	else if (!json_is_integer(ver))
		snprintf(err, errlen, "version: expected the number %d", version);
	else if (json_integer_value(ver) > version)
		snprintf(err, errlen, "version %" JSON_INTEGER_FORMAT ": expected %d (" JSONFILE_NEWER ")",
		         json_integer_value(ver), version);
	else if (json_integer_value(ver) != version)
		snprintf(err, errlen, "version %" JSON_INTEGER_FORMAT ": expected %d",
		         json_integer_value(ver), version);
	else
		return root;
	json_decref(root);
	return NULL;
}

int jsonfile_parse_list(const char *buf, size_t len, int version, const char *key, size_t elem,
                        jsonfile_entry_fn entry, void **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	json_t *root = jsonfile_load(buf, len, version, err, errlen);
	if (!root)
		return -1;
	int rv = -1;
	char *v = NULL;
	json_t *list = json_object_get(root, key);
	if (!json_is_array(list)) {
		snprintf(err, errlen, "%s: expected an array", key);
		goto out;
	}
	size_t count = json_array_size(list);
	if (count && !(v = calloc(count, elem))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		if (entry(json_array_get(list, i), i, v, err, errlen) < 0)
			goto out;
	*out = v;
	*n = count;
	v = NULL;
	rv = 0;
out:
	free(v);
	json_decref(root);
	return rv;
}

/* Names by text, then by place in the list (their addresses). */
static int name_then_place(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = strcmp(x, y);
	return c ? c : (x > y) - (x < y);
}

int jsonfile_first_repeat(const void *v, size_t n, size_t elem, size_t name_off, size_t *at)
{
	*at = n;
	if (n < 2)
		return 0;
	const char **p = malloc(n * sizeof(*p));
	if (!p)
		return -1;
	for (size_t i = 0; i < n; i++)
		p[i] = (const char *)v + i * elem + name_off;
	qsort(p, n, sizeof(*p), name_then_place);
	for (size_t i = 1; i < n; i++) {
		size_t idx = (size_t)(p[i] - ((const char *)v + name_off)) / elem;
		if (!strcmp(p[i - 1], p[i]) && idx < *at)
			*at = idx;
	}
	free(p);
	return 0;
}

int jsonfile_unhex(const char *hex, size_t hexlen, uint8_t *out)
{
	for (size_t i = 0; i + 1 < hexlen; i += 2) {
		int hi = text_hexval(hex[i]), lo = text_hexval(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return hexlen % 2 ? -1 : 0;
}

bool jsonfile_time(const json_t *v, int64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > JSONFILE_TIME_MAX)
		return false;
	*out = json_integer_value(v);
	return true;
}
