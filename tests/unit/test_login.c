/* Login messages: the original SloPN's JSON, good and hostile. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/linebuf.h"
#include "proto/login.h"

static char err[256];

static int req(const char *s, struct slopn_login_request *r)
{
	return slopn_login_request_parse(s, strlen(s), r, err, sizeof(err));
}

static int resp(const char *s, struct slopn_login_response *r)
{
	return slopn_login_response_parse(s, strlen(s), r, err, sizeof(err));
}

/* Field by field: a struct's padding is not part of its value. */
static void assert_req_equal(const struct slopn_login_request *a, const struct slopn_login_request *b)
{
	assert_string_equal(a->token, b->token);
	assert_string_equal(a->client_version, b->client_version);
	assert_string_equal(a->os, b->os);
	assert_string_equal(a->client_id, b->client_id);
	assert_string_equal(a->instance, b->instance);
	assert_int_equal(a->ipv6, b->ipv6);
}

/* a, formatted, holds want and parses back to a. */
static void assert_request_roundtrip(const struct slopn_login_request *a, const char *want)
{
	char line[SLOPN_LOGIN_MAX], e[160];
	struct slopn_login_request b;
	ssize_t n = slopn_login_request_format(a, line, sizeof(line));
	assert_true(n > 0);
	assert_non_null(strstr(line, want));
	assert_int_equal(slopn_login_request_parse(line, (size_t)n, &b, e, sizeof(e)), 0);
	assert_req_equal(a, &b);
}

static void assert_resp_equal(const struct slopn_login_response *a, const struct slopn_login_response *b)
{
	assert_int_equal(a->ok, b->ok);
	assert_string_equal(a->message, b->message);
	assert_int_equal(a->assigned_vip.s_addr, b->assigned_vip.s_addr);
	assert_int_equal(a->server_vip.s_addr, b->server_vip.s_addr);
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_string_equal(a->server_version, b->server_version);
	assert_int_equal(a->prefix_len6, b->prefix_len6);
	assert_memory_equal(&a->assigned_vip6, &b->assigned_vip6, 16);
	assert_memory_equal(&a->server_vip6, &b->server_vip6, 16);
	assert_memory_equal(&a->dns6, &b->dns6, 16);
	assert_int_equal(a->egress6, b->egress6);
}

/* Reasons end up in logs and in the JSON sent back: printable ASCII only. */
static void assert_err_printable(void)
{
	assert_true(err[0] != '\0');
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void request_from_the_original_client(void **state)
{
	(void)state;
	struct slopn_login_request r;
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"abc\",\"client_version\":\"0.9.1\",\"os\":\"darwin\"}\n", &r), 0);
	assert_string_equal(r.token, "abc");
	assert_string_equal(r.client_version, "0.9.1");
	assert_string_equal(r.os, "darwin");
}

static void request_optional_and_unknown_fields(void **state)
{
	(void)state;
	struct slopn_login_request r;
	assert_int_equal(req("{\"token\":\"t\",\"type\":\"login_request\",\"future\":[1,2]}", &r), 0);
	assert_string_equal(r.token, "t");
	assert_string_equal(r.client_version, "");
	assert_string_equal(r.os, "");
}

/* A client's words reach logs and terminals: no control characters; the
 * token, which must match, as sent. */
static void request_text_fields_cleaned(void **state)
{
	(void)state;
	struct slopn_login_request r;
	assert_int_equal(req("{\"token\":\"t\\n\",\"type\":\"login_request\",\"client_version\":"
	                     "\"1.0\\nslopnd: session 9 up\",\"os\":\"\\u001b[2J\\u009bx caf\u00e9\"}", &r), 0);
	assert_string_equal(r.client_version, "1.0?slopnd: session 9 up");
	assert_string_equal(r.os, "?[2J??x caf\xc3\xa9");
	assert_string_equal(r.token, "t\n");
}

static void request_bad_input(void **state)
{
	(void)state;
	struct slopn_login_request r;
	static const char *const bad[] = {
		"",
		"not json",
		"[\"login_request\"]",
		"\"login_request\"",
		"{\"type\":\"login_request\"}",                       /* no token */
		"{\"type\":\"login_request\",\"token\":42}",          /* wrong type */
		"{\"type\":\"login_request\",\"token\":null}",
		"{\"type\":\"login_request\",\"token\":\"\"}",        /* empty */
		"{\"type\":\"login_response\",\"token\":\"t\"}",      /* wrong type value */
		"{\"token\":\"t\"}",                                  /* no type */
		"{\"type\":\"login_request\",\"token\":\"a\\u0000b\"}", /* NUL inside */
		"{\"type\":\"login_request\",\"token\":\"t\"} trailing",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(req(bad[i], &r), -1);
		assert_err_printable(); /* every refusal says why */
	}
	/* Reasons are specific, and never quote the peer's bytes back. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":42}", &r), -1);
	assert_string_equal(err, "field \"token\" is not a string");
	assert_int_equal(req("{\"type\":\"login_request\"}", &r), -1);
	assert_string_equal(err, "field \"token\" is missing");
	assert_int_equal(req("{\"type\":\"\xff\x01\",\"token\":\"t\"}", &r), -1);
	assert_err_printable();
	assert_int_equal(req("{\"type\":\"evil\\n\\u0001\",\"token\":\"t\"}", &r), -1);
	assert_string_equal(err, "field \"type\" is not \"login_request\"");
	assert_int_equal(req("{\"a\":tru\x01\xfe}", &r), -1);
	assert_err_printable();
	/* jansson quotes what it stopped at: bytes over 0x7e too (UTF-8). */
	assert_int_equal(req("{\xc3\xa9}", &r), -1);
	assert_err_printable();
	/* Not "invalid token" (jansson's word): here it would read as the login's. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":abc}", &r), -1);
	assert_string_equal(err, "not JSON (unexpected text near 'abc' at byte 35)");
	/* An embedded raw NUL byte is not JSON either. */
	static const char nul[] = "{\"type\":\"login_request\",\"token\":\"a\0b\"}";
	assert_int_equal(slopn_login_request_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
	/* A NULL err is allowed. */
	assert_int_equal(slopn_login_request_parse("[]", 2, &r, NULL, 0), -1);
}

/* Ours: a client id to get its addresses back, and IPv6. */
static void request_client_id_and_ipv6(void **state)
{
	(void)state;
	struct slopn_login_request r;
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"client_id\":"
	                     "\"0123456789abcdef0123456789abcdef\",\"ipv6\":true}", &r), 0);
	assert_string_equal(r.client_id, "0123456789abcdef0123456789abcdef");
	assert_true(r.ipv6);
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"ipv6\":false}", &r), 0);
	assert_string_equal(r.client_id, "");
	assert_false(r.ipv6);
	/* Wrong ones are as good as absent: see request_optional_fields_ignored. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"client_id\":\"a/b\"}", &r), 0);
	assert_string_equal(r.client_id, "");
	assert_string_equal(r.ignored.why, "field \"client_id\" is not 1-64 characters of A-Z a-z 0-9 . _ -");
	/* 64 characters are fine. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"client_id\":"
	                     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", &r), 0);
	assert_int_equal(strlen(r.client_id), 64);
	assert_true(slopn_client_id_valid("A-z_0.9"));
	assert_false(slopn_client_id_valid(""));
	/* The client's run, with an id's syntax. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"client_id\":\"c\","
	                     "\"instance\":\"0123456789abcdef\"}", &r), 0);
	assert_string_equal(r.instance, "0123456789abcdef");
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\"}", &r), 0);
	assert_string_equal(r.instance, "");
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"instance\":\"a b\"}", &r), 0);
	assert_string_equal(r.instance, "");
	assert_string_equal(r.ignored.why, "field \"instance\" is not 1-64 characters of A-Z a-z 0-9 . _ -");
}

/* An optional field that is not right (empty where that means nothing, of
 * a wrong type, out of its syntax) is taken as absent, as DESIGN.md has
 * unknown fields: only type and token fail a login (the hub would count
 * the refusal towards a ban of the peer's whole address). The first such
 * field is named for the log. */
static void request_optional_fields_ignored(void **state)
{
	(void)state;
	static const struct {
		const char *extra, *field;
	} cases[] = {
		{"\"client_version\":7", "client_version"},
		{"\"client_version\":[\"1.0\"]", "client_version"},
		{"\"os\":7", "os"},
		{"\"os\":{}", "os"},
		{"\"os\":true", "os"},
		{"\"client_id\":\"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}\"", "client_id"},
		{"\"client_id\":\"a b\"", "client_id"},
		{"\"client_id\":\"\\u00e9\"", "client_id"},
		{"\"client_id\":7", "client_id"},
		{"\"client_id\":false", "client_id"},
		{"\"client_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "client_id"},
		{"\"instance\":\"a b\"", "instance"},
		{"\"instance\":12", "instance"},
		{"\"instance\":[\"a\"]", "instance"},
		{"\"instance\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "instance"},
		{"\"ipv6\":\"yes\"", "ipv6"},
		{"\"ipv6\":\"\"", NULL},
		{"\"ipv6\":1", "ipv6"},
		{"\"ipv6\":\"true\"", "ipv6"},
		/* "" of a string field is absent, not wrong. */
		{"\"client_version\":\"\"", NULL},
		{"\"os\":\"\"", NULL},
		{"\"client_id\":\"\"", NULL},
		{"\"instance\":\"\"", NULL},
	};
	struct slopn_login_request base, r;
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\"}", &base), 0);
	assert_int_equal(base.ignored.n, 0);
	assert_string_equal(base.ignored.why, "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256], want[64];
		snprintf(line, sizeof(line), "{\"type\":\"login_request\",\"token\":\"t\",%s}",
		         cases[i].extra);
		if (req(line, &r) != 0)
			fail_msg("%s: refused (%s), not taken as absent", line, err);
		assert_req_equal(&base, &r);
		assert_int_equal(r.ignored.n, cases[i].field ? 1 : 0);
		snprintf(want, sizeof(want), "field \"%s\" ", cases[i].field ? cases[i].field : "");
		if (cases[i].field && strncmp(r.ignored.why, want, strlen(want)) != 0)
			fail_msg("%s: ignored.why '%s' does not name the field", line, r.ignored.why);
		for (const char *p = r.ignored.why; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
	}
	/* The valid ones beside a wrong one stay; the first wrong is named,
	 * the others counted. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"os\":1,\"client_id\":"
	                     "\"c0ffee\",\"ipv6\":\"yes\",\"client_version\":\"1.0\",\"instance\":[]}", &r), 0);
	assert_string_equal(r.client_id, "c0ffee");
	assert_string_equal(r.client_version, "1.0");
	assert_false(r.ipv6);
	assert_int_equal(r.ignored.n, 3);
	assert_string_equal(r.ignored.why, "field \"os\" is not a string");
	/* A key given twice: the last counts, as with Go's decoder. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"token\":\"u\","
	                     "\"ipv6\":\"yes\",\"ipv6\":true}", &r), 0);
	assert_string_equal(r.token, "u");
	assert_true(r.ipv6);
	assert_int_equal(r.ignored.n, 0);
	/* The mandatory ones still fail it. */
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"token\":7}", &r), -1);
	assert_int_equal(req("{\"type\":\"login_request\",\"type\":\"x\",\"token\":\"t\"}", &r), -1);
}

/* A Go peer's struct without omitempty writes an unset pointer as null and
 * an unset string as "": taken as absent, not refused (the hub would count
 * each refusal towards a ban). A required field null is missing. */
static void null_and_empty_are_absent(void **state)
{
	(void)state;
	struct slopn_login_request r;
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"client_id\":\"\","
	                     "\"instance\":\"\",\"os\":null,\"client_version\":null,\"ipv6\":null}", &r), 0);
	assert_string_equal(r.token, "t");
	assert_string_equal(r.client_id, "");
	assert_string_equal(r.instance, "");
	assert_string_equal(r.os, "");
	assert_false(r.ipv6);
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":\"t\",\"client_id\":null}", &r), 0);
	assert_string_equal(r.client_id, "");
	assert_int_equal(req("{\"type\":\"login_request\",\"token\":null}", &r), -1);
	assert_non_null(strstr(err, "\"token\" is missing"));
	struct slopn_login_response a;
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":"
	                      "\"10.100.0.2\",\"server_vip\":\"10.100.0.1\",\"subnet_mask\":null,\"dns6\":null,"
	                      "\"message\":null,\"assigned_vip6\":null,\"server_vip6\":null,\"prefix_len6\":null}",
	                      &a), 0);
	assert_true(a.ok);
	assert_int_equal(a.prefix_len, 24);
	assert_int_equal(a.prefix_len6, 0);
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":null,"
	                      "\"server_vip\":\"10.100.0.1\"}", &a), -1);
}

/* A token as long as a login line carries: the original's Go strings have
 * no limit, and a shared token of 256 bytes or more must still work. */
static void request_token_never_truncated(void **state)
{
	(void)state;
	static char line[SLOPN_LOGIN_MAX + 64], tok[SLOPN_LOGIN_MAX];
	static struct slopn_login_request r, back;
#define TOKEN_LINE "{\"type\":\"login_request\",\"token\":\"%s\"}"
	size_t frame = strlen(TOKEN_LINE) - 2; /* the line without the token */
	memset(tok, 'x', 300);
	tok[300] = '\0';
	snprintf(line, sizeof(line), TOKEN_LINE, tok);
	assert_int_equal(req(line, &r), 0);
	assert_string_equal(r.token, tok);
	/* The longest token a line carries: the line's 4095 bytes of JSON. */
	memset(tok, 'x', SLOPN_LOGIN_MAX - 1 - frame);
	tok[SLOPN_LOGIN_MAX - 1 - frame] = '\0';
	snprintf(line, sizeof(line), TOKEN_LINE, tok);
	assert_int_equal(strlen(line), SLOPN_LOGIN_MAX - 1);
	assert_int_equal(req(line, &r), 0);
	assert_string_equal(r.token, tok);
	/* What parsed formats again, whole, and parses back. */
	char buf[SLOPN_LOGIN_MAX + 1];
	ssize_t n = slopn_login_request_format(&r, buf, sizeof(buf));
	assert_int_equal(n, SLOPN_LOGIN_MAX);
	assert_int_equal(slopn_login_request_parse(buf, (size_t)n, &back, err, sizeof(err)), 0);
	assert_string_equal(back.token, tok);
	/* A byte more is a line too large, refused whole, not cut short. */
	strcat(tok, "x");
	snprintf(line, sizeof(line), TOKEN_LINE, tok);
	assert_int_equal(req(line, &r), -1);
	assert_non_null(strstr(err, "larger than"));
	assert_string_equal(r.token, "");
}

/* What our client can send: its login with the token fits in a line. */
static void token_fits_a_login(void **state)
{
	(void)state;
	static char tok[SLOPN_LOGIN_MAX + 8], buf[SLOPN_LOGIN_MAX];
	size_t room = slopn_login_token_room();
	/* A few KiB: the line less our client's other fields. */
	assert_true(room > 3500 && room < SLOPN_LOGIN_MAX - 100);
	memset(tok, 'x', 300);
	tok[300] = '\0';
	assert_true(slopn_login_token_fits(tok));
	memset(tok, 'x', room);
	tok[room] = '\0';
	assert_true(slopn_login_token_fits(tok));
	/* ... and such a login, with the longest other fields, reaches the hub. */
	static struct slopn_login_request a, b;
	memcpy(a.token, tok, room + 1);
	memset(a.client_version, 'v', sizeof(a.client_version) - 1);
	memset(a.os, 'o', sizeof(a.os) - 1);
	memset(a.client_id, 'c', sizeof(a.client_id) - 1);
	memset(a.instance, 'i', sizeof(a.instance) - 1);
	a.ipv6 = true;
	ssize_t n = slopn_login_request_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(slopn_login_request_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_req_equal(&a, &b);
	tok[room] = 'x';
	tok[room + 1] = '\0';
	assert_false(slopn_login_token_fits(tok));
	/* '"' takes two bytes of the line. */
	memset(tok, '"', room / 2 + 1);
	tok[room / 2 + 1] = '\0';
	assert_false(slopn_login_token_fits(tok));
	tok[room / 2] = '\0';
	assert_true(slopn_login_token_fits(tok));
	assert_false(slopn_login_token_fits(""));
	assert_false(slopn_login_token_fits("\xff\xfe"));
	assert_false(slopn_login_token_fits(NULL));
}

static void one_mebibyte_line_is_refused(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"type\":\"login_request\",\"token\":\"t\",\"pad\":\"", 44);
	big[n - 2] = '"';
	big[n - 1] = '}';
	big[n] = '\0';
	struct slopn_login_request r;
	assert_int_equal(slopn_login_request_parse(big, n, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger"));
	free(big);
}

/* SLOPN_LOGIN_MAX counts the '\n': 4095 bytes of JSON pass, 4096 do not. */
static void login_size_limit(void **state)
{
	(void)state;
	char line[SLOPN_LOGIN_MAX + 2];
	struct slopn_login_request r;
	const char *head = "{\"type\":\"login_request\",\"token\":\"t\",\"pad\":\"";
	size_t hl = strlen(head);
	for (size_t json = SLOPN_LOGIN_MAX - 1; json <= SLOPN_LOGIN_MAX; json++) {
		memset(line, 'p', json);
		memcpy(line, head, hl);
		line[json - 2] = '"';
		line[json - 1] = '}';
		line[json] = '\n';
		int want = json < SLOPN_LOGIN_MAX ? 0 : -1;
		assert_int_equal(slopn_login_request_parse(line, json + 1, &r, err, sizeof(err)), want);
		assert_int_equal(slopn_login_request_parse(line, json, &r, err, sizeof(err)), want);
	}
}

/* Informational strings are cut to fit, on a UTF-8 character boundary, so
 * what was parsed can be formatted again. */
static void long_fields_truncated(void **state)
{
	(void)state;
	char line[1024], cv[200];
	struct slopn_login_request r, back;
	memset(cv, 'v', sizeof(cv));
	/* "é" (2 bytes) straddles the 63-byte limit: it must go entirely. */
	memcpy(cv + SLOPN_SHORT_MAX - 2, "\xc3\xa9", 2);
	cv[150] = '\0';
	snprintf(line, sizeof(line), "{\"type\":\"login_request\",\"token\":\"t\",\"client_version\":\"%s\",\"os\":\"%s\"}",
	         cv, cv);
	assert_int_equal(req(line, &r), 0);
	assert_int_equal(strlen(r.client_version), SLOPN_SHORT_MAX - 2);
	assert_int_equal(strlen(r.os), SLOPN_SHORT_MAX - 2);
	char buf[SLOPN_LOGIN_MAX];
	ssize_t n = slopn_login_request_format(&r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(slopn_login_request_parse(buf, (size_t)n, &back, err, sizeof(err)), 0);
	assert_req_equal(&r, &back);

	/* A 3-byte character that ends exactly at the limit is kept. */
	memset(cv, 'v', sizeof(cv));
	memcpy(cv + SLOPN_SHORT_MAX - 4, "\xe2\x82\xac", 3); /* "€" at bytes 60..62 */
	cv[100] = '\0';
	snprintf(line, sizeof(line), "{\"type\":\"login_request\",\"token\":\"t\",\"os\":\"%s\"}", cv);
	assert_int_equal(req(line, &r), 0);
	assert_int_equal(strlen(r.os), SLOPN_SHORT_MAX - 1);

	/* The hub's message and version likewise. */
	char msg[600];
	memset(msg, 'm', sizeof(msg));
	msg[500] = '\0';
	snprintf(line, sizeof(line), "{\"type\":\"login_response\",\"status\":\"error\",\"message\":\"%s\",\"server_version\":\"%s\"}",
	         msg, cv);
	struct slopn_login_response rs;
	assert_int_equal(resp(line, &rs), 0);
	assert_int_equal(strlen(rs.message), SLOPN_MESSAGE_MAX - 1);
	assert_int_equal(strlen(rs.server_version), SLOPN_SHORT_MAX - 1);
}

static void request_round_trip(void **state)
{
	(void)state;
	struct slopn_login_request a = {0}, b;
	strcpy(a.token, "tok\"en\\");
	strcpy(a.client_version, "slopn-c/1");
	strcpy(a.os, "linux");
	char buf[512];
	ssize_t n = slopn_login_request_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(buf[n], '\0');
	assert_int_equal(strlen(buf), (size_t)n);
	assert_string_equal(buf, "{\"type\":\"login_request\",\"token\":\"tok\\\"en\\\\\","
	                         "\"client_version\":\"slopn-c/1\",\"os\":\"linux\"}\n");
	assert_int_equal(slopn_login_request_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_req_equal(&a, &b);
	/* Too small, down to the byte: the line and its NUL must both fit. */
	assert_int_equal(slopn_login_request_format(&a, buf, 20), -1);
	assert_int_equal(slopn_login_request_format(&a, buf, (size_t)n), -1);
	assert_int_equal(slopn_login_request_format(&a, buf, (size_t)n + 1), n);
	assert_int_equal(slopn_login_request_format(&a, buf, 0), -1);
	/* Ours: the client id and IPv6, only when set. */
	strcpy(a.client_id, "c0ffee");
	a.ipv6 = true;
	assert_request_roundtrip(&a, ",\"client_id\":\"c0ffee\",\"ipv6\":true}\n");
	strcpy(a.instance, "0123456789abcdef");
	assert_request_roundtrip(&a, ",\"client_id\":\"c0ffee\",\"instance\":\"0123456789abcdef\",");
	strcpy(a.instance, "a/b");
	assert_int_equal(slopn_login_request_format(&a, buf, sizeof(buf)), -1);
	a.instance[0] = '\0';
	/* What the parser would refuse, the formatter does not write. */
	strcpy(a.client_id, "no spaces");
	assert_int_equal(slopn_login_request_format(&a, buf, sizeof(buf)), -1);
	memset(a.client_id, 'x', sizeof(a.client_id)); /* no NUL at all */
	assert_int_equal(slopn_login_request_format(&a, buf, sizeof(buf)), -1);
	a.client_id[0] = '\0';
	a.token[0] = '\0';
	assert_int_equal(slopn_login_request_format(&a, buf, sizeof(buf)), -1);
}

static void response_success_and_mask(void **state)
{
	(void)state;
	struct slopn_login_response r;
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2\","
	                      "\"subnet_mask\":\"255.255.255.248\",\"server_vip\":\"10.100.0.1\",\"server_version\":\"x\"}", &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.prefix_len, 29);
	assert_int_equal(ntohl(r.assigned_vip.s_addr), 0x0a640002);
	assert_int_equal(ntohl(r.server_vip.s_addr), 0x0a640001);
	/* The original hub sends no subnet_mask: /24. */
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.9\","
	                      "\"server_vip\":\"10.100.0.1\"}", &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.prefix_len, 24);
	/* Unknown fields are ignored; a message means nothing on success. */
	assert_int_equal(resp("{\"status\":\"success\",\"x\":{\"y\":[null]},\"assigned_vip\":\"10.1.2.3\","
	                      "\"server_vip\":\"10.1.0.1\",\"message\":\"hi\",\"type\":\"login_response\","
	                      "\"subnet_mask\":\"255.255.0.0\"}", &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.prefix_len, 16);
	assert_string_equal(r.message, "");
	assert_string_equal(r.server_version, "");
}


#define OK_V4 "{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2\"," \
              "\"server_vip\":\"10.100.0.1\""
#define OK_V4X(vip, hub) "{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"" vip \
                         "\",\"server_vip\":\"" hub "\"}"

/* Ours: IPv6 inside the tunnel, or not; an old hub sends none of it. */
static void response_ipv6(void **state)
{
	(void)state;
	struct slopn_login_response r;
	assert_int_equal(resp(OK_V4 ",\"assigned_vip6\":\"fd12:3456:789a::2\",\"server_vip6\":"
	                      "\"fd12:3456:789a::1\",\"prefix_len6\":64,\"egress6\":true,\"dns6\":\"fd12:3456:789a::1\"}", &r), 0);
	assert_true(r.ok);
	char a[INET6_ADDRSTRLEN];
	assert_string_equal(inet_ntop(AF_INET6, &r.assigned_vip6, a, sizeof(a)), "fd12:3456:789a::2");
	assert_string_equal(inet_ntop(AF_INET6, &r.server_vip6, a, sizeof(a)), "fd12:3456:789a::1");
	assert_string_equal(inet_ntop(AF_INET6, &r.dns6, a, sizeof(a)), "fd12:3456:789a::1");
	assert_int_equal(r.prefix_len6, 64);
	assert_true(r.egress6);
	assert_int_equal(resp(OK_V4 "}", &r), 0);
	assert_int_equal(r.prefix_len6, 0);
	assert_false(r.egress6);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&r.assigned_vip6));
	/* Not all three, or not right: no IPv6, the rest of the login stands. */
	static const char *const bad[] = {
		OK_V4 ",\"assigned_vip6\":\"fd00::2\"}",                            /* alone */
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\"}",
		OK_V4 ",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":0}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":128}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":\"64\"}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":64.5}",
		OK_V4 ",\"assigned_vip6\":\"10.100.0.2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"::\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"ff02::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2%eth0\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":6,\"server_vip6\":\"fd00::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":1}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":63}",
		OK_V4 ",\"assigned_vip6\":\"fe80::2\",\"server_vip6\":\"fe80::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"::1\",\"server_vip6\":\"::2\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00:0:0:1::1\",\"prefix_len6\":64}",
		OK_V4 ",\"assigned_vip6\":\"fd00::3\",\"server_vip6\":\"fd00::4\",\"prefix_len6\":127}",
		OK_V4 ",\"assigned_vip6\":\"fd00::1\",\"server_vip6\":\"fd00::1\",\"prefix_len6\":64}",
		OK_V4 ",\"dns6\":\"10.0.0.1\"}",
		OK_V4 ",\"dns6\":6}",
		OK_V4 ",\"dns6\":\"::1\"}",
		OK_V4 ",\"dns6\":\"fe80::1\"}",
		OK_V4 ",\"dns6\":\"ff02::fb\"}",
		OK_V4 ",\"dns6\":\"::ffff:10.0.0.1\"}",
		OK_V4 ",\"egress6\":\"yes\"}",
		OK_V4 ",\"egress6\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (resp(bad[i], &r) != 0)
			fail_msg("%s: refused (%s), not taken as absent", bad[i], err);
		assert_true(r.ok);
		assert_int_equal(r.assigned_vip.s_addr, htonl(0x0a640002));
		assert_int_equal(r.prefix_len, 24);
		assert_int_equal(r.prefix_len6, 0);
		assert_true(IN6_IS_ADDR_UNSPECIFIED(&r.assigned_vip6));
		assert_true(IN6_IS_ADDR_UNSPECIFIED(&r.server_vip6));
		assert_true(IN6_IS_ADDR_UNSPECIFIED(&r.dns6));
		assert_false(r.egress6);
		assert_int_equal(r.ignored.n, 1);
		assert_non_null(strstr(r.ignored.why, "6\""));
	}
	assert_int_equal(resp(bad[0], &r), 0);
	assert_string_equal(r.ignored.why, "fields \"assigned_vip6\", \"server_vip6\" and \"prefix_len6\" come together");
	assert_int_equal(resp(OK_V4 ",\"assigned_vip6\":\"fd00::3\",\"server_vip6\":\"fd00::4\",\"prefix_len6\":127}",
	                      &r), 0);
	assert_string_equal(r.ignored.why, "fields \"assigned_vip6\" and \"server_vip6\" are not two addresses of one /127");
	/* The others stay beside wrong addresses. */
	assert_int_equal(resp(OK_V4 ",\"prefix_len6\":64,\"egress6\":true,\"dns6\":\"fd00::53\"}", &r), 0);
	assert_int_equal(r.prefix_len6, 0);
	assert_true(r.egress6);
	assert_false(IN6_IS_ADDR_UNSPECIFIED(&r.dns6));
	assert_int_equal(r.ignored.n, 1);
	assert_int_equal(resp(OK_V4 ",\"assigned_vip6\":\"fd00::2\",\"server_vip6\":\"fd00::3\",\"prefix_len6\":126}",
	                      &r), 0);
	assert_int_equal(r.prefix_len6, 126);
	assert_int_equal(r.ignored.n, 0);
}

static void response_error(void **state)
{
	(void)state;
	struct slopn_login_response r;
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"error\",\"message\":\"Invalid authentication token\"}", &r), 0);
	assert_false(r.ok);
	assert_string_equal(r.message, "Invalid authentication token");
}

static void response_bad_input(void **state)
{
	(void)state;
	struct slopn_login_response r;
	static const char *const bad[] = {
		"{}",
		"{\"type\":\"login_response\",\"status\":\"maybe\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.300\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2\",\"server_vip\":1}",
		"{\"type\":\"login_request\",\"status\":\"error\"}",
		"{\"type\":\"login_response\"}",
		"{\"type\":\"login_response\",\"status\":true}",
		"{\"status\":\"error\"}",
		"[{\"type\":\"login_response\",\"status\":\"error\"}]",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\" 10.100.0.2\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"010.100.0.2\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"fe80::1\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2xxxxxxxxxxxxxxxxxxxxxx\",\"server_vip\":\"10.100.0.1\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2\"}",
		OK_V4X("0.100.0.2", "0.100.0.1"),
		OK_V4X("127.100.0.2", "127.100.0.1"),
		OK_V4X("224.100.0.2", "224.100.0.1"),
		OK_V4X("250.100.0.2", "250.100.0.1"),
		OK_V4X("10.100.0.255", "10.100.0.1"),  /* the /24's broadcast */
		OK_V4X("10.100.0.0", "10.100.0.1"),    /* its network */
		OK_V4X("10.100.0.2", "10.100.1.1"),    /* two subnets */
		/* No host of one /24 (or the mask's subnet). */
		OK_V4X("10.100.0.1", "10.100.0.1"),    /* the hub's own */
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.4\",\"server_vip\":\"10.100.0.5\",\"subnet_mask\":\"255.255.255.252\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.1.2\",\"server_vip\":\"10.100.0.1\",\"subnet_mask\":\"0.0.0.0\"}",
		/* Mandatory, whatever a key given twice said before. */
		OK_V4 ",\"assigned_vip\":\"10.100.0\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(resp(bad[i], &r), -1);
		assert_err_printable();
		assert_false(r.ok); /* a refusal never looks like a success */
	}
	assert_int_equal(resp(OK_V4X("10.100.0.2", "10.100.1.1"), &r), -1);
	assert_string_equal(err, "fields \"assigned_vip\" 10.100.0.2 and \"server_vip\" 10.100.1.1 are "
	                         "not two addresses of one /24");
	/* The widest and the narrowest taken. */
	assert_int_equal(resp(OK_V4 ",\"subnet_mask\":\"255.255.0.0\"}", &r), 0);
	assert_int_equal(r.prefix_len, 16);
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":"
	                      "\"10.100.0.6\",\"server_vip\":\"10.100.0.5\",\"subnet_mask\":\"255.255.255.252\"}",
	                      &r), 0);
	assert_int_equal(r.prefix_len, 30);
}

/* Optional fields that are not right are taken as absent; an invalid
 * subnet_mask so is the /24 the original's clients always take (none
 * wider, which would route more than a VPN's subnet into the tunnel). */
static void response_optional_fields_ignored(void **state)
{
	(void)state;
	static const struct {
		const char *line, *field;
	} cases[] = {
		{OK_V4 ",\"subnet_mask\":\"\"}", NULL}, /* "": unset, not wrong */
		{OK_V4 ",\"subnet_mask\":24}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"/24\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"255.0.255.0\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"255.255.254.255\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"0.0.0.0\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"0.255.255.255\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"255.255.255.255\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"255.255.255.254\"}", "subnet_mask"},
		{OK_V4 ",\"subnet_mask\":\"255.254.0.0\"}", "subnet_mask"},   /* /15: wider than a VPN's */
		{OK_V4 ",\"subnet_mask\":\"128.0.0.0\"}", "subnet_mask"},     /* half of IPv4 */
		{OK_V4 ",\"dns\":\"\"}", NULL},
		{OK_V4 ",\"dns6\":\"\",\"egress6\":\"\",\"prefix_len6\":0}", NULL},
		{OK_V4 ",\"dns\":\"one.one\"}", "dns"},
		{OK_V4 ",\"dns\":[\"10.0.0.1\"]}", "dns"},
		{OK_V4 ",\"dns\":\"::1\"}", "dns"},
		{OK_V4 ",\"dns\":\"127.0.0.53\"}", "dns"},
		{OK_V4 ",\"dns\":\"0.1.2.3\"}", "dns"},
		{OK_V4 ",\"dns\":\"169.254.1.1\"}", "dns"},
		{OK_V4 ",\"dns\":\"224.0.0.251\"}", "dns"},
		{OK_V4 ",\"server_version\":7}", "server_version"},
		{OK_V4 ",\"server_version\":[]}", "server_version"},
	};
	struct slopn_login_response base, r;
	assert_int_equal(resp(OK_V4 "}", &base), 0);
	assert_int_equal(base.ignored.n, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[64];
		if (resp(cases[i].line, &r) != 0)
			fail_msg("%s: refused (%s), not taken as absent", cases[i].line, err);
		assert_resp_equal(&base, &r);
		assert_int_equal(r.dns.s_addr, 0);
		assert_int_equal(r.ignored.n, cases[i].field ? 1 : 0);
		if (!cases[i].field) {
			assert_string_equal(r.ignored.why, "");
			continue;
		}
		snprintf(want, sizeof(want), "field \"%s\" ", cases[i].field);
		if (strncmp(r.ignored.why, want, strlen(want)) != 0)
			fail_msg("%s: ignored.why '%s' does not name the field", cases[i].line, r.ignored.why);
	}
	assert_int_equal(resp(OK_V4 ",\"subnet_mask\":\"128.0.0.0\"}", &r), 0);
	assert_string_equal(r.ignored.why, "field \"subnet_mask\" is not a contiguous netmask from /16 to /30");
	/* A refusal's message likewise; a refusal it stays. */
	assert_int_equal(resp("{\"type\":\"login_response\",\"status\":\"error\",\"message\":5}", &r), 0);
	assert_false(r.ok);
	assert_string_equal(r.message, "");
	assert_int_equal(r.ignored.n, 1);
	/* A key given twice: the last counts. */
	assert_int_equal(resp(OK_V4 ",\"dns\":\"x\",\"dns\":\"10.100.0.1\",\"status\":\"success\"}", &r), 0);
	assert_int_equal(r.dns.s_addr, htonl(0x0a640001));
	assert_int_equal(r.ignored.n, 0);
}

static void response_round_trip(void **state)
{
	(void)state;
	struct slopn_login_response a = {.ok = true, .prefix_len = 24}, b;
	inet_pton(AF_INET, "10.100.0.7", &a.assigned_vip);
	inet_pton(AF_INET, "10.100.0.1", &a.server_vip);
	strcpy(a.server_version, "0.1.0");
	char buf[512];
	ssize_t n = slopn_login_response_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	/* The original hub's field order, compact, one line. */
	assert_string_equal(buf, "{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.7\","
	                         "\"subnet_mask\":\"255.255.255.0\",\"server_vip\":\"10.100.0.1\",\"server_version\":\"0.1.0\"}\n");
	assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_resp_equal(&a, &b);
	assert_int_equal(slopn_login_response_format(&a, buf, (size_t)n), -1); /* too small */
	/* The hub's DNS server rides along only when set. */
	inet_pton(AF_INET, "10.100.0.1", &a.dns);
	n = slopn_login_response_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, ",\"dns\":\"10.100.0.1\"}"));
	assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_int_equal(b.dns.s_addr, a.dns.s_addr);
	assert_int_equal(slopn_login_response_format(&a, buf, 10), -1);

	inet_pton(AF_INET, "10.100.0.2", &a.assigned_vip); /* a host of every /16../30 */
	for (unsigned pl = SLOPN_PREFIX_MIN; pl <= 30; pl++) {
		a.prefix_len = pl;
		n = slopn_login_response_format(&a, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
		assert_resp_equal(&a, &b);
	}
	a.prefix_len = 0;
	assert_int_equal(slopn_login_response_format(&a, buf, sizeof(buf)), -1);
	a.prefix_len = 32;
	assert_int_equal(slopn_login_response_format(&a, buf, sizeof(buf)), -1);

	/* IPv6 rides along only when set, and as the parser wants it. */
	a.prefix_len = 24;
	a.dns.s_addr = 0;
	inet_pton(AF_INET6, "fd00:1:2:3::7", &a.assigned_vip6);
	inet_pton(AF_INET6, "fd00:1:2:3::1", &a.server_vip6);
	a.prefix_len6 = 64;
	n = slopn_login_response_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, ",\"assigned_vip6\":\"fd00:1:2:3::7\",\"server_vip6\":"
	                            "\"fd00:1:2:3::1\",\"prefix_len6\":64}\n"));
	assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_resp_equal(&a, &b);
	a.egress6 = true;
	inet_pton(AF_INET6, "fd00:1:2:3::53", &a.dns6);
	n = slopn_login_response_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_resp_equal(&a, &b);
	a.prefix_len6 = 128;
	assert_int_equal(slopn_login_response_format(&a, buf, sizeof(buf)), -1);
	a.prefix_len6 = 64;
	memset(&a.server_vip6, 0, 16);
	assert_int_equal(slopn_login_response_format(&a, buf, sizeof(buf)), -1);
	memset(&a, 0, sizeof(a));
	a.ok = true;
	a.prefix_len = 24;
	inet_pton(AF_INET, "10.100.0.7", &a.assigned_vip);
	inet_pton(AF_INET, "10.100.0.1", &a.server_vip);

	/* The refusal. */
	struct slopn_login_response e = {.ok = false, .prefix_len = 24};
	strcpy(e.message, "Invalid authentication token");
	strcpy(e.server_version, "0.1.0");
	n = slopn_login_response_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "{\"type\":\"login_response\",\"status\":\"error\","
	                         "\"message\":\"Invalid authentication token\",\"server_version\":\"0.1.0\"}\n");
	assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_resp_equal(&e, &b);
	assert_int_equal(slopn_login_response_format(&e, buf, 30), -1);
}

/* Feed a stream through a linebuf in pieces of the sizes in pieces[]
 * (repeated); parse each line as a login request into out[]. Returns the
 * number of lines. */
static int feed_in_pieces(const char *stream, const size_t *pieces, size_t npieces,
                          struct slopn_login_request *out, int max)
{
	struct linebuf lb;
	static char storage[LINEBUF_CAP + 1];
	size_t len = strlen(stream), k = 0;
	int lines = 0;
	linebuf_init(&lb, storage, LINEBUF_CAP);
	for (size_t off = 0; off < len;) {
		size_t n = pieces[k++ % npieces], used;
		if (n > len - off)
			n = len - off;
		/* One read may hold several lines: hand them out one by one. */
		for (size_t done = 0; done < n; done += used) {
			enum linebuf_result r = linebuf_feed(&lb, (const uint8_t *)stream + off + done,
			                                     n - done, &used);
			assert_int_not_equal(r, LINEBUF_OVERFLOW);
			if (r == LINEBUF_LINE) {
				assert_true(lines < max);
				assert_int_equal(slopn_login_request_parse(lb.buf, lb.len, &out[lines], err,
				                                           sizeof(err)), 0);
				lines++;
				linebuf_next(&lb);
			}
		}
		off += n;
	}
	return lines;
}

/* A login that arrives one byte at a time, or in odd pieces, parses the same. */
static void login_split_across_reads(void **state)
{
	(void)state;
	const char *msg = "{\"type\":\"login_request\",\"token\":\"split\",\"client_version\":\"v\u00e9\",\"os\":\"linux\"}\n";
	struct slopn_login_request whole, q[2];
	assert_int_equal(req(msg, &whole), 0);

	static const size_t one[] = {1}, odd[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}, big[] = {7, 33};
	static const struct { const size_t *p; size_t n; } plans[] = {
		{one, 1}, {odd, sizeof(odd) / sizeof(odd[0])}, {big, 2},
	};
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		assert_int_equal(feed_in_pieces(msg, plans[i].p, plans[i].n, q, 1), 1);
		assert_req_equal(&q[0], &whole);
	}
	for (size_t piece = 1; piece <= strlen(msg); piece++) {
		assert_int_equal(feed_in_pieces(msg, &piece, 1, q, 1), 1);
		assert_req_equal(&q[0], &whole);
	}

	/* Two logins in one stream, the second starting inside the read that
	 * ends the first. */
	char two[512];
	snprintf(two, sizeof(two), "%s{\"type\":\"login_request\",\"token\":\"second\"}\n", msg);
	assert_int_equal(feed_in_pieces(two, odd, sizeof(odd) / sizeof(odd[0]), q, 2), 2);
	assert_req_equal(&q[0], &whole);
	assert_string_equal(q[1].token, "second");
}

static void msg_type(void **state)
{
	(void)state;
	char t[32];
	assert_int_equal(slopn_msg_type("{\"type\":\"ping\",\"x\":1}", 21, t, sizeof(t)), 0);
	assert_string_equal(t, "ping");
	assert_int_equal(slopn_msg_type("{\"x\":1}", 7, t, sizeof(t)), 0);
	assert_string_equal(t, "");
	assert_int_equal(slopn_msg_type("[1]", 3, t, sizeof(t)), -1);
	assert_int_equal(slopn_msg_type("nope", 4, t, sizeof(t)), -1);
	assert_int_equal(slopn_msg_type("{\"type\":7}\n", 11, t, sizeof(t)), 0);
	assert_string_equal(t, "");
	/* Truncated to fit; no room at all is an error, not an overrun. */
	char small[4];
	assert_int_equal(slopn_msg_type("{\"type\":\"keepalive\"}", 20, small, sizeof(small)), 0);
	assert_string_equal(small, "kee");
	assert_int_equal(slopn_msg_type("{\"type\":\"ping\"}", 15, small, 0), -1);
}

/* The hub's later word on its way out: parsed, written and parsed back;
 * anything else refused with a reason, and nothing half-set. */
static void network_message(void **state)
{
	(void)state;
	struct slopn_network n;
	char why[160], buf[128];
	const char *on = "{\"type\":\"network\",\"egress6\":true,\"later\":[1]}\n";
	assert_int_equal(slopn_network_parse(on, strlen(on), &n, why, sizeof(why)), 0);
	assert_true(n.egress6);
	assert_int_equal(slopn_network_parse("{\"type\":\"network\"}", 18, &n, why, sizeof(why)), 0);
	assert_false(n.egress6);
	static const char *bad[][2] = {
		{"{\"type\":\"network\",\"egress6\":1}", "field \"egress6\" is not true or false"},
		{"{\"type\":\"networks\",\"egress6\":true}", "field \"type\" is not \"network\""},
		{"{\"egress6\":true}", "field \"type\" is missing"},
		{"[\"network\"]", "not a JSON object"},
		{"{\"type\":\"network\",\"egress6\":true", NULL},
		{"", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n.egress6 = true;
		assert_int_equal(slopn_network_parse(bad[i][0], strlen(bad[i][0]), &n, why, sizeof(why)), -1);
		assert_false(n.egress6);
		if (bad[i][1])
			assert_string_equal(why, bad[i][1]);
		else
			assert_true(strncmp(why, "not JSON", 8) == 0);
	}
	assert_int_equal(slopn_network_parse(NULL, 0, &n, why, sizeof(why)), -1);
	char big[SLOPN_LOGIN_MAX + 64];
	int k = snprintf(big, sizeof(big), "{\"type\":\"network\",\"egress6\":true,\"pad\":\"");
	memset(big + k, 'x', sizeof(big) - (size_t)k - 3);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	assert_int_equal(slopn_network_parse(big, strlen(big), &n, why, sizeof(why)), -1);
	assert_string_equal(why, "message is larger than 4096 bytes");

	struct slopn_network w = {.egress6 = true};
	ssize_t len = slopn_network_format(&w, buf, sizeof(buf));
	assert_true(len > 0);
	assert_string_equal(buf, "{\"type\":\"network\",\"egress6\":true}\n");
	char t[32];
	assert_int_equal(slopn_msg_type(buf, (size_t)len, t, sizeof(t)), 0);
	assert_string_equal(t, "network");
	assert_int_equal(slopn_network_parse(buf, (size_t)len, &n, why, sizeof(why)), 0);
	assert_true(n.egress6);
	assert_int_equal(slopn_network_format(&w, buf, (size_t)len), -1); /* no room for the NUL */
}

/* The hub's word that its way from the client narrowed: parsed, written and
 * parsed back; a size QUIC cannot have, or anything else, refused with a
 * reason and nothing set. */
static void path_message(void **state)
{
	(void)state;
	struct slopn_path p;
	char why[160], buf[128];
	const char *ok = "{\"type\":\"path\",\"max_udp_payload\":1272,\"later\":{}}\n";
	assert_int_equal(slopn_path_parse(ok, strlen(ok), &p, why, sizeof(why)), 0);
	assert_int_equal(p.max_udp_payload, 1272);
	static const char *bad[][2] = {
		{"{\"type\":\"path\"}", "field \"max_udp_payload\" is missing"},
		{"{\"type\":\"path\",\"max_udp_payload\":1199}",
		 "field \"max_udp_payload\" is not a number of 1200..65527"},
		{"{\"type\":\"path\",\"max_udp_payload\":65528}",
		 "field \"max_udp_payload\" is not a number of 1200..65527"},
		{"{\"type\":\"path\",\"max_udp_payload\":-1272}",
		 "field \"max_udp_payload\" is not a number of 1200..65527"},
		{"{\"type\":\"path\",\"max_udp_payload\":1272.5}",
		 "field \"max_udp_payload\" is not a number of 1200..65527"},
		{"{\"type\":\"path\",\"max_udp_payload\":\"1272\"}",
		 "field \"max_udp_payload\" is not a number of 1200..65527"},
		{"{\"type\":\"network\",\"max_udp_payload\":1272}", "field \"type\" is not \"path\""},
		{"{\"max_udp_payload\":1272}", "field \"type\" is missing"},
		{"[\"path\"]", "not a JSON object"},
		{"{\"type\":\"path\",\"max_udp_payload\":1272", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.max_udp_payload = 1;
		assert_int_equal(slopn_path_parse(bad[i][0], strlen(bad[i][0]), &p, why, sizeof(why)), -1);
		assert_int_equal(p.max_udp_payload, 0);
		if (bad[i][1])
			assert_string_equal(why, bad[i][1]);
		else
			assert_true(strncmp(why, "not JSON", 8) == 0);
	}
	assert_int_equal(slopn_path_parse(NULL, 0, &p, why, sizeof(why)), -1);

	struct slopn_path w = {.max_udp_payload = 1232};
	ssize_t len = slopn_path_format(&w, buf, sizeof(buf));
	assert_true(len > 0);
	assert_string_equal(buf, "{\"type\":\"path\",\"max_udp_payload\":1232}\n");
	char t[32];
	assert_int_equal(slopn_msg_type(buf, (size_t)len, t, sizeof(t)), 0);
	assert_string_equal(t, "path");
	assert_int_equal(slopn_path_parse(buf, (size_t)len, &p, why, sizeof(why)), 0);
	assert_int_equal(p.max_udp_payload, 1232);
	assert_int_equal(slopn_path_format(&w, buf, (size_t)len), -1); /* no room for the NUL */
	w.max_udp_payload = 1199;
	assert_int_equal(slopn_path_format(&w, buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_from_the_original_client),
		cmocka_unit_test(request_optional_and_unknown_fields),
		cmocka_unit_test(request_text_fields_cleaned),
		cmocka_unit_test(request_bad_input),
		cmocka_unit_test(request_client_id_and_ipv6),
		cmocka_unit_test(request_optional_fields_ignored),
		cmocka_unit_test(null_and_empty_are_absent),
		cmocka_unit_test(request_token_never_truncated),
		cmocka_unit_test(token_fits_a_login),
		cmocka_unit_test(one_mebibyte_line_is_refused),
		cmocka_unit_test(login_size_limit),
		cmocka_unit_test(long_fields_truncated),
		cmocka_unit_test(request_round_trip),
		cmocka_unit_test(response_success_and_mask),
		cmocka_unit_test(response_ipv6),
		cmocka_unit_test(response_error),
		cmocka_unit_test(response_bad_input),
		cmocka_unit_test(response_optional_fields_ignored),
		cmocka_unit_test(response_round_trip),
		cmocka_unit_test(login_split_across_reads),
		cmocka_unit_test(msg_type),
		cmocka_unit_test(network_message),
		cmocka_unit_test(path_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
