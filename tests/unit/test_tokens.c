/* The token store: tokens.json parsing, and the store on disk (add,
 * duplicate, match, expiry, remove, atomic rewrite, corrupt file). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/tokens.h"
#include "proto/jsonfile.h"
#include "proto/jsonrpc.h"
#include "proto/tokenfile.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* fsync of a directory fails with this errno when set (-Wl,--wrap=fsync). */
static int dir_fsync_errno;
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	struct stat st;
	if (dir_fsync_errno && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = dir_fsync_errno;
		return -1;
	}
	return __real_fsync(fd);
}

static int parse(const char *text, struct token_entry **v, size_t *n, char *err, size_t errlen)
{
	return tokenfile_parse(text, strlen(text), v, n, err, errlen);
}

static void file_good(void **state)
{
	(void)state;
	struct token_entry *v;
	size_t n;
	char err[200];
	assert_int_equal(parse("{\"version\":1,\"tokens\":[]}", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(parse("{\"version\":1,\"tokens\":[{\"name\":\"a.b@c-d_e\",\"sha256\":\"" H64 "\","
	                       "\"created\":5,\"expires\":null,\"vip\":\"10.100.0.9\",\"last_used\":7,\"later\":1},"
	                       "{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":6,\"max_sessions\":65535}]}",
	                       &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "a.b@c-d_e");
	assert_int_equal(v[0].sha256[0], 0x01);
	assert_int_equal(v[0].sha256[31], 0xef);
	assert_int_equal(v[0].created, 5);
	assert_int_equal(v[0].expires, 0);
	assert_int_equal(v[0].last_used, 7);
	assert_int_equal(v[0].vip, 0x0a640009);
	assert_int_equal(v[0].max_sessions, 0);
	assert_int_equal(v[1].max_sessions, 65535);
	/* format, then parse: the same entries. */
	char *text = tokenfile_format(v, n);
	assert_non_null(text);
	/* No limit, no field: an older slopnd reads such a file as before. */
	const char *lim = strstr(text, "\"max_sessions\"");
	assert_non_null(lim);
	assert_true(lim > strstr(text, "\"b\""));
	assert_int_equal(strncmp(lim, "\"max_sessions\": 65535", 21), 0);
	assert_null(strstr(lim + 1, "\"max_sessions\""));
	struct token_entry *w;
	size_t m;
	assert_int_equal(parse(text, &w, &m, err, sizeof(err)), 0);
	assert_int_equal(m, 2);
	assert_memory_equal(v, w, 2 * sizeof(v[0]));
	free(text), free(v), free(w);
}

static void file_bad(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"", "line 1"},
		{"{\"version\":1,\"tokens\":[", "line 1 column"},
		{"{\"version\":1,\"tokens\":[x]}", "unexpected text near 'x'"},
		{"[]", "expected a JSON object"},
		{"{\"tokens\":[]}", "version: missing (expected 1)"},
		{"{\"version\":\"1\",\"tokens\":[]}", "version: expected the number 1"},
		{"{\"version\":2,\"tokens\":[]}", "version 2: expected 1 (a file of a newer slopnd?)"},
		{"{\"version\":0,\"tokens\":[]}", "version 0: expected 1"},
		{"{\"version\":1}", "tokens: expected an array"},
		{"{\"version\":1,\"tokens\":{}}", "tokens: expected an array"},
		{"{\"version\":1,\"tokens\":[5]}", "tokens[0]: expected an object"},
		{"{\"version\":1,\"tokens\":[{\"sha256\":\"" H64 "\",\"created\":1}]}", "tokens[0].name"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a b\",\"sha256\":\"" H64 "\",\"created\":1}]}", "tokens[0].name"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"abc\",\"created\":1}]}", "tokens[0].sha256"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef" "\",\"created\":1}]}", "tokens[0].sha256"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\"}]}", "tokens[0].created: missing"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":-1}]}", "tokens[0].created"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":\"x\"}]}", "tokens[0].created"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"expires\":1.5}]}", "tokens[0].expires"},
		/* Past the year 9999: its expiry timer would be armed in the past for ever. */
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"expires\":18446744073710}]}",
		 "tokens[0].expires: expected a Unix time (integer from 0 to 253402300799"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":253402300800}]}", "tokens[0].created"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.1\"}]}", "tokens[0].vip"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":7}]}", "tokens[0].vip"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"max_sessions\":0}]}", "tokens[0].max_sessions: expected 1-65535 or null"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"max_sessions\":-2}]}", "tokens[0].max_sessions"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"max_sessions\":65536}]}", "tokens[0].max_sessions"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"max_sessions\":\"2\"}]}", "tokens[0].max_sessions"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"max_sessions\":1.5}]}", "tokens[0].max_sessions"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1},"
		 "{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1}]}", "tokens[1].name: 'a' appears twice"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"},"
		 "{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"}]}", "tokens[1].vip: also the fixed VIP of 'a'"},
		/* several repeats: the first in file order is named */
		{"{\"version\":1,\"tokens\":[{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1},{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1},{\"name\":\"c\",\"sha256\":\"" H64 "\",\"created\":1},{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1},{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1}]}", "tokens[3].name: 'a' appears twice"},
		/* a VIP thrice: the first repeat, and who had it first */
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"},{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.6\"},{\"name\":\"c\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"},{\"name\":\"d\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"}]}", "tokens[2].vip: also the fixed VIP of 'a'"},
		/* a VIP repeated before a name is */
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"},{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"},{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1}]}", "tokens[1].vip: also the fixed VIP of 'a'"},
		/* both at one entry: its name first */
		{"{\"version\":1,\"tokens\":[{\"name\":\"a\",\"sha256\":\"" H64 "\",\"created\":1},{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"},{\"name\":\"b\",\"sha256\":\"" H64 "\",\"created\":1,\"vip\":\"10.0.0.5\"}]}", "tokens[2].name: 'b' appears twice"},
		{"{\"version\":1,\"version\":1,\"tokens\":[]}", "duplicate"},
		{"{\"version\":1,\"tokens\":[{\"name\":\"shared\",\"sha256\":\"" H64 "\",\"created\":1}]}", "tokens[0].name: 'shared' is reserved"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct token_entry *v = (void *)1;
		size_t n = 99;
		char err[200] = "";
		assert_int_equal(parse(cases[i][0], &v, &n, err, sizeof(err)), -1);
		assert_null(v);
		assert_int_equal(n, 0);
		if (!strstr(err, cases[i][1]))
			fail_msg("case %zu: error '%s' does not say '%s'", i, err, cases[i][1]);
	}
}

static void names(void **state)
{
	(void)state;
	assert_true(token_name_valid("alice"));
	assert_true(token_name_valid("laptop.bob@home_2-x"));
	char max[66];
	memset(max, 'a', 64);
	max[64] = '\0';
	assert_true(token_name_valid(max));
	max[64] = 'a', max[65] = '\0';
	assert_false(token_name_valid(max));
	assert_false(token_name_valid(""));
	assert_false(token_name_valid("a b"));
	assert_false(token_name_valid("a/b"));
	assert_false(token_name_valid("é"));
}

/* A fresh directory for a store. */
static char *tmpdir(void)
{
	char *d = strdup("/tmp/slopn-tokens-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void store(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[256], err[256];
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	struct token_store ts;
	assert_int_equal(tokens_load(&ts, path, err, sizeof(err)), 0); /* missing: empty */
	assert_int_equal(ts.n, 0);

	char a[TOKEN_SECRET_LEN + 1], b[TOKEN_SECRET_LEN + 1];
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "alice"}, a, err, sizeof(err)), 0);
	assert_int_equal(strlen(a), TOKEN_SECRET_LEN);
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "bob", .expires = 2000000000,
	                                                  .vip = 0x0a640005, .max_sessions = 2},
	                            b, err, sizeof(err)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "alice"}, b, err, sizeof(err)), SLOPN_RPC_NAME_TAKEN);
	assert_non_null(strstr(err, "exists already"));
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "no way"}, b, err, sizeof(err)), JSONRPC_INVALID_PARAMS);
	assert_int_equal(ts.n, 2);

	/* Match by secret; a wrong one matches nothing. */
	assert_ptr_equal(tokens_match(&ts, a), tokens_find(&ts, "alice"));
	char wrong[TOKEN_SECRET_LEN + 1];
	strcpy(wrong, a);
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	assert_null(tokens_match(&ts, wrong));
	assert_null(tokens_match(&ts, ""));

	/* Expiry. */
	const struct token_entry *bob = tokens_find(&ts, "bob");
	assert_false(token_expired(bob, 1999999999));
	assert_true(token_expired(bob, 2000000000));
	assert_false(token_expired(tokens_find(&ts, "alice"), 4000000000));
	assert_int_equal(bob->max_sessions, 2);

	/* What is on disk is what is in memory; no temporary file is left. */
	struct token_store again;
	if (tokens_load(&again, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(again.n, 2);
	assert_memory_equal(again.v, ts.v, 2 * sizeof(*ts.v));
	tokens_free(&again);
	assert_int_equal(count_files(dir), 1);

	/* Set: expiry and limit change, on disk too; the secret stays. */
	assert_int_equal(tokens_set(&ts, "nobody", 0, 1, err, sizeof(err)), SLOPN_RPC_NO_TOKEN);
	assert_int_equal(tokens_set(&ts, "alice", 1900000000, 4, err, sizeof(err)), 0);
	assert_int_equal(tokens_load(&again, path, err, sizeof(err)), 0);
	assert_int_equal(tokens_find(&again, "alice")->expires, 1900000000);
	assert_int_equal(tokens_find(&again, "alice")->max_sessions, 4);
	tokens_free(&again);
	assert_ptr_equal(tokens_match(&ts, a), tokens_find(&ts, "alice"));
	assert_int_equal(tokens_set(&ts, "alice", 0, 0, err, sizeof(err)), 0);
	assert_int_equal(tokens_find(&ts, "alice")->max_sessions, 0);

	/* Remove. */
	assert_int_equal(tokens_remove(&ts, "nobody", err, sizeof(err)), SLOPN_RPC_NO_TOKEN);
	assert_int_equal(tokens_remove(&ts, "alice", err, sizeof(err)), 0);
	assert_null(tokens_match(&ts, a));
	assert_ptr_equal(tokens_match(&ts, b), tokens_find(&ts, "bob"));
	assert_int_equal(tokens_load(&again, path, err, sizeof(err)), 0);
	assert_int_equal(again.n, 1);
	assert_string_equal(again.v[0].name, "bob");
	tokens_free(&again);
	tokens_free(&ts);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* A new store in a directory of its own (returned, to be removed), its
 * file at path, holding one token: alice. */
static char *store_with_alice(struct token_store *ts, char *path, size_t pathlen)
{
	char *dir = tmpdir(), err[256], secret[TOKEN_SECRET_LEN + 1];
	snprintf(path, pathlen, "%s/tokens.json", dir);
	assert_int_equal(tokens_load(ts, path, err, sizeof(err)), 0);
	assert_int_equal(tokens_add(ts, &(struct token_entry){.name = "alice"}, secret, err, sizeof(err)), 0);
	return dir;
}

/* A store whose file cannot be rewritten: every change fails, nothing
 * changes in memory, and the file on disk keeps its old content. */
static void store_write_fails(void **state)
{
	(void)state;
	char path[256], err[256], a[TOKEN_SECRET_LEN + 1];
	struct token_store ts;
	char *dir = store_with_alice(&ts, path, sizeof(path));
	FILE *f = fopen(path, "r");
	char before[4096] = "", after[4096] = "";
	assert_true(fread(before, 1, sizeof(before) - 1, f) > 0);
	fclose(f);
	/* Point the store at a directory that does not exist: the temporary
	 * file cannot be made, as on a full disk or a read-only one. */
	free(ts.path);
	ts.path = strdup("/nonexistent-slopn-dir/tokens.json");
	ts.seen = false; /* no file there was read: none is written over */
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "bob"}, a, err, sizeof(err)), SLOPN_RPC_STORE_FAILED);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(ts.n, 1);
	assert_null(tokens_find(&ts, "bob"));
	assert_int_equal(tokens_remove(&ts, "alice", err, sizeof(err)), SLOPN_RPC_STORE_FAILED);
	assert_int_equal(ts.n, 1);
	assert_non_null(tokens_find(&ts, "alice"));
	assert_int_equal(tokens_set(&ts, "alice", 2000000000, 3, err, sizeof(err)), SLOPN_RPC_STORE_FAILED);
	assert_int_equal(tokens_find(&ts, "alice")->expires, 0);
	assert_int_equal(tokens_find(&ts, "alice")->max_sessions, 0);
	f = fopen(path, "r");
	assert_true(fread(after, 1, sizeof(after) - 1, f) > 0);
	fclose(f);
	assert_string_equal(before, after);
	tokens_free(&ts);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* The file replaced but its directory not synced (an I/O error): the
 * change stands in memory as in the file; undone in memory only, the hub
 * answered "nothing changed" while the file had the change, and took the
 * file for its own write. */
static void store_dir_not_synced(void **state)
{
	(void)state;
	char path[256], err[256], a[TOKEN_SECRET_LEN + 1];
	struct token_store ts;
	char *dir = store_with_alice(&ts, path, sizeof(path));
	dir_fsync_errno = EIO;
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "bob"}, a, err, sizeof(err)), 0);
	assert_non_null(tokens_find(&ts, "bob"));
	assert_int_equal(tokens_remove(&ts, "alice", err, sizeof(err)), 0);
	assert_null(tokens_find(&ts, "alice"));
	assert_int_equal(tokens_set(&ts, "bob", 2000000000, 3, err, sizeof(err)), 0);
	dir_fsync_errno = 0;
	/* The file says the same, and is known as the hub's own. */
	struct token_store back;
	assert_int_equal(tokens_load(&back, path, err, sizeof(err)), 0);
	assert_int_equal(back.n, 1);
	assert_non_null(tokens_find(&back, "bob"));
	assert_int_equal(tokens_find(&back, "bob")->max_sessions, 3);
	tokens_free(&back);
	assert_int_equal(tokens_remove(&ts, "bob", err, sizeof(err)), 0);
	tokens_free(&ts);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* An edit by hand, not loaded yet, is not written over: a change fails
 * and says why; once the file is read again, changes go on. */
static void store_edited_by_hand(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[256], err[256], a[TOKEN_SECRET_LEN + 1];
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	struct token_store ts;
	assert_int_equal(tokens_load(&ts, path, err, sizeof(err)), 0);
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "alice"}, a, err, sizeof(err)), 0);
	const char *edit = "{\"version\":1,\"tokens\":[]}\n";
	FILE *f = fopen(path, "w");
	fputs(edit, f);
	fclose(f);
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "bob"}, a, err, sizeof(err)), SLOPN_RPC_STORE_FAILED);
	assert_non_null(strstr(err, "changed on disk since the hub read it"));
	assert_null(tokens_find(&ts, "bob"));
	char now[4096] = "";
	f = fopen(path, "r");
	assert_true(fread(now, 1, sizeof(now) - 1, f) > 0);
	fclose(f);
	assert_string_equal(now, edit);
	/* Read again (SIGHUP), the edit is in and changes go on. */
	tokens_free(&ts);
	assert_int_equal(tokens_load(&ts, path, err, sizeof(err)), 0);
	assert_int_equal(ts.n, 0);
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "bob"}, a, err, sizeof(err)), 0);
	/* A file removed by hand is a change too. */
	unlink(path);
	assert_int_equal(tokens_remove(&ts, "bob", err, sizeof(err)), SLOPN_RPC_STORE_FAILED);
	assert_non_null(tokens_find(&ts, "bob"));
	tokens_free(&ts);
	rmdir(dir);
	free(dir);
}

/* tokens_find goes by a name index: right after adds and removes in any
 * name order, and after a load; names not there are not found. */
static void find_by_name(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[256], err[256], secret[TOKEN_SECRET_LEN + 1];
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	struct token_store ts;
	assert_int_equal(tokens_load(&ts, path, err, sizeof(err)), 0);
	static const char *const names[] = {"m", "c", "x", "a", "mm", "b"};
	for (size_t i = 0; i < 6; i++) {
		struct token_entry want = {0};
		snprintf(want.name, sizeof(want.name), "%s", names[i]);
		assert_int_equal(tokens_add(&ts, &want, secret, err, sizeof(err)), 0);
		for (size_t j = 0; j < 6; j++) {
			struct token_entry *e = tokens_find(&ts, names[j]);
			if (j <= i)
				assert_string_equal(e->name, names[j]);
			else
				assert_null(e);
		}
	}
	assert_int_equal(tokens_remove(&ts, "c", err, sizeof(err)), 0);
	assert_int_equal(tokens_remove(&ts, "b", err, sizeof(err)), 0); /* the last one */
	assert_null(tokens_find(&ts, "c"));
	assert_null(tokens_find(&ts, "b"));
	assert_null(tokens_find(&ts, "z"));
	assert_null(tokens_find(&ts, ""));
	static const char *const left[] = {"m", "x", "a", "mm"};
	struct token_store again;
	assert_int_equal(tokens_load(&again, path, err, sizeof(err)), 0);
	for (size_t j = 0; j < 4; j++) {
		assert_string_equal(tokens_find(&ts, left[j])->name, left[j]);
		assert_string_equal(tokens_find(&again, left[j])->name, left[j]);
	}
	assert_null(tokens_find(&again, "c"));
	tokens_free(&again);
	tokens_free(&ts);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* The largest store the hub writes (TOKENS_MAX tokens, every field at its
 * longest) it reads back, and it takes no token more: the file stays
 * within what a start reads (it had no limit, and a hub past 16 MiB of
 * tokens.json did not start again). */
static void store_full(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[256], err[256], secret[TOKEN_SECRET_LEN + 1];
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	struct token_store ts;
	assert_int_equal(tokens_load(&ts, path, err, sizeof(err)), 0);
	ts.v = calloc(TOKENS_MAX, sizeof(*ts.v));
	assert_non_null(ts.v);
	for (size_t i = 0; i < TOKENS_MAX; i++) {
		struct token_entry *e = &ts.v[i];
		snprintf(e->name, sizeof(e->name), "%064zu", i);
		memset(e->sha256, 0xab, sizeof(e->sha256));
		e->created = e->expires = e->last_used = JSONFILE_TIME_MAX;
		e->vip = 0x64c80000 | (100 + i / 100) << 8 | (100 + i % 100); /* 100.200.1xx.1xx */
		e->max_sessions = TOKEN_MAX_SESSIONS;
	}
	ts.n = TOKENS_MAX;
	assert_int_equal(tokens_save(&ts, err, sizeof(err)), 0);
	assert_int_equal(tokens_add(&ts, &(struct token_entry){.name = "one-more"}, secret, err,
	                            sizeof(err)), SLOPN_RPC_FULL);
	assert_string_equal(err, "the token store holds 10000 tokens, its most: remove one first");
	assert_int_equal(ts.n, TOKENS_MAX);
	struct token_store again;
	if (tokens_load(&again, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(again.n, TOKENS_MAX);
	assert_null(tokens_find(&again, "one-more"));
	tokens_free(&again);
	tokens_free(&ts);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void store_corrupt(void **state)
{
	(void)state;
	char *dir = tmpdir(), path[256], err[256];
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"version\":1,\n\"tokens\":[{\"name\":\"x\",", f);
	fclose(f);
	struct token_store ts;
	assert_int_equal(tokens_load(&ts, path, err, sizeof(err)), -2); /* damaged, not unreadable */
	assert_non_null(strstr(err, "line 2"));
	tokens_free(&ts);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* Every byte of the two hashes counts: a difference in any one of the 32,
 * the first and the last included, is a mismatch. */
static void hash_equal_every_byte(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	for (int i = 0; i < 32; i++)
		a[i] = (uint8_t)(i * 7 + 1);
	memcpy(b, a, sizeof(b));
	assert_true(token_hash_equal(a, b));
	for (int i = 0; i < 32; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(token_hash_equal(a, b));
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_true(token_hash_equal(a, b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash_equal_every_byte),
		cmocka_unit_test(file_good),
		cmocka_unit_test(file_bad),
		cmocka_unit_test(names),
		cmocka_unit_test(store),
		cmocka_unit_test(store_write_fails),
		cmocka_unit_test(store_dir_not_synced),
		cmocka_unit_test(store_edited_by_hand),
		cmocka_unit_test(store_corrupt),
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(store_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
