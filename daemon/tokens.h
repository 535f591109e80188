/* The hub's token store: tokens.json in the state directory, held in memory
 * and rewritten atomically on every change (temp file, fsync, rename, fsync
 * of the directory), so a crash or a full disk never loses what was there. */
#ifndef SLOPN_TOKENS_H
#define SLOPN_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "proto/tokenfile.h"

#define TOKEN_SECRET_BYTES 20                     /* 160 bits from GnuTLS */
#define TOKEN_SECRET_LEN (2 * TOKEN_SECRET_BYTES) /* as hex */
/* Tokens in the store at most: its file (written whole at each change,
 * some 4 MiB then) stays well within what the hub reads back (16 MiB). */
#define TOKENS_MAX 10000

struct token_store {
	char *path;
	struct token_entry *v;
	size_t n;
	/* v's indexes in name order, for tokens_find; NULL (out of memory)
	 * makes it scan. Made again whenever v changes. */
	uint32_t *byname;
	/* The file as the hub last read or wrote it: an edit by hand since
	 * then is not written over (tokens_save). */
	bool seen;             /* there was a file */
	struct stat seen_st;
};

/* Load path; a missing file is an empty store. -1 with err naming the
 * problem (the caller names the file) when it cannot be read, -2 when its
 * content is damaged (too large, not JSON, a bad entry): the advice differs. */
int tokens_load(struct token_store *ts, const char *path, char *err, size_t errlen);
void tokens_free(struct token_store *ts);

/* Write the store to its path. 0, or -1 with err; the old file is intact.
 * A file changed on disk since the hub read or wrote it (an edit by hand,
 * not yet loaded with SIGHUP) is not written over: -1, err says so. */
int tokens_save(struct token_store *ts, char *err, size_t errlen);
/* Whether the file is another than the hub last read or wrote (that
 * refusal, not a failed write). */
bool tokens_changed_on_disk(const struct token_store *ts);

struct token_entry *tokens_find(struct token_store *ts, const char *name);

/* The entry whose hash matches secret, or NULL. Every entry is compared,
 * each in constant time, so timing tells nothing about the secrets. */
struct token_entry *tokens_match(struct token_store *ts, const char *secret);

/* New token as want says (name, expires, vip, max_sessions): random
 * secret (written to secret, NUL-terminated), saved to disk before it
 * counts. Returns 0 or a SLOPN_RPC_* code with err; on failure the store
 * is unchanged. */
int tokens_add(struct token_store *ts, const struct token_entry *want,
               char secret[TOKEN_SECRET_LEN + 1], char *err, size_t errlen);
/* Remove by name, saved to disk. 0 or a SLOPN_RPC_* code with err. */
int tokens_remove(struct token_store *ts, const char *name, char *err, size_t errlen);

/* A token's expiry (0: never) and session limit (0: none), saved to disk.
 * 0 or a SLOPN_RPC_* code with err; on failure the token is unchanged. */
int tokens_set(struct token_store *ts, const char *name, int64_t expires, uint32_t max_sessions,
               char *err, size_t errlen);

/* Past its expiry at time now (a token without one never is). */
bool token_expired(const struct token_entry *e, int64_t now);
/* The hash a secret is kept as. */
void token_hash(const char *secret, uint8_t out[32]);
/* Compare two hashes without an early exit. */
bool token_hash_equal(const uint8_t a[32], const uint8_t b[32]);

#endif
