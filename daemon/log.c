#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>

int log_max_level = LOG_LVL_INFO;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LVL_ERR] = "error: ", [LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_INFO] = "", [LOG_LVL_DEBUG] = "debug: ",
	};
	if ((int)lvl > log_max_level)
		return;
	/* One fprintf per line keeps lines whole when several writers share stderr. */
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "slopnd: %s%s\n", prefix[lvl] ? prefix[lvl] : "", line);
}
