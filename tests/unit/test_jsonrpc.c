/* JSON-RPC requests from the control socket: good and hostile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "proto/jsonrpc.h"

static char err[256];

static int parse(const char *s, struct jsonrpc_request *r)
{
	err[0] = '\0';
	return jsonrpc_parse(s, strlen(s), r, err, sizeof(err));
}

static void good_requests(void **state)
{
	(void)state;
	struct jsonrpc_request r;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"sessions.list\"}", &r), 0);
	assert_string_equal(r.method, "sessions.list");
	assert_int_equal(json_integer_value(r.id), 7);
	assert_null(r.params);
	jsonrpc_request_clear(&r);
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"sessions.kick\",\"params\":{\"id\":3},\"x\":1}", &r), 0);
	assert_string_equal(json_string_value(r.id), "a");
	int64_t id = 0;
	assert_int_equal(jsonrpc_param_int(r.params, "id", true, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 3);
	jsonrpc_request_clear(&r);
	/* A notification: no id. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"server.status\",\"params\":null}", &r), 0);
	assert_null(r.id);
	jsonrpc_request_clear(&r);
}

static void bad_requests(void **state)
{
	(void)state;
	static const struct { const char *line; int code; } bad[] = {
		{"", JSONRPC_PARSE_ERROR},
		{"{\"jsonrpc\":", JSONRPC_PARSE_ERROR},
		{"[1,2]", JSONRPC_INVALID_REQUEST},
		{"42", JSONRPC_INVALID_REQUEST},
		{"{\"id\":1,\"method\":\"m\"}", JSONRPC_INVALID_REQUEST},                      /* no jsonrpc */
		{"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1}", JSONRPC_INVALID_REQUEST},                    /* no method */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", JSONRPC_INVALID_REQUEST},
		/* not a name: it would go into the log as it is */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\\nFAKE LOG LINE\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"token list\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"caf\u00e9\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"m\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"m\"}", JSONRPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[1]}", JSONRPC_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"m\"}", JSONRPC_PARSE_ERROR}, /* duplicate key */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jsonrpc_request r;
		assert_int_equal(parse(bad[i].line, &r), bad[i].code);
		assert_true(err[0] != '\0');
		jsonrpc_request_clear(&r);
	}
	/* The id survives an error after it was read, so the answer names it. */
	struct jsonrpc_request r;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":7}", &r), JSONRPC_INVALID_REQUEST);
	assert_int_equal(json_integer_value(r.id), 9);
	jsonrpc_request_clear(&r);
	/* Where the JSON broke, for the caller's log. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\" \"x\"}", &r), JSONRPC_PARSE_ERROR);
	assert_non_null(strstr(err, "near '\"x\"' at byte 36)"));
	jsonrpc_request_clear(&r);
	/* A batch: what to send instead. */
	assert_int_equal(parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.status\"}]", &r),
	                 JSONRPC_INVALID_REQUEST);
	assert_string_equal(err, "a request must be a JSON object (a batch, an array of requests, is not "
	                    "taken: send one request a line)");
	jsonrpc_request_clear(&r);
	/* Not "invalid token", jansson's word, which reads as a SloPN token. */
	assert_int_equal(parse("garbage", &r), JSONRPC_PARSE_ERROR);
	assert_string_equal(err, "not JSON (unexpected text near 'garbage' at byte 7)");
	jsonrpc_request_clear(&r);
	/* jansson's message quotes the bad bytes (here a broken UTF-8 pair
	 * and a control byte): the answer must still be a JSON line. */
	static const char *const raw[] = {"{\"jsonrtrue\\\327\212\"}", "{\"a\x01\xff"};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(parse(raw[i], &r), JSONRPC_PARSE_ERROR);
		for (const char *p = err; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
		char *line = jsonrpc_format_error(r.id, JSONRPC_PARSE_ERROR, err);
		assert_non_null(line);
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		json_decref(j);
		free(line);
		jsonrpc_request_clear(&r);
	}
}

static void oversized(void **state)
{
	(void)state;
	size_t n = JSONRPC_MAX + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	struct jsonrpc_request r;
	assert_int_equal(jsonrpc_parse(big, n, &r, err, sizeof(err)), JSONRPC_INVALID_REQUEST);
	assert_non_null(strstr(err, "larger"));
	jsonrpc_request_clear(&r);
	free(big);
}

static void param_types(void **state)
{
	(void)state;
	json_t *p = json_pack("{s:s, s:i, s:b, s:i}", "name", "alice", "n", 5, "kick", 1, "s", 3);
	const char *s = NULL;
	int64_t n = 0;
	bool b = false;
	assert_int_equal(jsonrpc_param_string(p, "name", true, &s, err, sizeof(err)), 0);
	assert_string_equal(s, "alice");
	assert_int_equal(jsonrpc_param_bool(p, "kick", true, &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(jsonrpc_param_string(p, "s", true, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "params.s: expected a string");
	assert_int_equal(jsonrpc_param_int(p, "name", true, &n, err, sizeof(err)), -1);
	assert_int_equal(jsonrpc_param_bool(p, "n", false, &b, err, sizeof(err)), -1);
	assert_int_equal(jsonrpc_param_string(p, "missing", true, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "params.missing is required");
	n = 77;
	assert_int_equal(jsonrpc_param_int(p, "missing", false, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 77);
	assert_int_equal(jsonrpc_param_int(NULL, "missing", false, &n, err, sizeof(err)), 0);
	json_decref(p);
}

static void formatting(void **state)
{
	(void)state;
	json_t *id = json_integer(4);
	char *s = jsonrpc_format_result(id, json_pack("{s:i}", "kicked", 1));
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"kicked\":1}}\n");
	free(s);
	s = jsonrpc_format_error(NULL, JSONRPC_PARSE_ERROR, "not JSON");
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"not JSON\"}}\n");
	free(s);
	/* A message cut inside a character (a long name quoted), or with a
	 * caller's control bytes: still an answer, cleaned. */
	s = jsonrpc_format_error(id, JSONRPC_INVALID_PARAMS, "no token 'caf\xc3' \x1b[2J");
	assert_non_null(s);
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32602,"
	                       "\"message\":\"no token 'caf?' ?[2J\"}}\n");
	free(s);
	s = jsonrpc_format_notification("session.up", json_pack("{s:i}", "id", 2));
	assert_string_equal(s, "{\"jsonrpc\":\"2.0\",\"method\":\"session.up\",\"params\":{\"id\":2}}\n");
	free(s);
	json_decref(id);
}

/* slopnctl's side: answers to its request 4. */
static void responses(void **state)
{
	(void)state;
	json_t *r;
	int code;
	char msg[64];
#define RESP(s) jsonrpc_parse_response(s, strlen(s), 4, &r, &code, msg, sizeof(msg))
	assert_int_equal(RESP("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"kicked\":1}}"), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "kicked")), 1);
	json_decref(r);
	assert_int_equal(RESP("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":1002,\"message\":\"no token\"}}"), 1);
	assert_int_equal(code, 1002);
	assert_string_equal(msg, "no token");
	assert_null(r);
	/* An error about a request the daemon could not read names none. */
	assert_int_equal(RESP("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"m\"}}"), 1);
	/* Control characters do not reach the terminal; UTF-8 does. */
	assert_int_equal(RESP("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":1,\"message\":\"a\\u001b[2Jb\\u00e9\"}}"), 1);
	assert_string_equal(msg, "a?[2Jb\xc3\xa9");
	/* A long message is cut to the buffer. */
	assert_int_equal(RESP("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":1,\"message\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}"), 1);
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	static const struct { const char *line, *why; } bad[] = {
		{"", "not JSON"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":", "not JSON"},
		{"[1]", "not a JSON object"},
		{"\"hello\"", "not a JSON object"},
		{"{\"id\":4,\"result\":{}}", "\"jsonrpc\" is not \"2.0\""},
		{"{\"jsonrpc\":2,\"id\":4,\"result\":{}}", "\"jsonrpc\" is not \"2.0\""},
		{"{\"jsonrpc\":\"2.0\",\"id\":4}", "not one of"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{},\"error\":{}}", "not one of"},
		{"{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}", "another request"},
		{"{\"jsonrpc\":\"2.0\",\"id\":\"4\",\"result\":{}}", "another request"},
		{"{\"jsonrpc\":\"2.0\",\"result\":{}}", "another request"},
		{"{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":1,\"message\":\"m\"}}", "another request"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":\"boom\"}", "without an integer code"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"message\":\"m\"}}", "without an integer code"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":\"1\",\"message\":\"m\"}}", "without an integer code"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":4294967297,\"message\":\"m\"}}", "without an integer code"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":1,\"message\":7}}", "without an integer code"},
		{"{\"jsonrpc\":\"2.0\",\"id\":4,\"id\":4,\"result\":{}}", "not JSON"}, /* duplicate key */
		{"hello", "not JSON (unexpected text near 'hello' at byte 5)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		if (RESP(bad[i].line) != -1 || !strstr(msg, bad[i].why))
			fail_msg("'%s': '%s', expected '%s'", bad[i].line, msg, bad[i].why);
		assert_null(r);
	}
#undef RESP
}

/* Params a method does not take: a whole word of its list only; an empty
 * name (which once looped for ever), a part of a name, two names in one,
 * are refused, named in printable characters. */
static void unknown_params(void **state)
{
	(void)state;
	const char *list = "name expires_in kick";
	const struct {
		const char *json;
		const char *unknown; /* NULL: all taken */
	} cases[] = {
		{"{}", NULL},
		{"{\"name\": 1, \"kick\": true, \"expires_in\": 2}", NULL},
		{"{\"\": 1}", "params.: token.set"},
		{"{\"expires\": 1}", "params.expires: "},
		{"{\"name expires_in\": 1}", "params.name expires_in: "},
		{"{\"kic\": 1}", "params.kic: "},
		{"{\"kickk\": 1}", "params.kickk: "},
		{"{\"name \": 1}", "params.name : "},
		{"{\"ki\\u001bck\": 1}", "params.ki?ck: "},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = json_loads(cases[i].json, 0, NULL);
		assert_non_null(p);
		err[0] = '\0';
		bool bad = jsonrpc_params_unknown(p, "token.set", list, err, sizeof(err));
		json_decref(p);
		if (!cases[i].unknown) {
			assert_false(bad);
			continue;
		}
		assert_true(bad);
		assert_non_null(strstr(err, cases[i].unknown));
		assert_non_null(strstr(err, "only name expires_in kick"));
	}
	json_t *p = json_pack("{s:i}", "name", 1);
	assert_true(jsonrpc_params_unknown(p, "status", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "status takes no such param (none at all)"));
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_requests),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(oversized),
		cmocka_unit_test(param_types),
		cmocka_unit_test(formatting),
		cmocka_unit_test(responses),
		cmocka_unit_test(unknown_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
