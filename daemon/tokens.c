#include "daemon/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int tokens_load(struct token_store *ts, const char *path, char *err, size_t errlen)
{
	memset(ts, 0, sizeof(*ts));
	if (!(ts->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	char *buf = malloc(TOKENS_FILE_MAX);
	size_t len = buf ? fread(buf, 1, TOKENS_FILE_MAX, f) : 0;
	int bad = !buf ? ENOMEM : ferror(f) ? EIO : 0;
	bool big = buf && len == TOKENS_FILE_MAX;
	fclose(f);
	int rv = -1;
	if (bad)
		snprintf(err, errlen, "cannot read: %s", strerror(bad));
	else if (big)
		snprintf(err, errlen, "larger than %d MiB", TOKENS_FILE_MAX >> 20);
	else
		rv = tokenfile_parse(buf, len, &ts->v, &ts->n, err, errlen);
	free(buf);
	return rv;
}

void tokens_free(struct token_store *ts)
{
	free(ts->path);
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int tokens_save(const struct token_store *ts, char *err, size_t errlen)
{
	char *text = tokenfile_format(ts->v, ts->n);
	size_t plen = strlen(ts->path);
	char *tmp = malloc(plen + 8), *dir = strdup(ts->path);
	if (!text || !tmp || !dir) {
		snprintf(err, errlen, "out of memory");
		free(text), free(tmp), free(dir);
		return -1;
	}
	snprintf(tmp, plen + 8, "%s.XXXXXX", ts->path);
	int rv = -1, fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* Secrets are hashed, but names, VIPs and times are still the admin's business. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, ts->path) < 0) {
		snprintf(err, errlen, "cannot replace %s: %s", ts->path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* The rename itself must reach the disk before we report success. */
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rv = 0;
out:
	free(text), free(tmp), free(dir);
	return rv;
}

struct token_entry *tokens_find(struct token_store *ts, const char *name)
{
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

int tokens_add(struct token_store *ts, const char *name, int64_t expires, uint32_t vip,
               char secret[TOKEN_SECRET_LEN + 1], char *err, size_t errlen)
{
	if (!token_name_valid(name)) {
		snprintf(err, errlen, "params.name: expected 1-%d characters of A-Z a-z 0-9 . _ @ -",
		         TOKEN_NAME_MAX);
		return JSONRPC_INVALID_PARAMS;
	}
	if (tokens_find(ts, name)) {
		snprintf(err, errlen, "a token named '%s' exists already (remove it first, or pick another name)", name);
		return SLOPN_RPC_NAME_TAKEN;
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
	e->expires = expires;
	e->vip = vip;
	ts->n++;
	if (tokens_save(ts, err, errlen) < 0) {
		ts->n--; /* not on disk, so it does not exist */
		gnutls_memset(secret, 0, TOKEN_SECRET_LEN + 1);
		return SLOPN_RPC_STORE_FAILED;
	}
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
	return 0;
}
