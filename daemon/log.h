/* Logging. Started by systemd with stderr connected to the journal, every
 * message goes to the journal natively, with its priority and, where the
 * caller gives them, fields (SLOPN_SESSION=, SLOPN_VIP=, SLOPN_REMOTE=).
 * Otherwise plain lines on stderr with a level prefix. */
#ifndef SLOPN_LOG_H
#define SLOPN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

extern int log_max_level;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fields: "KEY=value" strings, NULL-terminated; shown only in the journal. */
void log_vfields(enum log_level lvl, const char *const fields[], const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* At most max lines a minute of one kind, so that a flood (refused
 * logins, refused connections) does not flood the log; then one line at
 * lvl: "N more WHAT in the last minute were not logged". That line comes
 * with the next one of its kind after the minute, or, in a daemon that
 * calls log_budget_flush when log_budget_due says (the hub's loop), once
 * the minute is over even if no more come: a flood that stops is still
 * summed up. Every line held back is counted in log_suppressed too
 * (slopnctl status). */
struct log_budget {
	uint64_t since;            /* CLOCK_MONOTONIC µs: when this minute began */
	unsigned lines;            /* logged in it */
	unsigned long long unsaid; /* and not */
	/* For the summary, while unsaid: its kind, level and place in the
	 * list of budgets with a summary due. */
	char what[64];
	enum log_level lvl;
	struct log_budget *next_due;
	bool due;
};
/* A budget's minute (µs): 60 s; tests make it shorter
 * (SLOPND_TEST_LOG_MINUTE, server.c). */
extern uint64_t log_budget_minute;
/* Lines held back by any budget since the start. */
extern unsigned long long log_suppressed;
/* True when this one may have its line; *last when it is the minute's last
 * (its line says that more are counted, not logged). */
bool log_budget_take(struct log_budget *b, unsigned max, enum log_level lvl, const char *what,
                     bool *last);
/* The same at a given time (CLOCK_MONOTONIC µs): for the tests. */
bool log_budget_take_at(struct log_budget *b, unsigned max, enum log_level lvl, const char *what,
                        bool *last, uint64_t now);
/* When (CLOCK_MONOTONIC µs) a budget's summary falls due, or 0 when none
 * holds back anything. */
uint64_t log_budget_due(void);
/* A budget about to go (freed with what holds it): its summary said now,
 * and it is out of the list. */
void log_budget_forget(struct log_budget *b);
/* fn(ctx, due) is called when a budget starts holding back lines, with
 * when its summary falls due (a daemon's loop sets a timer for it); NULL:
 * the summary waits for the next line of its kind. */
void log_budget_on_due(void (*fn)(void *ctx, uint64_t due), void *ctx);
/* The summaries of the budgets whose minute is over, said now. */
void log_budget_flush(uint64_t now);
/* Budgets of one kind, one for each of many keys (a client's address),
 * in a table of n slots (n a power of two): a key takes a slot near its
 * hash that is free or whose minute is over with nothing left to say. A
 * key that finds none is let through (fail open, not counted): a lot of
 * keys each within its budget is what the table cannot tell from many
 * clients. */
struct log_keyed_slot {
	uint8_t key[16];
	uint8_t keylen; /* 0: free */
	struct log_budget b;
};
struct log_keyed {
	struct log_keyed_slot *slot;
	unsigned n;
};
/* 0, or -1 when out of memory (then every line is let through). */
int log_keyed_init(struct log_keyed *t, unsigned n);
/* Its summaries said, and the table freed. */
void log_keyed_free(struct log_keyed *t);
/* As log_budget_take, for key (at most 16 bytes); what names the kind
 * and the key in the summary ("logins from 192.0.2.7"). */
bool log_keyed_take_at(struct log_keyed *t, const void *key, size_t keylen, unsigned max,
                       enum log_level lvl, const char *what, bool *last, uint64_t now);
bool log_keyed_take(struct log_keyed *t, const void *key, size_t keylen, unsigned max,
                    enum log_level lvl, const char *what, bool *last);
/* The end of the minute's last line (*last above), or "". */
static inline const char *log_budget_more(bool last)
{
	return last ? "; more this minute are counted, not logged" : "";
}

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_max_level >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
