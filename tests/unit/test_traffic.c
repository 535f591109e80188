/* Per-token totals: traffic.json parsing (good, bad, round trip) and the
 * store on disk (missing file, sessions added, written and read back). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/traffic.h"
#include "proto/trafficfile.h"

static int parse(const char *text, struct traffic_entry **v, size_t *n, char *err, size_t errlen)
{
	err[0] = '\0';
	return trafficfile_parse(text, strlen(text), v, n, err, errlen);
}

static void file_good(void **state)
{
	(void)state;
	struct traffic_entry *v;
	size_t n;
	char err[200];
	assert_int_equal(parse("{\"version\":1,\"tokens\":[]}", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(parse("{\"version\":1,\"tokens\":[{\"name\":\"alice\",\"rx_bytes\":9007199254740993,"
	                       "\"rx_pkts\":2,\"tx_bytes\":3,\"tx_pkts\":4,\"sessions\":5,\"last_seen\":1700000000,"
	                       "\"last_remote\":\"192.0.2.11:4000\",\"later\":true},"
	                       "{\"name\":\"shared\",\"last_seen\":null,\"last_remote\":null}]}",
	                       &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "alice");
	assert_true(v[0].rx_bytes == 9007199254740993ULL); /* 64 bits, not a double */
	assert_int_equal(v[0].rx_pkts, 2);
	assert_int_equal(v[0].tx_bytes, 3);
	assert_int_equal(v[0].tx_pkts, 4);
	assert_int_equal(v[0].sessions, 5);
	assert_int_equal(v[0].last_seen, 1700000000);
	assert_string_equal(v[0].last_remote, "192.0.2.11:4000");
	assert_string_equal(v[1].name, "shared");
	assert_int_equal(v[1].sessions, 0);
	assert_int_equal(v[1].last_seen, 0);
	assert_string_equal(v[1].last_remote, "");

	/* Formatted and parsed back: the same entries. */
	char *text = trafficfile_format(v, n);
	struct traffic_entry *w;
	size_t m;
	assert_non_null(text);
	assert_int_equal(parse(text, &w, &m, err, sizeof(err)), 0);
	assert_int_equal(m, 2);
	assert_memory_equal(v, w, 2 * sizeof(*v));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	free(v);
	free(w);
}

static void file_bad(void **state)
{
	(void)state;
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"", "line 1 column 0: "},
		{"{\"version\":1,\"tokens\":[", "line 1 column 23: "},
		{"[]", "expected a JSON object"},
		{"{\"version\":2,\"tokens\":[]}", "version 2: expected 1"},
		{"{\"version\":1}", "tokens: expected an array"},
		{"{\"version\":1,\"tokens\":[7]}", "tokens[0]: expected an object"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a b\"}]}", "tokens[0].name: expected 1-64"},
		{"{\"version\":1,\"tokens\":[{}]}", "tokens[0].name: expected 1-64"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"rx_bytes\":-1}]}", "tokens[0].rx_bytes: expected an integer >= 0"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"tx_pkts\":1.5}]}", "tokens[0].tx_pkts: expected an integer >= 0"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sessions\":\"3\"}]}", "tokens[0].sessions: expected"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"last_seen\":-5}]}", "tokens[0].last_seen: expected"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"last_seen\":253402300800}]}", "tokens[0].last_seen: expected a Unix time"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"last_remote\":5}]}", "tokens[0].last_remote: expected"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"last_remote\":\"a\\nb\"}]}", "tokens[0].last_remote: expected"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"last_remote\":\"a\\u0000b\"}]}", "is not allowed"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"last_remote\":\"0123456789012345678901234567890123456789012345678901234567890123\"}]}",
		 "tokens[0].last_remote: expected"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "tokens[1].name: 'a' appears twice"},
		/* several repeats: the first in file order is named */
		{"{\"version\":1,\"tokens\":[{\"name\":\"b\"},{\"name\":\"a\"},{\"name\":\"c\"},"
		 "{\"name\":\"a\"},{\"name\":\"b\"}]}", "tokens[3].name: 'a' appears twice"},
		{"{\"version\":1,\"version\":1,\"tokens\":[]}", "duplicate object key"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct traffic_entry *v = (void *)1;
		size_t n = 7;
		char err[200];
		assert_int_equal(parse(cases[i].text, &v, &n, err, sizeof(err)), -1);
		assert_null(v);
		assert_int_equal(n, 0);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].err);
	}
}

static bool not_alice(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "alice") != 0;
}

/* dir (a mkdtemp template) made, and traffic.json in it holding text. */
static void write_store(char *dir, char *path, size_t len, const char *text)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, len, "%s/traffic.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Names come in any order (made, or from a file someone wrote); each is
 * found, once, and the store stays in name order for its look-ups. */
static void order(void **state)
{
	(void)state;
	char dir[] = "/tmp/slopn-traffic-XXXXXX", path[256], err[256];
	write_store(dir, path, sizeof(path),
	            "{\"version\":1,\"tokens\":[{\"name\":\"m\",\"sessions\":1},{\"name\":\"c\",\"sessions\":2},"
	            "{\"name\":\"x\",\"sessions\":3},{\"name\":\"a\",\"sessions\":4}]}");
	struct traffic_store t;
	assert_int_equal(traffic_load(&t, path, err, sizeof(err)), 0);
	const char *names[] = {"a", "c", "m", "x"};
	const uint64_t sessions[] = {4, 2, 1, 3};
	for (size_t i = 0; i < 4; i++) {
		assert_non_null(traffic_find(&t, names[i]));
		assert_int_equal(traffic_find(&t, names[i])->sessions, sessions[i]);
	}
	assert_null(traffic_find(&t, "b"));
	assert_null(traffic_find(&t, ""));
	assert_null(traffic_find(&t, "zz"));
	/* Made before the first, between two, after the last, and again. */
	const char *more[] = {"0", "d", "z", "d", "0", "z", "b"};
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(traffic_get(&t, more[i])->name, more[i]);
	assert_int_equal(t.n, 8);
	for (size_t i = 1; i < t.n; i++)
		assert_true(strcmp(t.v[i - 1].name, t.v[i].name) < 0);
	assert_int_equal(traffic_find(&t, "x")->sessions, 3);
	traffic_free(&t);
	unlink(path);
	rmdir(dir);
}

static void store(void **state)
{
	(void)state;
	char dir[] = "/tmp/slopn-traffic-XXXXXX", path[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/traffic.json", dir);
	struct traffic_store t;
	assert_int_equal(traffic_load(&t, path, err, sizeof(err)), 0); /* missing: empty */
	assert_int_equal(t.n, 0);
	struct traffic_entry *a = traffic_get(&t, "alice");
	assert_non_null(a);
	traffic_add_session(a, 1000, 10, 2000, 20, 500, "192.0.2.11:1");
	/* The clock set back between two session ends: the last end counts. */
	traffic_add_session(traffic_get(&t, "alice"), 1, 1, 1, 1, 400, "192.0.2.99:1");
	traffic_add_session(traffic_get(&t, "bob"), 5, 1, 0, 0, 600, "192.0.2.12:2");
	traffic_add_session(traffic_get(&t, "bob"), 5, 1, 0, 0, 0, NULL); /* counted, not seen */
	assert_int_equal(t.n, 2);
	a = traffic_find(&t, "alice");
	assert_int_equal(a->rx_bytes, 1001);
	assert_int_equal(a->tx_pkts, 21);
	assert_int_equal(a->sessions, 2);
	assert_int_equal(a->last_seen, 400);
	assert_string_equal(a->last_remote, "192.0.2.99:1");
	assert_int_equal(traffic_find(&t, "bob")->sessions, 2);
	assert_string_equal(traffic_find(&t, "bob")->last_remote, "192.0.2.12:2");

	assert_int_equal(traffic_write(&t, t.v, t.n, err, sizeof(err)), 0);
	struct traffic_store again;
	assert_int_equal(traffic_load(&again, path, err, sizeof(err)), 0);
	assert_int_equal(again.n, 2);
	assert_memory_equal(again.v, t.v, 2 * sizeof(*t.v));
	assert_int_equal(traffic_keep(&again, not_alice, NULL), 1);
	assert_int_equal(again.n, 1);
	assert_string_equal(again.v[0].name, "bob");
	assert_null(traffic_find(&again, "alice"));
	assert_int_equal(traffic_keep(&again, not_alice, NULL), 0);
	traffic_free(&again);

	/* A file that cannot be replaced stays as it was. */
	free(t.path);
	t.path = strdup("/nonexistent-slopn-dir/traffic.json");
	assert_int_equal(traffic_write(&t, t.v, t.n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create"));
	traffic_free(&t);

	/* A corrupt file: an error, and an empty store that still works. */
	FILE *f = fopen(path, "w");
	fputs("{\"version\":1,\"tokens\":[{\"name\":", f);
	fclose(f);
	assert_int_equal(traffic_load(&t, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1"));
	assert_int_equal(t.n, 0);
	assert_non_null(traffic_get(&t, "carol"));
	traffic_free(&t);
	unlink(path);
	rmdir(dir);
}

/* Totals stop at INT64_MAX, the most the file holds: a total edited in by
 * hand near it, plus a session, is written as that and read back, not
 * written negative and refused at the next start. */
static void saturated(void **state)
{
	(void)state;
	char dir[] = "/tmp/slopn-traffic-XXXXXX", path[256], err[256];
	write_store(dir, path, sizeof(path),
	            "{\"version\":1,\"tokens\":[{\"name\":\"alice\",\"rx_bytes\":9223372036854775802,"
	            "\"sessions\":9223372036854775807}]}");
	struct traffic_store t;
	assert_int_equal(traffic_load(&t, path, err, sizeof(err)), 0);
	traffic_add_session(traffic_get(&t, "alice"), 10, 1, UINT64_MAX, 0, 500, "192.0.2.11:1");
	struct traffic_entry *a = traffic_find(&t, "alice");
	assert_true(a->rx_bytes == INT64_MAX);
	assert_true(a->tx_bytes == INT64_MAX);
	assert_true(a->sessions == INT64_MAX);
	assert_int_equal(a->rx_pkts, 1);
	assert_int_equal(traffic_write(&t, t.v, t.n, err, sizeof(err)), 0);
	struct traffic_store again;
	if (traffic_load(&again, path, err, sizeof(err)) != 0)
		fail_msg("written, then refused: %s", err);
	assert_int_equal(again.n, 1);
	assert_memory_equal(again.v, t.v, sizeof(*t.v));
	traffic_free(&again);
	traffic_free(&t);

	/* Past INT64_MAX by another way (an entry's sum made elsewhere):
	 * written as INT64_MAX all the same. */
	struct traffic_entry e = {.name = "bob", .rx_pkts = UINT64_MAX, .tx_pkts = (uint64_t)INT64_MAX + 1};
	char *text = trafficfile_format(&e, 1);
	struct traffic_entry *v;
	size_t n;
	assert_non_null(text);
	assert_int_equal(parse(text, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(v[0].rx_pkts == INT64_MAX);
	assert_true(v[0].tx_pkts == INT64_MAX);
	free(v);
	free(text);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(file_good),
		cmocka_unit_test(file_bad),
		cmocka_unit_test(store),
		cmocka_unit_test(order),
		cmocka_unit_test(saturated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
