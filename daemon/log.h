/* Logging. Started by systemd with stderr connected to the journal, every
 * message goes to the journal natively, with its priority and, where the
 * caller gives them, fields (SLOPN_SESSION=, SLOPN_VIP=, SLOPN_REMOTE=).
 * Otherwise plain lines on stderr with a level prefix. */
#ifndef SLOPN_LOG_H
#define SLOPN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

extern int log_max_level;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fields: "KEY=value" strings, NULL-terminated; shown only in the journal. */
void log_vfields(enum log_level lvl, const char *const fields[], const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* At most max lines a minute of one kind, so that a flood (refused
 * logins, refused connections) does not flood the log; then, with the next
 * one after that minute, one line at lvl: "N more WHAT in the last minute
 * were not logged". */
struct log_budget {
	uint64_t since;            /* CLOCK_MONOTONIC µs: when this minute began */
	unsigned lines;            /* logged in it */
	unsigned long long unsaid; /* and not */
};
/* True when this one may have its line; *last when it is the minute's last
 * (its line says that more are counted, not logged). */
bool log_budget_take(struct log_budget *b, unsigned max, enum log_level lvl, const char *what,
                     bool *last);
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
