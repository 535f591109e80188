#include "ctl/answer.h"
#include "proto/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ans_bad(struct answer *an, const char *key, const char *fmt, ...)
{
	if (an->bad[0])
		return;
	int n = snprintf(an->bad, sizeof(an->bad), "%s%s%s: ", an->at, an->at[0] && key[0] ? "." : "", key);
	if (n < 0 || (size_t)n >= sizeof(an->bad))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(an->bad + n, sizeof(an->bad) - (size_t)n, fmt, ap);
	va_end(ap);
	/* Keys come from the socket too, and this goes to a terminal: no
	 * control character (C0, DEL, C1) nor a byte of no UTF-8 reaches it. */
	text_clean(an->bad, strlen(an->bad));
}

void ans_in(struct answer *an, const char *path)
{
	snprintf(an->at, sizeof(an->at), "%s", path);
}

void ans_at(struct answer *an, const char *path, size_t i)
{
	snprintf(an->at, sizeof(an->at), "%s[%zu]", path, i);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* The member, or NULL when absent or null (a problem if required). */
static json_t *member(struct answer *an, json_t *o, const char *key, bool required)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (json_is_null(v))
		v = NULL;
	if (!v && required)
		ans_bad(an, key, "missing");
	return v;
}

static bool wrong(struct answer *an, const char *key, json_t *v, const char *want)
{
	ans_bad(an, key, "expected %s, got %s", want, type_name(v));
	return false;
}

/* v's text, with its control characters (but newlines and tabs when
 * multiline) shown as '?': a name or a reason from a client must not act
 * on the terminal, nor cost the whole answer. */
static const char *text(struct answer *an, const char *key, json_t *v, bool multiline)
{
	if (!json_is_string(v))
		return wrong(an, key, v, "a string"), "?";
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	char *copy = malloc(len + 1);
	if (!copy)
		return ans_bad(an, key, "out of memory"), "?";
	memcpy(copy, s, len + 1);
	for (size_t i = 0, run; i < len; i += run + 1) {
		run = multiline ? strcspn(copy + i, "\n\t") : len - i; /* JSON strings hold no NUL */
		text_clean(copy + i, run);
	}
	if (memcmp(copy, s, len) != 0)
		json_string_setn(v, copy, len);
	free(copy);
	return json_string_value(v);
}

const char *ans_text(struct answer *an, json_t *o, const char *key, bool required, bool multiline)
{
	json_t *v = member(an, o, key, required);
	if (!v)
		return required ? "?" : NULL;
	return text(an, key, v, multiline);
}

const char *ans_elem_str(struct answer *an, json_t *arr, size_t i, const char *key)
{
	char where[64];
	snprintf(where, sizeof(where), "%s[%zu]", key, i);
	return text(an, where, json_array_get(arr, i), false);
}

const char *ans_str(struct answer *an, json_t *o, const char *key, bool required)
{
	return ans_text(an, o, key, required, false);
}

bool ans_int(struct answer *an, json_t *o, const char *key, bool required, int64_t min,
             int64_t max, int64_t *out)
{
	*out = 0;
	json_t *v = member(an, o, key, required);
	if (!v)
		return false;
	if (!json_is_integer(v))
		return wrong(an, key, v, "an integer");
	int64_t n = (int64_t)json_integer_value(v);
	if (n < min || n > max) {
		ans_bad(an, key, "%lld is out of range (%lld to %lld)", (long long)n, (long long)min,
		        (long long)max);
		return false;
	}
	*out = n;
	return true;
}

double ans_num(struct answer *an, json_t *o, const char *key, bool required, double min, double max)
{
	json_t *v = member(an, o, key, required);
	if (!v)
		return 0;
	if (!json_is_number(v))
		return wrong(an, key, v, "a number"), 0;
	double d = json_number_value(v);
	if (!(d >= min && d <= max)) /* NaN too */
		return ans_bad(an, key, "%g is out of range (%g to %g)", d, min, max), 0;
	return d;
}

bool ans_bool(struct answer *an, json_t *o, const char *key)
{
	json_t *v = member(an, o, key, false);
	if (v && !json_is_boolean(v))
		return wrong(an, key, v, "true or false");
	return json_is_true(v);
}

json_t *ans_obj(struct answer *an, json_t *o, const char *key, bool required)
{
	json_t *v = member(an, o, key, required);
	if (v && !json_is_object(v))
		return wrong(an, key, v, "an object"), NULL;
	return v;
}

json_t *ans_arr(struct answer *an, json_t *o, const char *key, bool required)
{
	json_t *v = member(an, o, key, required);
	if (v && !json_is_array(v))
		return wrong(an, key, v, "an array"), NULL;
	return v;
}

void ans_clean_key(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)text_cut(name, strlen(name), len - 1), name);
	text_clean(out, strlen(out));
}

uint64_t ans_counts(struct answer *an, json_t *o, const char *key,
                    void (*each)(const char *name, uint64_t n, void *ctx), void *ctx)
{
	json_t *counts = ans_obj(an, o, key, OPTIONAL), *v;
	const char *name;
	uint64_t sum = 0;
	json_object_foreach(counts, name, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			char where[96];
			snprintf(where, sizeof(where), "%s.%s", key, name);
			ans_bad(an, where, "expected a count, got %s",
			        json_is_integer(v) ? "a negative number" : type_name(v));
			continue;
		}
		uint64_t n = (uint64_t)json_integer_value(v);
		sum += n;
		char clean[64];
		ans_clean_key(name, clean, sizeof(clean));
		if (each)
			each(clean, n, ctx);
	}
	return sum;
}
