/* leases.json in the hub's state directory: which client had which
 * addresses, so that clients get them back after a restart of the hub.
 * A new or moved lease, or one a client takes again ("held"), is written
 * within a tenth of a second (a crash just after a login keeps it; a
 * storm of logins is still a few writes); only a later last_seen within a
 * minute; everything at a clean exit. On a
 * large hub or a slow disk, whose saves cost more, a save comes no sooner than 16 times
 * the last one's cost after it (savepace.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/savepace.h"
#include "daemon/testenv.h"
#include "daemon/timer.h"
#include "tun/statefile.h"

#define LEASES_FILE_MAX (64u << 20)
#define SAVE_SOON_USEC 100000ull
#define SAVE_LATER_USEC 60000000ull

const char *const saved_file_name[SAVED_FILES] = {
	[SAVED_LEASES] = "leases.json", [SAVED_TRAFFIC] = "traffic.json", [SAVED_PEERS] = "peers.json",
	[SAVED_TOKENS] = "tokens.json",
};

uint64_t hub_save_retry(void)
{
	uint64_t v = testenv_get("SLOPND_SAVE_RETRY_SECONDS", 1, 59);
	return v ? v * 1000000 : SAVE_LATER_USEC;
}

#define HELD "not saved over the file, which could not be used at the start: "

void hub_save_hold(struct save_state *st, const char *why)
{
	char err[sizeof(st->err)];
	snprintf(err, sizeof(err), HELD "%.400s", why); /* for status: the log has it whole */
	save_failed(st, err);
}

int hub_save_held_at_exit(const struct save_state *st, const char *what, const char *path,
                          const char *lost)
{
	/* Why, as hub_save_hold noted it; nothing saved since can have
	 * cleared it (no save is tried over a held file). */
	const char *why = st->err;
	if (!strncmp(why, HELD, strlen(HELD)))
		why += strlen(HELD);
	log_err("%s not saved at exit: %s is kept as it was at the start, when it could not be "
	        "used (%s); %s (make it readable, or move it away, before the next start)",
	        what, path, why, lost);
	return -1;
}

/* Start without the file's leases and never write over it: its leases
 * may be whole, and the next save would lose them for good. Said in the
 * log (why: after "PATH: ") and, as a failed save, in status and metrics. */
static void hold(struct server *s, const char *why)
{
	s->leases_held = true;
	log_err("%s: %s; starting without leases (clients get new addresses), and the file is "
	        "kept as it is: no leases are saved over it while the hub runs (make it readable, "
	        "or move it away, and restart the hub)", s->leases_path, why);
	hub_save_hold(&s->saved[SAVED_LEASES], why);
}

void hub_leases_load(struct server *s)
{
	char *buf, err[256];
	size_t len, n;
	struct lease_entry *v;
	int r = statefile_read(s->leases_path, LEASES_FILE_MAX, &buf, &len, err, sizeof(err));
	if (r == 0)
		return;
	if (r < 0 && errno != EFBIG) {
		/* Not read is not damaged (EACCES, EIO, ENOMEM, a directory). */
		hold(s, err);
		return;
	}
	if (r > 0) {
		r = leasefile_parse(buf, len, &v, &n, err, sizeof(err));
		free(buf);
	}
	if (r < 0) {
		/* Leases only spare clients a new address: start without them,
		 * and keep the file for a look, beside any set aside before. */
		char bad[4200], why[4500];
		if (statefile_set_aside(s->leases_path, bad, sizeof(bad)) == 0) {
			log_warn("%s: %s; starting without leases (clients get new addresses); the file is "
			         "now %s", s->leases_path, err, bad);
		} else {
			snprintf(why, sizeof(why), "%s; and it cannot be set aside as %s (%s)", err, bad,
			         strerror(errno));
			hold(s, why);
		}
		return;
	}
	/* Leases of tokens that are gone go with them. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].token, SHARED_TOKEN_NAME) ? s->has_token
		                                           : tokens_find(&s->tokens, v[i].token) != NULL)
			v[kept++] = v[i];
	uint64_t grace = testenv_get("SLOPND_RETURN_GRACE_SECONDS", 1, ALLOC_RETURN_GRACE);
	size_t dropped = alloc_load_leases(&s->addrs, v, kept, time(NULL),
	                                   grace ? (int64_t)grace : ALLOC_RETURN_GRACE) + (n - kept);
	free(v);
	if (dropped)
		s->addrs.changed = true; /* the file still has them */
	log_info("%zu lease%s in %s%s", s->addrs.nleases, s->addrs.nleases == 1 ? "" : "s",
	         s->leases_path, dropped ? " (some dropped: their token is gone, or their address "
	                                   "is no longer a client's or is fixed for a token)" : "");
}

int hub_leases_save(struct server *s, bool at_exit)
{
	if (!s->addrs.changed && !s->addrs.touched)
		return 0;
	if (s->leases_held)
		/* The leases of this run's clients are lost: an error, and exit
		 * 1, as for a save that fails (a full disk). */
		return at_exit ? hub_save_held_at_exit(&s->saved[SAVED_LEASES], "leases", s->leases_path,
		                                       "the next run may give clients of this one other "
		                                       "addresses")
		               : 0;
	uint64_t t0 = timer_now_usec();
	char *text = leasefile_format(s->addrs.leases, s->addrs.nleases), err[512];
	if (!text)
		snprintf(err, sizeof(err), "out of memory");
	int rv = text ? statefile_write(s->leases_path, text, strlen(text), 0600, err, sizeof(err)) : -1;
	free(text);
	save_timed(&s->saved[SAVED_LEASES], t0, timer_now_usec());
	if (rv < 0) {
		if (at_exit) {
			/* Said whether or not it was before: this is where they are lost. */
			log_err("leases not saved at exit: %s; %s holds those of the last save, and the "
			        "next run may give clients of this one other addresses", err,
			        s->leases_path);
			return -1;
		}
		if (save_failed(&s->saved[SAVED_LEASES], err))
			log_warn("leases not saved: %s (retrying every %llu s; clients keep their "
			         "addresses while the hub runs)", err, (unsigned long long)(hub_save_retry() / 1000000));
		hub_leases_dirty(s);
		return -1;
	}
	if (save_worked(&s->saved[SAVED_LEASES]))
		log_info("leases saved to %s again", s->leases_path);
	alloc_saved(&s->addrs);
	return 0;
}

static int on_save(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct server *s = userdata;
	s->leases_due = 0;
	hub_leases_save(s, false);
	return 0;
}

void hub_leases_dirty(struct server *s)
{
	if (!s->ev || (!s->addrs.changed && !s->addrs.touched))
		return;
	uint64_t now, due;
	const struct save_state *st = &s->saved[SAVED_LEASES];
	sd_event_now(s->ev, CLOCK_MONOTONIC, &now);
	due = save_pace_due(now, st->failing ? hub_save_retry()
	                         : s->addrs.changed ? SAVE_SOON_USEC
	                                            : SAVE_LATER_USEC,
	                    st->last_end, st->last_cost);
	if (s->leases_due && s->leases_due <= due)
		return; /* a save is due sooner already */
	if (!s->leases_timer &&
	    sd_event_add_time(s->ev, &s->leases_timer, CLOCK_MONOTONIC, due, 10000, on_save, s) < 0) {
		log_warn("cannot set a timer to save the leases: they are saved at exit");
		return;
	}
	sd_event_source_set_time(s->leases_timer, due);
	sd_event_source_set_enabled(s->leases_timer, SD_EVENT_ONESHOT);
	s->leases_due = due;
}
