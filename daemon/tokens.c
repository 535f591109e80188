#include "daemon/tokens.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "tun/statefile.h"
#include "proto/jsonrpc.h"

#define TOKENS_FILE_MAX (16 << 20)

void token_hash(const char *secret, uint8_t out[32])
{
	gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), out);
}

bool token_expired(const struct token_entry *e, int64_t now)
{
	return e->expires && now >= e->expires;
}

bool token_hash_equal(const uint8_t a[32], const uint8_t b[32])
{
	uint8_t diff = 0;
	for (int i = 0; i < 32; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static int index_cmp(const void *a, const void *b, void *ctx)
{
	const struct token_entry *v = ctx;
	return strcmp(v[*(const uint32_t *)a].name, v[*(const uint32_t *)b].name);
}

/* A reload of 10000 tokens looked each old one up in the new store, and
 * the leases and the login theirs: a scan each made that quadratic. */
static void index_make(struct token_store *ts)
{
	free(ts->byname);
	ts->byname = ts->n ? malloc(ts->n * sizeof(*ts->byname)) : NULL;
	if (!ts->byname)
		return;
	for (size_t i = 0; i < ts->n; i++)
		ts->byname[i] = (uint32_t)i;
	qsort_r(ts->byname, ts->n, sizeof(*ts->byname), index_cmp, ts->v);
}

int tokens_load(struct token_store *ts, const char *path, char *err, size_t errlen)
{
	memset(ts, 0, sizeof(*ts));
	if (!(ts->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Before the read: a change in between is then seen as a change. */
	ts->seen = stat(path, &ts->seen_st) == 0;
	char *buf;
	size_t len;
	int r = statefile_read(path, TOKENS_FILE_MAX, &buf, &len, err, errlen);
	if (r < 0 && errno == EFBIG) /* read, but too large */
		return -2;
	if (r <= 0)
		return r;
	r = tokenfile_parse(buf, len, &ts->v, &ts->n, err, errlen);
	free(buf);
	if (r == 0)
		index_make(ts);
	/* Out of memory is the one failure of the parse that is not the file's. */
	return r < 0 && strcmp(err, "out of memory") ? -2 : r;
}

void tokens_free(struct token_store *ts)
{
	free(ts->path);
	free(ts->v);
	free(ts->byname);
	memset(ts, 0, sizeof(*ts));
}

/* Whether the file is another than the hub last read or wrote. */
bool tokens_changed_on_disk(const struct token_store *ts)
{
	struct stat st;
	if (stat(ts->path, &st) != 0)
		return ts->seen; /* gone */
	return !ts->seen || st.st_dev != ts->seen_st.st_dev || st.st_ino != ts->seen_st.st_ino ||
	       st.st_size != ts->seen_st.st_size ||
	       st.st_mtim.tv_sec != ts->seen_st.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != ts->seen_st.st_mtim.tv_nsec;
}

static bool changed(void *ts)
{
	return tokens_changed_on_disk(ts);
}

static void changed_said(char *err, size_t errlen)
{
	snprintf(err, errlen, "changed on disk since the hub read it: not written over; "
	         "reload the hub (systemctl reload slopnd, or SIGHUP) to load it, then retry");
}

int tokens_save(struct token_store *ts, char *err, size_t errlen)
{
	if (tokens_changed_on_disk(ts)) {
		changed_said(err, errlen);
		return -1;
	}
	char *text = tokenfile_format(ts->v, ts->n);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Secrets are hashed, but names, VIPs and times are still the admin's
	 * business. Checked again just before the rename (an edit while the
	 * file was written and synced); and what is recorded as the hub's own
	 * write is its file (fstat before the rename), not what a stat() of
	 * the path finds after it and the directory's fsync (an edit landing
	 * then was taken for the hub's write, and written over next time). */
	struct statefile_guard g = {.changed = changed, .arg = ts};
	int rv = statefile_write_guarded(ts->path, text, strlen(text), 0600, &g, err, errlen);
	free(text);
	if (g.replaced) {
		ts->seen = true;
		ts->seen_st = g.st;
	}
	if (rv == -2)
		changed_said(err, errlen);
	if (rv == -1 && g.replaced) {
		/* The file is the new one, maybe not on the disk yet (its
		 * directory could not be synced): the change stands, as the file
		 * has it; undone in memory, the two would differ until the next
		 * save. */
		log_warn("%s; the change stands, but a crash of the machine before the next save "
		         "may lose it", err);
		return 0;
	}
	return rv < 0 ? -1 : 0;
}

struct token_entry *tokens_find(struct token_store *ts, const char *name)
{
	if (ts->byname) {
		size_t lo = 0, hi = ts->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(name, ts->v[ts->byname[mid]].name);
			if (!c)
				return &ts->v[ts->byname[mid]];
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		return NULL;
	}
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->v[i].name, name))
			return &ts->v[i];
	return NULL;
}

struct token_entry *tokens_match(struct token_store *ts, const char *secret)
{
	uint8_t h[32];
	token_hash(secret, h);
	struct token_entry *found = NULL;
	for (size_t i = 0; i < ts->n; i++)
		if (token_hash_equal(h, ts->v[i].sha256))
			found = &ts->v[i];
	return found;
}

int tokens_add(struct token_store *ts, const struct token_entry *want,
               char secret[TOKEN_SECRET_LEN + 1], char *err, size_t errlen)
{
	const char *name = want->name;
	if (!token_name_valid(name)) {
		snprintf(err, errlen, "params.name: expected 1-%d characters of A-Z a-z 0-9 . _ @ -",
		         TOKEN_NAME_MAX);
		return JSONRPC_INVALID_PARAMS;
	}
	if (tokens_find(ts, name)) {
		snprintf(err, errlen, "a token named '%s' exists already (remove it first, or pick another name)", name);
		return SLOPN_RPC_NAME_TAKEN;
	}
	if (ts->n >= TOKENS_MAX) {
		snprintf(err, errlen, "the token store holds %zu tokens, its most: remove one first", ts->n);
		return SLOPN_RPC_FULL;
	}
	uint8_t raw[TOKEN_SECRET_BYTES];
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0) {
		snprintf(err, errlen, "no random numbers from GnuTLS");
		return SLOPN_RPC_STORE_FAILED;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(secret + 2 * i, 3, "%02x", raw[i]);
	gnutls_memset(raw, 0, sizeof(raw));
	struct token_entry *v = realloc(ts->v, (ts->n + 1) * sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return SLOPN_RPC_STORE_FAILED;
	}
	ts->v = v;
	struct token_entry *e = &v[ts->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	token_hash(secret, e->sha256);
	e->created = time(NULL);
	e->expires = want->expires;
	e->vip = want->vip;
	e->max_sessions = want->max_sessions;
	ts->n++;
	if (tokens_save(ts, err, errlen) < 0) {
		ts->n--; /* not on disk, so it does not exist */
		gnutls_memset(secret, 0, TOKEN_SECRET_LEN + 1);
		return SLOPN_RPC_STORE_FAILED;
	}
	index_make(ts);
	return 0;
}

int tokens_remove(struct token_store *ts, const char *name, char *err, size_t errlen)
{
	struct token_entry *e = tokens_find(ts, name);
	if (!e) {
		snprintf(err, errlen, "no token named '%s' (see 'slopnctl token list')", name);
		return SLOPN_RPC_NO_TOKEN;
	}
	struct token_entry saved = *e;
	size_t idx = (size_t)(e - ts->v);
	memmove(e, e + 1, (ts->n - idx - 1) * sizeof(*e));
	ts->n--;
	if (tokens_save(ts, err, errlen) < 0) {
		/* Put it back where it was: the file still has it. */
		memmove(&ts->v[idx + 1], &ts->v[idx], (ts->n - idx) * sizeof(*e));
		ts->v[idx] = saved;
		ts->n++;
		return SLOPN_RPC_STORE_FAILED;
	}
	index_make(ts);
	return 0;
}

int tokens_set(struct token_store *ts, const char *name, int64_t expires, uint32_t max_sessions,
               char *err, size_t errlen)
{
	struct token_entry *e = tokens_find(ts, name);
	if (!e) {
		snprintf(err, errlen, "no token named '%s' (see 'slopnctl token list')", name);
		return SLOPN_RPC_NO_TOKEN;
	}
	struct token_entry saved = *e;
	e->expires = expires;
	e->max_sessions = max_sessions;
	if (tokens_save(ts, err, errlen) < 0) {
		*e = saved; /* the file still says what it did */
		return SLOPN_RPC_STORE_FAILED;
	}
	return 0;
}
