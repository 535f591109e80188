#include "daemon/log.h"
#include "daemon/timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

int log_max_level = LOG_LVL_INFO;

bool log_budget_take(struct log_budget *b, unsigned max, enum log_level lvl, const char *what,
                     bool *last)
{
	uint64_t now = timer_now_usec();
	if (now - b->since >= 60 * 1000000ull) {
		if (b->unsaid)
			log_msg(lvl, "%llu more %s in the last minute were not logged", b->unsaid, what);
		b->since = now;
		b->lines = 0;
		b->unsaid = 0;
	}
	if (b->lines >= max) {
		b->unsaid++;
		return false;
	}
	*last = ++b->lines == max;
	return true;
}

enum sink { PLAIN, STREAM, NATIVE };

/* systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connected; only if stderr is still that stream are we talking to the
 * journal (sd-daemon(3), systemd.exec(5)). Native messages need its socket:
 * sd_journal_send() drops them silently when it is missing, so without it
 * the stream gets "<N>" lines instead. */
static enum sink sink(void)
{
	static int k = -1;
	if (k < 0) {
		const char *e = getenv("JOURNAL_STREAM");
		unsigned long long dev, ino;
		struct stat st;
		bool stream = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
		              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
		k = !stream ? PLAIN : access("/run/systemd/journal/socket", W_OK) == 0 ? NATIVE : STREAM;
	}
	return (enum sink)k;
}

static void log_line(enum log_level lvl, const char *const fields[], const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void log_line(enum log_level lvl, const char *const fields[], const char *fmt, va_list ap)
{
	static const char *const prefix[] = {
		[LOG_LVL_ERR] = "error: ", [LOG_LVL_WARN] = "warning: ",
		[LOG_LVL_INFO] = "", [LOG_LVL_DEBUG] = "debug: ",
	};
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	const char *pre = prefix[lvl] ? prefix[lvl] : "";
	enum sink k = sink();
	if (k == NATIVE) {
		char msg[1100], prio[16];
		snprintf(msg, sizeof(msg), "MESSAGE=%s%s", pre, line);
		snprintf(prio, sizeof(prio), "PRIORITY=%d", (int)lvl);
		struct iovec iov[12] = {
			{msg, strlen(msg)}, {prio, strlen(prio)},
			{(char *)"SYSLOG_IDENTIFIER=slopnd", 24},
		};
		int n = 3;
		for (int i = 0; fields && fields[i] && n < 12; i++)
			iov[n++] = (struct iovec){(void *)fields[i], strlen(fields[i])};
		if (sd_journal_sendv(iov, n) == 0)
			return;
	}
	if (k != PLAIN) {
		/* The journal reads a leading "<N>" as the priority (sd-daemon(3)). */
		fprintf(stderr, "<%d>%s%s\n", (int)lvl, pre, line);
		return;
	}
	/* One fprintf per line keeps lines whole when several writers share stderr. */
	fprintf(stderr, "slopnd: %s%s\n", pre, line);
}

void log_vfields(enum log_level lvl, const char *const fields[], const char *fmt, va_list ap)
{
	if ((int)lvl > log_max_level)
		return;
	/* Logging leaves errno as it was: callers log a failure, then return
	 * or test its errno. A write that fails here (stderr a pipe whose
	 * reader has gone: EPIPE, SIGPIPE being ignored, main.c) loses the
	 * line and nothing else: no retry, no report of it. */
	int saved = errno;
	log_line(lvl, fields, fmt, ap);
	errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vfields(lvl, NULL, fmt, ap);
	va_end(ap);
}
