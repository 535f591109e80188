/* Reading the daemon's answer. Every field a printer uses is read through
 * these: a field of the wrong type, out of its range, or missing when it is
 * required is remembered (the first one, by its place in the answer) and a
 * harmless value returned, so that the printer runs to its end and what it
 * printed is thrown away (rpc_run). */
#ifndef SLOPN_CTL_ANSWER_H
#define SLOPN_CTL_ANSWER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/jsonfile.h"

struct answer {
	char at[48];   /* the object being read: "" for the result, "sessions[2]" */
	char bad[192]; /* the first problem, "sessions[2].vip: expected a string"; "" if none */
};

enum { OPTIONAL = false, REQUIRED = true };

/* Seconds since 1970 up to the year 9999: what localtime and the
 * differences with now can take. */
#define ANS_TIME_MAX JSONFILE_TIME_MAX

/* The first problem wins; printf-like. */
void ans_bad(struct answer *an, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* From here on, problems are said of the member at path ("" for the
 * result itself), or of element i of the array at path. */
void ans_in(struct answer *an, const char *path);
void ans_at(struct answer *an, const char *path, size_t i);

/* A string, its control characters shown as '?' (newlines and tabs kept
 * with multiline).
 * NULL when optional and absent or null; "?" when it is wrong. */
const char *ans_str(struct answer *an, json_t *o, const char *key, bool required);
/* A key of the daemon's, cut to len - 1 bytes on a character, made safe
 * to print (it acts on no terminal). */
void ans_clean_key(const char *name, char *out, size_t len);
const char *ans_text(struct answer *an, json_t *o, const char *key, bool required,
                     bool multiline);
/* An integer within [min, max]: true and *out when present and right; else
 * *out = 0, and false (a problem noted if wrong, or required and absent). */
bool ans_int(struct answer *an, json_t *o, const char *key, bool required, int64_t min,
             int64_t max, int64_t *out);
/* A number (integer or real) within [min, max]; 0 when absent or wrong. */
double ans_num(struct answer *an, json_t *o, const char *key, bool required, double min,
               double max);
/* Element i of an array, a string as ans_str's; "?" when it is not one. */
const char *ans_elem_str(struct answer *an, json_t *arr, size_t i, const char *key);
/* true or false; absent or null is false. */
bool ans_bool(struct answer *an, json_t *o, const char *key);
/* An object or array: NULL when optional and absent or null, or wrong. */
json_t *ans_obj(struct answer *an, json_t *o, const char *key, bool required);
json_t *ans_arr(struct answer *an, json_t *o, const char *key, bool required);
/* An object of counts by name (optional): each count >= 0 is passed to
 * each (if not NULL) in the object's order; returns their sum. */
uint64_t ans_counts(struct answer *an, json_t *o, const char *key,
                    void (*each)(const char *name, uint64_t n, void *ctx), void *ctx);

#endif
