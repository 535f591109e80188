/* The control socket: JSON-RPC 2.0 over a UNIX stream socket, one object
 * per line. Many callers at once, each non-blocking with bounded buffers, a
 * size limit per request and an idle timeout, so that no caller can stall
 * the data plane or another caller. */
#ifndef SLOPN_CONTROL_H
#define SLOPN_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "daemon/conn.h"

#define DEFAULT_CONTROL "/run/slopn/slopnd.sock"

struct control;
struct control_caller {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool subscribed;
};

/* A method: returns the result (a new reference), or NULL with *code and
 * err set. */
typedef json_t *(*control_fn)(void *ctx, struct control_caller *caller, json_t *params,
                              int *code, char *err, size_t errlen);

struct control_method {
	const char *name;
	control_fn fn;
	bool changes;   /* logged with the caller's credentials */
	/* The params it takes, as "name vip" (NULL: none): any other is
	 * refused, not ignored, so that a newer slopnctl's param this slopnd
	 * does not know (token add --max-sessions once) does not leave the
	 * caller believing it was applied. */
	const char *params;
};

/* Listen on path (its directory is made, and those above it, when they are
 * not there; a stale socket is replaced).
 * role ("hub", "client") names the daemon in the answer to an unknown
 * method; methods ends with a {NULL} entry. NULL on failure (logged), with
 * *unsafe true when it was path's directory, which another user owns or
 * may write (statefile_dir_check_as): so until someone changes it. */
struct control *control_open(sd_event *ev, const char *path, const char *role,
                             const struct control_method *methods, void *ctx, bool *unsafe);
/* control_open's checks on their own, for a daemon to make before it sets
 * up what it would have to undo: path's directory (made if it is not
 * there), and no slopnd answering on path. 0, or -1 logged, with *unsafe
 * as control_open sets it. */
int control_dir_ready(const char *path, bool *unsafe);
/* The same on a listening socket handed over by systemd (not unlinked at exit). */
struct control *control_adopt(sd_event *ev, int fd, const char *role,
                              const struct control_method *methods, void *ctx);
void control_close(struct control *c);
/* {"spoofed": N, ...}: drop counters by reason, as results show them. */
json_t *control_drops_json(const struct conn_stats *st);
/* events.subscribe: the caller gets notifications from now on and is never
 * timed out. false when there are too many subscribers already. */
bool control_subscribe(struct control_caller *who);
/* Subscribers dropped since the start for leaving 4 MiB of events unread. */
unsigned long control_subscribers_dropped(const struct control *c);
/* Send a notification to every subscribed caller; params is consumed. */
void control_notify(struct control *c, const char *method, json_t *params);

#endif
