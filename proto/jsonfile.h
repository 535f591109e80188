/* The state directory's JSON files as text. Pure. */
#ifndef SLOPN_PROTO_JSONFILE_H
#define SLOPN_PROTO_JSONFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* root as a file's text: indented, keys in insertion order, '\n'-terminated;
 * malloc'd, NULL when out of memory (or root is NULL). root is consumed. */
char *jsonfile_dump(json_t *root);

/* A state file's JSON object with "version": version. The root (the
 * caller's to json_decref), or NULL with err saying why ("line 3 column 7:
 * ..." for bad JSON; JSONFILE_NEWER in it for a version above ours: not
 * damaged, a newer slopnd's). */
#define JSONFILE_NEWER "a file of a newer slopnd?"
json_t *jsonfile_load(const char *buf, size_t len, int version, char *err, size_t errlen);

/* Parses one entry of a list into element idx of v (an array of such
 * elements). 0, or -1 with err naming the place ("tokens[2].vip: ...").
 * Uniqueness across entries is the caller's, after the whole list
 * (jsonfile_first_repeat): a check per entry against those before it is
 * quadratic. */
typedef int (*jsonfile_entry_fn)(json_t *o, size_t idx, void *v, char *err, size_t errlen);

/* A state file {"version": version, key: [entries]}: each entry through
 * entry() into a calloc'd array of elem-byte elements. On success *out
 * (NULL when empty) and *n, and 0; else -1 with err saying where ("line 3
 * column 7: ..." for bad JSON), nothing allocated. */
int jsonfile_parse_list(const char *buf, size_t len, int version, const char *key, size_t elem,
                        jsonfile_entry_fn entry, void **out, size_t *n, char *err, size_t errlen);
/* Names unique in a parsed list (entries of elem bytes, each with a
 * NUL-terminated name at name_off), checked on the names sorted: *at is the
 * index of the first entry in list order whose name an earlier one has, or
 * n when none. -1 when out of memory. */
int jsonfile_first_repeat(const void *v, size_t n, size_t elem, size_t name_off, size_t *at);

/* Lower-case hex (as we write it) of hexlen characters into hexlen / 2
 * bytes. 0, or -1 when a character is not one. */
int jsonfile_unhex(const char *hex, size_t hexlen, uint8_t *out);

/* Times in the state files: seconds since 1970 up to the end of the year
 * 9999. A larger one would overflow the microseconds of the hub's timers
 * (a token's expiry armed in the past, again and again) and is no date
 * slopnctl can print. */
#define JSONFILE_TIME_MAX INT64_C(253402300799)
#define JSONFILE_TIME_EXPECTED "a Unix time (integer from 0 to 253402300799, the year 9999)"

/* v as such a time into *out: true, or false when it is not one. */
bool jsonfile_time(const json_t *v, int64_t *out);

#endif
