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
		"{\"type\":\"login_request\",\"token\":\"t\",\"os\":7}",
		"{\"type\":\"login_request\",\"token\":\"t\",\"token\":\"u\"}", /* duplicate */
		"{\"type\":\"login_request\",\"token\":\"t\"} trailing",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(req(bad[i], &r), -1);
		assert_true(err[0] != '\0'); /* every refusal says why */
	}
}

static void request_token_never_truncated(void **state)
{
	(void)state;
	char line[1024], tok[SLOPN_TOKEN_MAX + 1];
	struct slopn_login_request r;
	memset(tok, 'x', SLOPN_TOKEN_MAX);
	tok[SLOPN_TOKEN_MAX] = '\0';
	snprintf(line, sizeof(line), "{\"type\":\"login_request\",\"token\":\"%s\"}", tok);
	assert_int_equal(req(line, &r), -1);
	assert_non_null(strstr(err, "token"));
	tok[SLOPN_TOKEN_MAX - 1] = '\0'; /* the largest that fits */
	snprintf(line, sizeof(line), "{\"type\":\"login_request\",\"token\":\"%s\"}", tok);
	assert_int_equal(req(line, &r), 0);
	assert_int_equal(strlen(r.token), SLOPN_TOKEN_MAX - 1);
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
	assert_int_equal(slopn_login_request_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(slopn_login_request_format(&a, buf, 20), -1); /* too small */
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
	assert_int_equal(r.prefix_len, 24);
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
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2\",\"server_vip\":\"10.100.0.1\",\"subnet_mask\":\"255.0.255.0\"}",
		"{\"type\":\"login_response\",\"status\":\"success\",\"assigned_vip\":\"10.100.0.2\",\"server_vip\":\"10.100.0.1\",\"subnet_mask\":\"0.0.0.0\"}",
		"{\"type\":\"login_request\",\"status\":\"error\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resp(bad[i], &r), -1);
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
	assert_non_null(strstr(buf, "\"subnet_mask\":\"255.255.255.0\""));
	assert_int_equal(slopn_login_response_parse(buf, (size_t)n, &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* A login that arrives one byte at a time, or in odd pieces, parses the same. */
static void login_split_across_reads(void **state)
{
	(void)state;
	const char *msg = "{\"type\":\"login_request\",\"token\":\"split\",\"os\":\"linux\"}\n";
	size_t len = strlen(msg);
	for (size_t piece = 1; piece <= 7; piece++) {
		struct linebuf lb;
		linebuf_init(&lb);
		int lines = 0;
		for (size_t off = 0; off < len;) {
			size_t n = len - off < piece ? len - off : piece, used;
			enum linebuf_result r = linebuf_feed(&lb, (const uint8_t *)msg + off, n, &used);
			off += used;
			if (r == LINEBUF_LINE) {
				struct slopn_login_request q;
				assert_int_equal(slopn_login_request_parse(lb.buf, lb.len, &q, err, sizeof(err)), 0);
				assert_string_equal(q.token, "split");
				lines++;
				linebuf_next(&lb);
			}
		}
		assert_int_equal(lines, 1);
	}
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_from_the_original_client),
		cmocka_unit_test(request_optional_and_unknown_fields),
		cmocka_unit_test(request_bad_input),
		cmocka_unit_test(request_token_never_truncated),
		cmocka_unit_test(one_mebibyte_line_is_refused),
		cmocka_unit_test(request_round_trip),
		cmocka_unit_test(response_success_and_mask),
		cmocka_unit_test(response_error),
		cmocka_unit_test(response_bad_input),
		cmocka_unit_test(response_round_trip),
		cmocka_unit_test(login_split_across_reads),
		cmocka_unit_test(msg_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
