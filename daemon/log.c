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

unsigned long long log_suppressed;
uint64_t log_budget_minute = 60 * 1000000ull;
/* Budgets holding back lines, whose summary is to come; a budget is in it
 * once. Budgets live as long as what holds them, but one that goes (a
 * session's) must not be left here: log_budget_forget. */
static struct log_budget *due_list;
static void (*due_fn)(void *ctx, uint64_t due);
static void *due_ctx;

void log_budget_on_due(void (*fn)(void *ctx, uint64_t due), void *ctx)
{
	due_fn = fn;
	due_ctx = ctx;
}

static void say_unsaid(struct log_budget *b)
{
	if (b->unsaid)
		log_msg(b->lvl, "%llu more %s in the last minute were not logged", b->unsaid, b->what);
	b->unsaid = 0;
}

static void unlist(struct log_budget *b)
{
	for (struct log_budget **p = &due_list; *p; p = &(*p)->next_due)
		if (*p == b) {
			*p = b->next_due;
			break;
		}
	b->due = false;
	b->next_due = NULL;
}

void log_budget_forget(struct log_budget *b)
{
	if (!b->due)
		return;
	unlist(b);
	say_unsaid(b);
}

bool log_budget_take_at(struct log_budget *b, unsigned max, enum log_level lvl, const char *what,
                        bool *last, uint64_t now)
{
	if (now - b->since >= log_budget_minute) {
		if (b->due)
			unlist(b);
		say_unsaid(b);
		b->since = now;
		b->lines = 0;
	}
	if (b->lines >= max) {
		b->unsaid++;
		log_suppressed++;
		if (!b->due) {
			snprintf(b->what, sizeof(b->what), "%s", what);
			b->lvl = lvl;
			b->due = true;
			b->next_due = due_list;
			due_list = b;
			if (due_fn)
				due_fn(due_ctx, b->since + log_budget_minute);
		}
		return false;
	}
	*last = ++b->lines == max;
	return true;
}

bool log_budget_take(struct log_budget *b, unsigned max, enum log_level lvl, const char *what,
                     bool *last)
{
	return log_budget_take_at(b, max, lvl, what, last, timer_now_usec());
}

uint64_t log_budget_due(void)
{
	uint64_t due = 0;
	for (const struct log_budget *b = due_list; b; b = b->next_due)
		if (!due || b->since + log_budget_minute < due)
			due = b->since + log_budget_minute;
	return due;
}

void log_budget_flush(uint64_t now)
{
	for (struct log_budget **p = &due_list; *p;) {
		struct log_budget *b = *p;
		if (now - b->since < log_budget_minute) {
			p = &b->next_due;
			continue;
		}
		*p = b->next_due;
		b->due = false;
		b->next_due = NULL;
		say_unsaid(b);
	}
}

int log_keyed_init(struct log_keyed *t, unsigned n)
{
	t->slot = calloc(n, sizeof(*t->slot));
	t->n = t->slot ? n : 0;
	return t->slot ? 0 : -1;
}

void log_keyed_free(struct log_keyed *t)
{
	for (unsigned i = 0; i < t->n; i++)
		log_budget_forget(&t->slot[i].b);
	free(t->slot);
	t->slot = NULL;
	t->n = 0;
}

/* The slots a key may take: PROBE of them from its hash on. */
#define PROBE 8

bool log_keyed_take_at(struct log_keyed *t, const void *key, size_t keylen, unsigned max,
                       enum log_level lvl, const char *what, bool *last, uint64_t now)
{
	*last = false;
	if (!t->n || !keylen || keylen > sizeof(t->slot[0].key))
		return true;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < keylen; i++)
		h = (h ^ ((const uint8_t *)key)[i]) * 16777619u;
	struct log_keyed_slot *free_slot = NULL;
	for (unsigned i = 0; i < PROBE && i < t->n; i++) {
		struct log_keyed_slot *e = &t->slot[(h + i) & (t->n - 1)];
		if (e->keylen == keylen && !memcmp(e->key, key, keylen))
			return log_budget_take_at(&e->b, max, lvl, what, last, now);
		if (!free_slot && (!e->keylen || (!e->b.due && now - e->b.since >= log_budget_minute)))
			free_slot = e;
	}
	if (!free_slot)
		return true;
	memset(free_slot, 0, sizeof(*free_slot));
	memcpy(free_slot->key, key, keylen);
	free_slot->keylen = (uint8_t)keylen;
	return log_budget_take_at(&free_slot->b, max, lvl, what, last, now);
}

bool log_keyed_take(struct log_keyed *t, const void *key, size_t keylen, unsigned max,
                    enum log_level lvl, const char *what, bool *last)
{
	return log_keyed_take_at(t, key, keylen, max, lvl, what, last, timer_now_usec());
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
