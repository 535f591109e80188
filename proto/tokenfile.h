/* tokens.json, the hub's token store on disk: names, SHA-256 hashes of the
 * secrets (never the secrets), times, fixed VIPs and session limits. Pure: the caller reads
 * and writes the file (daemon/tokens.c does it atomically). */
#ifndef SLOPN_PROTO_TOKENFILE_H
#define SLOPN_PROTO_TOKENFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_NAME_MAX 64
#define TOKENFILE_VERSION 1
/* The name sessions of the shared --token go by: no stored token may have it. */
#define TOKEN_NAME_SHARED "shared"

struct token_entry {
	char name[TOKEN_NAME_MAX + 1];
	uint8_t sha256[32];
	int64_t created;     /* Unix seconds */
	int64_t expires;     /* 0: never */
	int64_t last_used;   /* 0: never */
	uint32_t vip;        /* fixed VIP, host order; 0: from the pool */
	uint32_t max_sessions; /* live sessions at most; 0: no limit */
};

/* The largest per-token session limit: a /16's worth of clients. */
#define TOKEN_MAX_SESSIONS 65535
/* token.add's limit when the caller names none: a person's few devices,
 * not the pool (one holder of a token could take every address). Tokens
 * stored without a limit keep none, and 0 still asks for none. */
#define TOKEN_DEFAULT_SESSIONS 8
/* The furthest expiry token.add and token.set take: 100 years, in days. */
#define TOKEN_EXPIRES_MAX_DAYS 36500

/* 1..64 characters of [A-Za-z0-9._@-]: safe in logs, tables and shells. */
bool token_name_valid(const char *name);

/* Parse the whole file. On success *out is a malloc'd array of *n entries
 * (NULL when empty) and 0 is returned; on error -1 with err saying where
 * ("line 3 column 7: ..." or "tokens[2].name: ...") and nothing allocated. */
int tokenfile_parse(const char *buf, size_t len, struct token_entry **out, size_t *n,
                    char *err, size_t errlen);

/* The file's text, indented, '\n'-terminated; malloc'd, NULL when out of memory. */
char *tokenfile_format(const struct token_entry *v, size_t n);

#endif
