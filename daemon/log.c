#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int log_max_level = LOG_LVL_INFO;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LVL_ERR] = "error: ", [LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_INFO] = "", [LOG_LVL_DEBUG] = "debug: ",
	};
	/* Under systemd, stderr goes to the journal, which reads a leading
	 * "<N>" as the line's priority (sd-daemon(3)). */
	static int journal = -1;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if ((int)lvl > log_max_level)
		return;
	/* One fprintf per line keeps lines whole when several writers share stderr. */
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (journal)
		fprintf(stderr, "<%d>%s%s\n", (int)lvl, prefix[lvl] ? prefix[lvl] : "", line);
	else
		fprintf(stderr, "slopnd: %s%s\n", prefix[lvl] ? prefix[lvl] : "", line);
}
