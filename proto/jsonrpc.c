#include "proto/jsonrpc.h"
#include "proto/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* jansson's parse errors quote the input, which may be any bytes: the
	 * message goes back in a JSON string, so it must be valid UTF-8 (and
	 * it is read on a terminal): ASCII only. */
	for (char *p = err; errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return code;
}

void jsonrpc_request_clear(struct jsonrpc_request *req)
{
	json_decref(req->id);
	json_decref(req->params);
	memset(req, 0, sizeof(*req));
}

int jsonrpc_parse(const char *line, size_t len, struct jsonrpc_request *req,
                  char *err, size_t errlen)
{
	memset(req, 0, sizeof(*req));
	if (len > JSONRPC_MAX)
		return fail(JSONRPC_INVALID_REQUEST, err, errlen,
		            "request of %zu bytes is larger than %d", len, JSONRPC_MAX);
	json_error_t je;
	/* DECODE_ANY: a bare scalar is JSON, just not a request. */
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	char why[sizeof(je.text) + 8];
	if (!o)
		return fail(JSONRPC_PARSE_ERROR, err, errlen, "not JSON (%s at byte %d)",
		            text_json_why(je.text, why, sizeof(why)), je.position);
	int rv = 0;
	if (!json_is_object(o)) {
		rv = fail(JSONRPC_INVALID_REQUEST, err, errlen, "a request must be a JSON object%s",
		          json_is_array(o) ? " (a batch, an array of requests, is not taken: send one "
		                             "request a line)" : "");
		goto out;
	}
	json_t *id = json_object_get(o, "id");
	if (id) {
		if (!json_is_integer(id) && !json_is_string(id)) {
			rv = fail(JSONRPC_INVALID_REQUEST, err, errlen, "id must be an integer or a string");
			goto out;
		}
		req->id = json_incref(id);
	}
	json_t *v = json_object_get(o, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		rv = fail(JSONRPC_INVALID_REQUEST, err, errlen, "\"jsonrpc\" must be \"2.0\"");
		goto out;
	}
	json_t *m = json_object_get(o, "method");
	if (!json_is_string(m) || json_string_length(m) == 0 ||
	    json_string_length(m) >= sizeof(req->method) ||
	    strlen(json_string_value(m)) != json_string_length(m)) {
		rv = fail(JSONRPC_INVALID_REQUEST, err, errlen, "\"method\" must be a short string");
		goto out;
	}
	/* A name, as every method is (noun.verb): it goes into logs. */
	const char *name = json_string_value(m);
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	    json_string_length(m)) {
		rv = fail(JSONRPC_INVALID_REQUEST, err, errlen,
		          "\"method\" must be a name such as token.list (letters, digits, '.', '_', '-')");
		goto out;
	}
	memcpy(req->method, name, json_string_length(m) + 1);
	json_t *p = json_object_get(o, "params");
	if (p && !json_is_null(p)) {
		if (!json_is_object(p)) {
			rv = fail(JSONRPC_INVALID_PARAMS, err, errlen, "params must be an object");
			goto out;
		}
		req->params = json_incref(p);
	}
out:
	json_decref(o);
	return rv;
}

int jsonrpc_parse_response(const char *line, size_t len, int64_t want_id, json_t **result,
                           int *code, char *msg, size_t msglen)
{
	*result = NULL;
	*code = 0;
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	char why[sizeof(je.text) + 8];
	if (!o)
		return fail(-1, msg, msglen, "not JSON (%s at byte %d)", text_json_why(je.text, why, sizeof(why)),
		            je.position);
	int rv = -1;
	json_t *v = json_object_get(o, "jsonrpc"), *id = json_object_get(o, "id"),
	       *res = json_object_get(o, "result"), *err = json_object_get(o, "error");
	if (!json_is_object(o)) {
		fail(-1, msg, msglen, "not a JSON object");
	} else if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		fail(-1, msg, msglen, "\"jsonrpc\" is not \"2.0\"");
	} else if (!res == !err) {
		fail(-1, msg, msglen, "not one of \"result\" and \"error\"");
	} else if (res && !(json_is_integer(id) && json_integer_value(id) == want_id)) {
		/* An error about a request that could not be read has id null. */
		fail(-1, msg, msglen, "a result for another request than id %lld", (long long)want_id);
	} else if (err && !json_is_null(id) && !(json_is_integer(id) && json_integer_value(id) == want_id)) {
		fail(-1, msg, msglen, "an error for another request than id %lld", (long long)want_id);
	} else if (res) {
		*result = json_incref(res);
		rv = 0;
	} else {
		json_t *c = json_object_get(err, "code"), *m = json_object_get(err, "message");
		if (!json_is_integer(c) || json_integer_value(c) < INT32_MIN ||
		    json_integer_value(c) > INT32_MAX || !json_is_string(m)) {
			fail(-1, msg, msglen, "an error without an integer code and a message");
		} else {
			*code = (int)json_integer_value(c);
			snprintf(msg, msglen, "%s", json_string_value(m));
			text_clean(msg, strlen(msg)); /* it is printed on a terminal */
			rv = 1;
		}
	}
	json_decref(o);
	return rv;
}

static char *dump_line(json_t *o)
{
	if (!o)
		return NULL;
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *jsonrpc_format_result(json_t *id, json_t *result)
{
	return dump_line(json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "result",
	                           result ? result : json_object()));
}

char *jsonrpc_format_error(json_t *id, int code, const char *message)
{
	/* A message cut inside a character, or quoting a caller's bytes, is
	 * still sent (jansson takes no invalid UTF-8): cleaned. */
	char m[1024];
	snprintf(m, sizeof(m), "%s", message ? message : "");
	text_clean(m, strlen(m));
	return dump_line(json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id,
	                           "error", "code", code, "message", m));
}

char *jsonrpc_format_notification(const char *method, json_t *params)
{
	return dump_line(json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method,
	                           "params", params ? params : json_object()));
}

static json_t *param(json_t *params, const char *name)
{
	return params ? json_object_get(params, name) : NULL;
}

int jsonrpc_param_string(json_t *params, const char *name, bool required,
                         const char **out, char *err, size_t errlen)
{
	json_t *v = param(params, name);
	if (!v)
		return required ? fail(-1, err, errlen, "params.%s is required", name) : 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fail(-1, err, errlen, "params.%s: expected a string", name);
	*out = json_string_value(v);
	return 0;
}

int jsonrpc_param_int(json_t *params, const char *name, bool required,
                      int64_t *out, char *err, size_t errlen)
{
	json_t *v = param(params, name);
	if (!v)
		return required ? fail(-1, err, errlen, "params.%s is required", name) : 0;
	if (!json_is_integer(v))
		return fail(-1, err, errlen, "params.%s: expected an integer", name);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int jsonrpc_param_bool(json_t *params, const char *name, bool required,
                       bool *out, char *err, size_t errlen)
{
	json_t *v = param(params, name);
	if (!v)
		return required ? fail(-1, err, errlen, "params.%s is required", name) : 0;
	if (!json_is_boolean(v))
		return fail(-1, err, errlen, "params.%s: expected true or false", name);
	*out = json_is_true(v);
	return 0;
}

/* key (k bytes) is one of the words of list (names, one space apart).
 * Word by word: a search for key in the list took part of a name
 * ("expires" of "expires_in") for it, or several ("name expires_in"), and
 * looped for ever on an empty key (a hub that answered no one). */
static bool takes_param(const char *list, const char *key, size_t k)
{
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (k && n == k && !memcmp(p, key, k))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

bool jsonrpc_params_unknown(json_t *params, const char *method, const char *list, char *err,
                            size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach(params, key, v) {
		size_t k = strlen(key);
		if (takes_param(list, key, k))
			continue;
		char shown[64];
		size_t n = text_cut(key, k, sizeof(shown) - 1);
		memcpy(shown, key, n);
		shown[n] = '\0';
		text_clean(shown, n);
		snprintf(err, errlen, "params.%s: %s takes no such param (%s%s): a typo, or a slopnctl "
		         "newer than this slopnd?", shown, method, list ? "only " : "none at all",
		         list ? list : "");
		return true;
	}
	return false;
}
