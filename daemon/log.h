/* Logging. Started by systemd with stderr connected to the journal, every
 * message goes to the journal natively, with its priority and, where the
 * caller gives them, fields (SLOPN_SESSION=, SLOPN_VIP=, SLOPN_REMOTE=).
 * Otherwise plain lines on stderr with a level prefix. */
#ifndef SLOPN_LOG_H
#define SLOPN_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

extern int log_max_level;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* fields: "KEY=value" strings, NULL-terminated; shown only in the journal. */
void log_vfields(enum log_level lvl, const char *const fields[], const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_max_level >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
