#include "daemon/control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"
#include "proto/jsonrpc.h"
#include "proto/linebuf.h"
#include "proto/text.h"
#include "tun/statefile.h"

/* A caller past the table's end closes the one idle the longest, so idle
 * callers never shut an administrator out. Subscribers stay until they hang
 * up: at most half the table, so that there is always room to ask. */
#define MAX_CALLERS 64
#define MAX_SUBSCRIBERS (MAX_CALLERS / 2)
/* A subscriber that leaves this much of events unread is dropped: it is
 * sent the rest of the line it was taking and events.dropped, the others
 * are thrown away, and it is closed once it took those (or after the idle
 * time, if it does not read). */
#define OUT_MAX (4 << 20)
/* Tests lower OUT_MAX with this (bytes): not for production. */
#define OUT_MAX_ENV "SLOPN_TEST_CONTROL_OUT_MAX"
/* Past this much waiting, a caller's further requests wait too (unread,
 * so its writes block): a script that sends a thousand requests before it
 * reads loses no answer, and the daemon holds little for it. */
#define OUT_HIGH (256 << 10)
#define IN_CHUNK 16384
#define IDLE_USEC (60 * 1000000ULL)
/* At a stop, what callers have not read yet goes out for this long in all. */
#define CLOSE_FLUSH_USEC (2 * 1000000ULL)
/* An output buffer grown past this is given back once empty. */
#define OUT_KEEP (64 * 1024)
/* Tests shorten the idle timeout with this (milliseconds): not for production. */
#define IDLE_ENV "SLOPN_TEST_CONTROL_IDLE_MS"

struct caller {
	struct control *ctl;
	int fd;
	sd_event_source *io, *idle;
	/* Held requests with room: served at the next turn. A timer long past,
	 * not a defer source: one enabled again in its own dispatch is the
	 * oldest pending at the next turn, and ran before the data path's
	 * sources every time, which had to wait for all the requests. */
	sd_event_source *more;
	struct control_caller who;
	char *inbuf;               /* JSONRPC_MAX + 1: the storage of in */
	struct linebuf in;         /* requests, one a line */
	char *out;                 /* out[outoff, outlen) waits to be sent */
	size_t outoff, outlen, outcap;
	size_t ans_end;            /* out up to here holds answers: not events */
	bool midline;              /* the last byte sent ended no line */
	bool cut;                  /* fell behind (fall_behind): closed once out is sent */
	uint8_t *pend;             /* IN_CHUNK: read, not yet taken (OUT_HIGH reached) */
	size_t pendoff, pendlen;
	uint64_t active;           /* when it last sent or took data */
	bool eof;                  /* it sent all it will (shutdown): answer, then close */
	struct caller *next;
};

struct control {
	sd_event *ev;
	int fd;
	char *path;
	sd_event_source *io, *resume;  /* resume: accepting again after EMFILE */
	bool starved;                  /* said so: once, not each second */
	const char *role;
	const struct control_method *methods;
	void *ctx;
	struct caller *callers;
	unsigned ncallers, nsubscribers;
	unsigned long dropped;         /* subscribers dropped for falling behind */
	uint64_t idle_usec;
	size_t out_max;
};

static void caller_free(struct caller *k)
{
	struct control *c = k->ctl;
	for (struct caller **p = &c->callers; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	c->ncallers--;
	c->nsubscribers -= k->who.subscribed;
	sd_event_source_disable_unref(k->io);
	sd_event_source_disable_unref(k->idle);
	sd_event_source_disable_unref(k->more);
	close(k->fd);
	free(k->inbuf);
	free(k->pend);
	free(k->out);
	free(k);
}

/* It did something: its idle time starts again (a subscriber has none). */
static void touch(struct caller *k)
{
	/* Now, not the loop's wake-up: its idle time starts after the
	 * answer, however long that took to build. */
	k->active = timer_now_usec();
	if (k->cut)
		return; /* the time for its last lines is set (fall_behind) */
	if (k->who.subscribed) {
		sd_event_source_set_enabled(k->idle, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(k->idle, k->active + k->ctl->idle_usec);
	sd_event_source_set_enabled(k->idle, SD_EVENT_ONESHOT);
}

bool control_subscribe(struct control_caller *who)
{
	struct caller *k = (struct caller *)(void *)((char *)who - offsetof(struct caller, who));
	if (who->subscribed)
		return true;
	if (k->ctl->nsubscribers >= MAX_SUBSCRIBERS)
		return false;
	who->subscribed = true;
	k->ctl->nsubscribers++;
	return true;
}

/* What waits to be sent to the caller. */
static size_t waiting(const struct caller *k)
{
	return k->outlen - k->outoff;
}

/* Read while there is room for answers and nothing read waits; write
 * while something waits. Requests held while answers piled up are served
 * once the socket took enough of them (on_caller); those held after one
 * that changed something (serve), at the next turn of the loop (on_more):
 * not when the socket is writable, which the kernel stops saying while
 * some 60 small answers wait unread, long before OUT_HIGH (a script that
 * wrote thousands of token.set before it read would wait for itself). */
static void arm(struct caller *k)
{
	if (k->cut) {
		/* Nothing more is read: on_caller closes it once out is sent. */
		sd_event_source_set_enabled(k->more, SD_EVENT_OFF);
		sd_event_source_set_io_events(k->io, EPOLLOUT);
		return;
	}
	bool held = k->pendoff < k->pendlen;
	bool take = !k->eof && !held && waiting(k) < OUT_HIGH;
	sd_event_source_set_enabled(k->more, held && waiting(k) < OUT_HIGH ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
	sd_event_source_set_io_events(k->io, (take ? EPOLLIN : 0) | (waiting(k) ? EPOLLOUT : 0));
}

/* Write what we can; -1 when the caller is gone. What was sent stays in
 * front of outoff until queue_line needs the room (moving the rest after
 * each send, a few KiB a time, moved megabytes over and over). */
static int flush_out(struct caller *k)
{
	bool took = false;
	while (k->outoff < k->outlen) {
		ssize_t n = send(k->fd, k->out + k->outoff, waiting(k), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
		k->outoff += (size_t)n;
		took = true;
	}
	if (took) {
		k->active = timer_now_usec();
		k->midline = k->out[k->outoff - 1] != '\n';
	}
	if (!waiting(k))
		k->outoff = k->outlen = k->ans_end = 0;
	/* Emptied after a large answer (token.list of a big store): a
	 * subscriber that stays for days need not keep megabytes for it. */
	if (!k->outlen && k->outcap > OUT_KEEP) {
		free(k->out);
		k->out = NULL;
		k->outcap = 0;
	}
	arm(k);
	return 0;
}

/* Room for n more bytes after what waits: what was sent in front of it
 * is given back by moving the rest to the front when that moves no more
 * than it frees (each byte sent pays for one move at most), else by
 * copying what waits into a buffer twice the size (so the buffer is at
 * most about twice what waits). */
static int make_room(struct caller *k, size_t n)
{
	size_t w = waiting(k);
	if (k->outlen + n <= k->outcap)
		return 0;
	if (k->outoff >= w && w + n <= k->outcap) {
		memmove(k->out, k->out + k->outoff, w);
	} else {
		size_t cap = k->outcap ? 2 * k->outcap : 4096;
		while (cap < w + n)
			cap *= 2;
		char *p = malloc(cap);
		if (!p)
			return -1;
		if (w)
			memcpy(p, k->out + k->outoff, w);
		free(k->out);
		k->out = p;
		k->outcap = cap;
	}
	k->ans_end = k->ans_end > k->outoff ? k->ans_end - k->outoff : 0;
	k->outoff = 0;
	k->outlen = w;
	return 0;
}

/* line (consumed) after what waits for k; an answer's end is kept. */
static int append(struct caller *k, char *line, bool event)
{
	if (!line)
		return -1;
	size_t n = strlen(line);
	if (make_room(k, n) < 0) {
		free(line);
		return -1;
	}
	memcpy(k->out + k->outlen, line, n);
	k->outlen += n;
	if (!event)
		k->ans_end = k->outlen;
	free(line);
	return 0;
}

/* Every event says when it happened (Unix seconds, as the API's times): a
 * subscriber may read it long after, from a backlog. */
static json_t *stamped(json_t *params)
{
	if (!params)
		params = json_object();
	json_object_set_new(params, "time", json_integer((json_int_t)time(NULL)));
	return params;
}

/* A subscriber that left out_max of events unread: said in the log and
 * counted; what waits for it is cut after the line it was taking, so that
 * its stream ends on a whole line, and events.dropped, its last, says
 * how much it lost. Closed once those went out, or when it has taken
 * nothing for the idle time. -1 when it is gone. */
static int fall_behind(struct caller *k, size_t events, size_t next)
{
	struct control *c = k->ctl;
	c->dropped++;
	log_warn("control: dropping the event subscriber of pid %d (uid %u): it left %zu bytes of "
	         "events unread (at most %zu may wait)", (int)k->who.pid, (unsigned)k->who.uid,
	         events, c->out_max);
	size_t keep = 0;
	if (k->midline) {
		const char *nl = memchr(k->out + k->outoff, '\n', waiting(k));
		keep = nl ? (size_t)(nl - (k->out + k->outoff)) + 1 : waiting(k);
	}
	size_t lost = waiting(k) - keep + next; /* and the event that did not fit */
	k->outlen = k->outoff + keep;
	if (k->ans_end > k->outlen)
		k->ans_end = k->outlen;
	k->cut = true;
	sd_event_source_set_time(k->idle, timer_now_usec() + c->idle_usec);
	sd_event_source_set_enabled(k->idle, SD_EVENT_ONESHOT);
	char *bye = jsonrpc_format_notification("events.dropped",
		stamped(json_pack("{s:I, s:I}", "unread", (json_int_t)events, "lost", (json_int_t)lost)));
	if (append(k, bye, true) < 0)
		return -1;
	return flush_out(k);
}

/* An answer, or an event (event: to a subscriber, which falls behind past
 * out_max of events queued after its last answer). Answers have no limit
 * of their own: no request is taken while OUT_HIGH waits, so they are at
 * most that and one answer, whatever its size (token.list of a large
 * store), and do not count: a subscriber that reads is not dropped for
 * asking for one. Nothing more once it fell behind. */
static int queue_line(struct caller *k, char *line, bool event)
{
	if (!line)
		return -1;
	if (k->cut) {
		free(line);
		return 0;
	}
	size_t n = strlen(line);
	size_t events = k->outlen - (k->ans_end > k->outoff ? k->ans_end : k->outoff);
	if (event && events && events + n > k->ctl->out_max) {
		free(line);
		return fall_behind(k, events, n);
	}
	if (append(k, line, event) < 0)
		return -1;
	return flush_out(k);
}

/* "unknown method 'x': this slopnd is a client, which answers server.status" */
static void unknown_method(const struct control *c, const char *name, char *err, size_t len)
{
	size_t n = (size_t)snprintf(err, len, "unknown method '%s': this slopnd is a %s, which answers ",
	                            name, c->role);
	for (const struct control_method *m = c->methods; m->name && n < len; m++)
		n += (size_t)snprintf(err + n, len - n, "%s%s", m == c->methods ? "" : ", ", m->name);
}

static bool blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* One request, answered. *changes: it was one that changes state (a
 * token's, a rewrite of the whole store), taken or refused. */
static int handle_line(struct caller *k, const char *line, size_t len, bool *changes)
{
	struct control *c = k->ctl;
	struct jsonrpc_request req;
	char err[1024] = "";
	*changes = false;
	if (blank(line, len))
		return 0; /* Enter pressed in socat: nothing asked */
	int code = jsonrpc_parse(line, len, &req, err, sizeof(err));
	char *out = NULL;
	if (code == 0 && !req.id) {
		/* A notification: its answer could not be sent, so nothing is
		 * done (token.add's secret would be lost with its answer). */
		log_debug("control: notification '%s' from pid %d ignored", req.method, (int)k->who.pid);
		jsonrpc_request_clear(&req);
		return 0;
	}
	if (code == 0) {
		const struct control_method *m = c->methods;
		while (m->name && strcmp(m->name, req.method) != 0)
			m++;
		if (!m->name) {
			unknown_method(c, req.method, err, sizeof(err));
			code = JSONRPC_METHOD_NOT_FOUND;
		} else if (jsonrpc_params_unknown(req.params, m->name, m->params, err, sizeof(err))) {
			code = JSONRPC_INVALID_PARAMS;
		} else {
			json_t *res = m->fn(c->ctx, &k->who, req.params, &code, err, sizeof(err));
			if (res) {
				code = 0;
				out = jsonrpc_format_result(req.id, res);
			}
			/* No answer built (jansson refused a value): the caller still hears. */
			if ((!res && code == 0) || (res && !out)) {
				code = JSONRPC_INTERNAL_ERROR;
				snprintf(err, sizeof(err), "internal error: %s could not build its answer",
				         m->name);
			}
			/* Who changed something, and how it went: the log is the
			 * only place that keeps it (SO_PEERCRED). */
			*changes = m->changes;
			if (m->changes) {
				char why[256];
				size_t n = text_cut(err, strlen(err), sizeof(why) - 1);
				memcpy(why, err, n);
				why[n] = '\0';
				text_clean(why, n);
				log_info("control: %s by uid %u pid %d: %s%s", m->name, (unsigned)k->who.uid,
				         (int)k->who.pid, code == 0 ? "done" : "refused: ", code == 0 ? "" : why);
			}
		}
	}
	if (code != 0 && (req.id || code == JSONRPC_PARSE_ERROR || code == JSONRPC_INVALID_REQUEST))
		out = jsonrpc_format_error(req.id, code, err);
	jsonrpc_request_clear(&req);
	return out ? queue_line(k, out, false) : 0;
}

/* The requests read and not yet taken, while answers have room. One that
 * changes something ends the turn (a token's rewrites the store and syncs
 * it: 200 in one write would hold the data path that long); the rest wait
 * as held requests do, for the next turn of the loop. */
static int serve(struct caller *k)
{
	bool changed = false;
	while (!changed && !k->cut && k->pendoff < k->pendlen && waiting(k) < OUT_HIGH) {
		size_t used;
		enum linebuf_result r = linebuf_feed(&k->in, k->pend + k->pendoff,
		                                     k->pendlen - k->pendoff, &used);
		k->pendoff += used;
		if (r == LINEBUF_OVERFLOW) {
			queue_line(k, jsonrpc_format_error(NULL, JSONRPC_INVALID_REQUEST,
			                                   "request larger than 64 KiB: closing"), false);
			return -1;
		}
		if (r == LINEBUF_NEED_MORE)
			break;
		if (handle_line(k, k->in.buf, k->in.len, &changed) < 0)
			return -1;
		linebuf_next(&k->in);
	}
	if (k->pendoff == k->pendlen)
		k->pendoff = k->pendlen = 0;
	arm(k);
	return 0;
}

static int on_caller(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct caller *k = userdata;
	/* It can take nothing more (gone, or shut down: by itself, or by
	 * control_notify when a send to it failed). The kernel
	 * says so at every turn of the loop until the socket is closed: each
	 * return below that leaves work undone drops it instead of spinning. */
	bool hup = revents & (EPOLLHUP | EPOLLERR);
	if (revents & EPOLLOUT && flush_out(k) < 0)
		goto drop;
	if (k->cut) {
		/* Fell behind: its last lines went out, or it can take nothing. */
		if (hup || !waiting(k))
			goto drop;
		return 0;
	}
	if (k->eof) {
		/* A subscriber that half-closed still takes its events. */
		if (hup || (!waiting(k) && !k->who.subscribed))
			goto drop;
		return 0;
	}
	if (k->pendoff < k->pendlen) {
		/* Requests read earlier, held while their answers piled up, or
		 * after one that changed something (serve). */
		size_t left = k->pendlen - k->pendoff;
		if (serve(k) < 0)
			goto drop;
		if (k->pendlen - k->pendoff == left) {
			if (hup)
				goto drop;
			return 0;
		}
		touch(k);
		return 0;
	}
	if (waiting(k) >= OUT_HIGH) {
		if (hup)
			goto drop;
		return 0;
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return 0;
	ssize_t n = recv(fd, k->pend, IN_CHUNK, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 0 && k->in.len && !k->in.ready) {
		/* The last request without its newline (printf | socat): answered. */
		bool changed;
		if (handle_line(k, k->in.buf, k->in.len, &changed) < 0)
			goto drop;
		linebuf_next(&k->in);
		/* It may have made it a subscriber: no idle timeout from now. */
		touch(k);
	}
	if (n == 0 && (waiting(k) || k->who.subscribed)) {
		/* A half-close (nc -N): its answers still go out, whole, and a
		 * subscriber's events for as long as it stays open. */
		k->eof = true;
		arm(k);
		return 0;
	}
	if (n <= 0)
		goto drop;
	k->pendoff = 0;
	k->pendlen = (size_t)n;
	if (serve(k) < 0)
		goto drop;
	/* After the requests: one may have made it a subscriber. */
	touch(k);
	return 0;
drop:
	caller_free(k);
	return 0;
}

static int on_more(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct caller *k = userdata;
	size_t left = k->pendlen - k->pendoff;
	if (serve(k) < 0) {
		caller_free(k);
		return 0;
	}
	if (k->pendlen - k->pendoff != left)
		touch(k);
	return 0;
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct caller *k = userdata;
	/* A subscriber has no idle time, however it subscribed (touch turns
	 * this timer off for it; this is the second guard), unless it fell
	 * behind: then this is how long its last lines wait for it. */
	if (k->who.subscribed && !k->cut)
		return 0;
	/* Still taking a long answer: that counts as activity (flush_out). */
	if (k->active + k->ctl->idle_usec > usec) {
		sd_event_source_set_time(s, k->active + k->ctl->idle_usec);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
		return 0;
	}
	caller_free(k);
	return 0;
}

static int on_resume(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct control *c = userdata;
	sd_event_source_set_enabled(c->io, SD_EVENT_ON);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *c = userdata;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
		/* The connection stays queued and the socket readable: without a
		 * pause the loop would spin on it. Again in a second. */
		if (!c->starved)
			log_warn("control socket: cannot accept a connection: %s; trying again each second",
			         strerror(errno));
		c->starved = true;
		if (c->resume || timer_new(c->ev, &c->resume, 100000, on_resume, c) == 0) {
			timer_once(c->resume, 1000000);
			sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
		}
		return 0;
	}
	if (cfd < 0)
		return 0;
	if (c->starved)
		log_info("control socket: accepting connections again");
	c->starved = false;
	if (c->ncallers >= MAX_CALLERS) {
		struct caller *idlest = NULL;
		for (struct caller *k = c->callers; k; k = k->next)
			if (!k->who.subscribed && (!idlest || k->active < idlest->active))
				idlest = k;
		if (!idlest) { /* cannot happen while MAX_SUBSCRIBERS < MAX_CALLERS */
			close(cfd);
			return 0;
		}
		log_debug("control: %u callers: closing the one of pid %d, idle the longest",
		          c->ncallers, (int)idlest->who.pid);
		caller_free(idlest);
	}
	struct caller *k = calloc(1, sizeof(*k));
	if (!k || !(k->inbuf = malloc(JSONRPC_MAX + 1)) || !(k->pend = malloc(IN_CHUNK))) {
		if (k)
			free(k->inbuf);
		free(k);
		close(cfd);
		return 0;
	}
	linebuf_init(&k->in, k->inbuf, JSONRPC_MAX);
	k->ctl = c;
	k->fd = cfd;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
		k->who.pid = cred.pid;
		k->who.uid = cred.uid;
		k->who.gid = cred.gid;
	}
	k->next = c->callers;
	c->callers = k;
	c->ncallers++;
	if (sd_event_add_io(c->ev, &k->io, cfd, EPOLLIN, on_caller, k) < 0 ||
	    sd_event_add_time(c->ev, &k->idle, CLOCK_MONOTONIC, 0, 1000000, on_idle, k) < 0 ||
	    sd_event_add_time(c->ev, &k->more, CLOCK_MONOTONIC, 0, 0, on_more, k) < 0 ||
	    sd_event_source_set_enabled(k->more, SD_EVENT_OFF) < 0) {
		caller_free(k);
		return 0;
	}
	touch(k);
	return 0;
}

/* dir made 0755 (under the unit's UMask=0077 mkdir makes it 0700, and the
 * group slopn's members could not reach the socket), or there already. */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0) {
		chmod(dir, 0755);
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

/* dir, and the directories above it that are not there. 0, or -1 with
 * errno and *failed the length of dir's text up to the one that could not
 * be made (ENOTDIR: the one under a file, which names it). */
static int make_dirs(char *dir, size_t *failed)
{
	if (make_dir(dir) == 0)
		return 0;
	char *slash = strrchr(dir, '/');
	if ((errno == ENOENT || errno == ENOTDIR) && slash && slash != dir) {
		*slash = '\0';
		int rv = make_dirs(dir, failed);
		*slash = '/';
		if (rv < 0)
			return -1;
		if (make_dir(dir) == 0)
			return 0;
	}
	*failed = strlen(dir);
	return -1;
}

/* The socket's directory, made if it is not there (and those above it).
 * One that is there is used only as the state directory would be: another
 * user who owns it, or who may write it, could put a socket of theirs in
 * our socket's place for slopnctl to talk to. 0; -1 with errno, not logged;
 * -2 logged, with *unsafe set when it was refused for its owner or mode. */
static int make_parent(const char *path, bool *unsafe)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	char *dir = dirname(copy);
	char err[1600];
	size_t failed = 0;
	if (make_dirs(dir, &failed) < 0) {
		int e = errno;
		log_err("cannot listen on control socket %s: cannot make the directory %.*s: %s (make "
		        "it, or give --control a path in another directory)", path, (int)failed, dir,
		        strerror(e));
		free(copy);
		return -2;
	}
	int rv = 0;
	/* Made now or there before: as the directories above it go, so it
	 * does (a new one, 0755 and ours, is judged by them alone). */
	if (statefile_dir_check_as(dir, false, "control socket's directory",
	                           "the control socket in it", "--control", err, sizeof(err)) < 0) {
		*unsafe = errno == EPERM;
		log_err("%s", err);
		rv = -2;
	}
	free(copy);
	return rv;
}

static int dir_ready(const char *path, bool *unsafe)
{
	*unsafe = false;
	int made = make_parent(path, unsafe);
	if (made == -1)
		log_err("cannot listen on control socket %s: %s", path, strerror(errno));
	return made < 0 ? -1 : 0;
}

/* A slopnd answers on sa. A connect waits while the listener's backlog is
 * full: one that is stuck there is live too, found so in a second. */
static bool live_at(const struct sockaddr_un *sa)
{
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return false;
	struct timeval tv = {.tv_sec = 1};
	setsockopt(probe, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	bool live = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
	close(probe);
	return live;
}

static void in_use(const char *path)
{
	log_err("control socket %s is in use by another slopnd (use --control PATH)", path);
	errno = EADDRINUSE;
}

int control_dir_ready(const char *path, bool *unsafe)
{
	if (dir_ready(path, unsafe) < 0)
		return -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	if (strlen(path) < sizeof(sa.sun_path) && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
		if (live_at(&sa)) {
			in_use(path);
			return -1;
		}
	}
	return 0;
}

static struct control *control_new(sd_event *ev, const char *role,
                                   const struct control_method *methods, void *ctx)
{
	struct control *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ev = ev;
	c->role = role;
	c->methods = methods;
	c->ctx = ctx;
	c->fd = -1;
	uint64_t ms = testenv_get(IDLE_ENV, 1, 3600000);
	c->idle_usec = ms ? ms * 1000 : IDLE_USEC;
	uint64_t max = testenv_get(OUT_MAX_ENV, OUT_HIGH, OUT_MAX);
	c->out_max = max ? (size_t)max : OUT_MAX;
	return c;
}

/* The socket file made 0660 as it is bound: a chmod after bind would
 * leave a moment open, and follow a symlink put there meanwhile. */
static int bind_0660(int fd, const struct sockaddr_un *sa)
{
	mode_t old_mask = umask(0117);
	int rv = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	umask(old_mask);
	errno = e;
	return rv;
}

struct control *control_open(sd_event *ev, const char *path, const char *role,
                             const struct control_method *methods, void *ctx, bool *unsafe)
{
	*unsafe = false;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("control socket path %s is too long (max %zu bytes)", path, sizeof(sa.sun_path) - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct control *c = control_new(ev, role, methods, ctx);
	if (!c)
		return NULL;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	if (dir_ready(path, unsafe) < 0)
		goto fail_quiet;
	if (bind_0660(c->fd, &sa) < 0) {
		if (errno != EADDRINUSE)
			goto fail;
		/* Something is there: a socket is replaced only if nobody answers
		 * on it; anything else (a typo naming the token store) stays. */
		struct stat st;
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			log_err("control socket %s: a file that is not a socket is there; not touching it "
			        "(give another --control PATH)", path);
			errno = EEXIST;
			goto fail_quiet;
		}
		if (live_at(&sa)) {
			in_use(path);
			goto fail_quiet;
		}
		unlink(path);
		if (bind_0660(c->fd, &sa) < 0)
			goto fail;
	}
	/* root:slopn, so that members of the slopn group can administer; the
	 * socket itself, not what a symlink put in its place would name. */
	struct group *g = getgrnam("slopn");
	if (!g)
		log_info("no group slopn here: only root may use %s (systemd-sysusers makes the group, "
		         "from slopnd's install; its members may then, after a restart)", path);
	else if (lchown(path, (uid_t)-1, g->gr_gid) < 0)
		log_warn("cannot give %s to group slopn: %s", path, strerror(errno));
	int r = listen(c->fd, 16) < 0 ? -errno : sd_event_add_io(ev, &c->io, c->fd, EPOLLIN, on_accept, c);
	if (r < 0) {
		unlink(path); /* ours, bound just now: no file left that nobody answers on */
		errno = -r;
		goto fail;
	}
	c->path = strdup(path);
	log_info("control socket %s", path);
	return c;
fail:
	log_err("cannot listen on control socket %s: %s", path, strerror(errno));
fail_quiet:
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return NULL;
}

struct control *control_adopt(sd_event *ev, int fd, const char *role,
                              const struct control_method *methods, void *ctx)
{
	struct control *c = control_new(ev, role, methods, ctx);
	if (!c)
		return NULL;
	c->fd = fd;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    sd_event_add_io(ev, &c->io, fd, EPOLLIN, on_accept, c) < 0) {
		log_err("cannot use the control socket passed by systemd: %s", strerror(errno));
		free(c);
		return NULL;
	}
	log_info("control socket from systemd (fd %d)", fd);
	return c;
}

/* What waits for callers (a monitor's session.down events of a stop,
 * more than a socket holds) goes out before they are closed; a caller
 * that does not read keeps the stop no longer than CLOSE_FLUSH_USEC. */
static void drain(struct control *c)
{
	uint64_t end = timer_now_usec() + CLOSE_FLUSH_USEC;
	for (;;) {
		struct pollfd pf[MAX_CALLERS];
		struct caller *who[MAX_CALLERS];
		nfds_t n = 0;
		for (struct caller *k = c->callers; k && n < MAX_CALLERS; k = k->next)
			if (waiting(k)) {
				pf[n] = (struct pollfd){ .fd = k->fd, .events = POLLOUT };
				who[n++] = k;
			}
		uint64_t now = timer_now_usec();
		if (!n || now >= end)
			return;
		int r = poll(pf, n, (int)((end - now + 999) / 1000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		for (nfds_t i = 0; i < n; i++)
			if (pf[i].revents & (POLLERR | POLLHUP | POLLNVAL) ||
			    (pf[i].revents && flush_out(who[i]) < 0))
				who[i]->outoff = who[i]->outlen = 0; /* gone: nothing more for it */
	}
}

void control_close(struct control *c)
{
	if (!c)
		return;
	drain(c);
	while (c->callers)
		caller_free(c->callers);
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->resume);
	close(c->fd);
	if (c->path)
		unlink(c->path);
	free(c->path);
	free(c);
}

unsigned long control_subscribers_dropped(const struct control *c)
{
	return c ? c->dropped : 0;
}

json_t *control_drops_json(const struct conn_stats *st)
{
	json_t *d = json_object();
	for (int i = 0; i < DROP_MAX; i++)
		json_object_set_new(d, drop_reason_names[i], json_integer((json_int_t)st->drop[i]));
	return d;
}

void control_notify(struct control *c, const char *method, json_t *params)
{
	if (!c) {
		json_decref(params);
		return;
	}
	char *line = jsonrpc_format_notification(method, stamped(params));
	if (!line)
		return;
	for (struct caller *k = c->callers, *next; k; k = next) {
		next = k->next;
		/* Never free a caller here: we may be inside its own request.
		 * A shut-down socket makes the next read drop it. */
		if (k->who.subscribed && queue_line(k, strdup(line), true) < 0)
			shutdown(k->fd, SHUT_RDWR);
	}
	free(line);
}
