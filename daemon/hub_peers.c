/* peers.json in the hub's state directory: where the logged-in clients are
 * and by which connection IDs they reach the hub. Written within a tenth of
 * a second of a change while the hub runs (a login just before a crash is
 * in it; a storm of logins is still one write; on a large hub, whose saves
 * cost more, no sooner than 16 times the last save's cost after it:
 * savepace.h), removed at a clean exit
 * (the clients were told then). After a crash the next run sends each
 * client of the old run a stateless reset straight away: an idle client
 * learns that the hub restarted, and logs in again, without waiting for its
 * next keep-alive. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/savepace.h"
#include "daemon/timer.h"
#include "tun/statefile.h"
#include "proto/peerfile.h"

#define PEERS_FILE_MAX (16u << 20)
#define SAVE_SOON_USEC 100000ull

void hub_send_reset(struct server *s, const uint8_t *cid, size_t cidlen, size_t randlen,
                    const struct sockaddr *from, socklen_t fromlen,
                    const struct sockaddr *to, socklen_t tolen)
{
	ngtcp2_cid c;
	ngtcp2_cid_init(&c, cid, cidlen);
	uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[64], buf[128];
	if (randlen > sizeof(rnd))
		randlen = sizeof(rnd);
	ngtcp2_crypto_generate_stateless_reset_token(token, s->id.reset_secret, 32, &c);
	gnutls_rnd(GNUTLS_RND_NONCE, rnd, randlen);
	ngtcp2_ssize n = ngtcp2_pkt_write_stateless_reset(buf, sizeof(buf), token, rnd, randlen);
	if (n > 0)
		udp_send_one(&s->udp, from, fromlen, to, tolen, buf, (size_t)n);
}

void hub_peers_reset(struct server *s)
{
	char *buf, err[256];
	size_t len, n;
	struct peer_entry *v;
	int r = statefile_read(s->peers_path, PEERS_FILE_MAX, &buf, &len, err, sizeof(err));
	if (r == 0)
		return; /* the last run stopped cleanly, or there was none */
	if (r > 0) {
		if (peerfile_parse(buf, len, &v, &n, err, sizeof(err)) < 0)
			r = -1;
		free(buf);
	}
	if (r < 0) {
		log_warn("%s: %s; clients of the last run find out at their next packet", s->peers_path,
		         err);
		unlink(s->peers_path);
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < v[i].ncid; k++)
			hub_send_reset(s, v[i].cid[k].data, v[i].cid[k].len, 40,
			               v[i].locallen ? (const struct sockaddr *)&v[i].local : NULL,
			               v[i].locallen, (const struct sockaddr *)&v[i].remote,
			               v[i].remotelen);
	free(v);
	unlink(s->peers_path);
	log_info("the last run did not stop cleanly: told its %zu client%s (stateless reset)", n,
	         n == 1 ? "" : "s");
}

/* Tried again at the next change of the sessions, or after a while. */
static void failed(struct server *s, const char *err)
{
	if (save_failed(&s->saved[SAVED_PEERS], err))
		log_warn("peers not saved: %s (retrying every %llu s; should the hub crash meanwhile, "
		         "the clients the file misses find out at their next packet)", err,
		         (unsigned long long)(hub_save_retry() / 1000000));
	if (s->peers_timer && !s->stopping)
		timer_once(s->peers_timer, hub_save_retry());
}

static void save(struct server *s)
{
	uint64_t t0 = timer_now_usec();
	size_t n = 0, i = 0;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		n += ss->logged_in;
	struct peer_entry *v = n ? calloc(n, sizeof(*v)) : NULL;
	char err[512], *text = NULL;
	if (n && !v)
		goto oom;
	for (struct session *ss = LIST_FIRST(&s->sessions); ss && i < n; ss = LIST_NEXT(ss, link)) {
		if (!ss->logged_in)
			continue;
		struct peer_entry *e = &v[i++];
		memcpy(&e->remote, &ss->remote_sa, ss->remote_salen);
		e->remotelen = ss->remote_salen;
		/* The address it uses of ours, when we have several. */
		const ngtcp2_path *path = ngtcp2_conn_get_path(ss->conn.qc);
		if (s->udp.pktinfo && path->local.addrlen <= sizeof(e->local)) {
			memcpy(&e->local, path->local.addr, path->local.addrlen);
			e->locallen = path->local.addrlen;
		}
		ngtcp2_cid cids[PEER_CIDS_MAX];
		size_t nc = ngtcp2_conn_get_num_scid(ss->conn.qc);
		if (nc > PEER_CIDS_MAX)
			continue; /* more than ngtcp2 keeps by default: not ours to guess */
		nc = ngtcp2_conn_get_scid(ss->conn.qc, cids);
		for (size_t k = 0; k < nc && cids[k].datalen <= PEER_CID_MAX; k++) {
			e->cid[e->ncid].len = (uint8_t)cids[k].datalen;
			memcpy(e->cid[e->ncid].data, cids[k].data, cids[k].datalen);
			e->ncid++;
		}
	}
	if (!(text = peerfile_format(v, n)))
		goto oom;
	/* Up to ten times a second (a client can have its connection IDs
	 * changed that often), and only for a crash of slopnd, whose writes
	 * the kernel keeps: no fsync holding the data path up each time. */
	if (statefile_write_nosync(s->peers_path, text, strlen(text), 0600, err, sizeof(err)) < 0)
		failed(s, err);
	else if (save_worked(&s->saved[SAVED_PEERS]))
		log_info("peers saved to %s again", s->peers_path);
	free(text);
	free(v);
	save_timed(&s->saved[SAVED_PEERS], t0, timer_now_usec());
	return;
oom:
	free(v);
	failed(s, "out of memory");
	save_timed(&s->saved[SAVED_PEERS], t0, timer_now_usec());
}

static int on_save(sd_event_source *src, uint64_t usec, void *userdata)
{
	save(userdata);
	return 0;
}

void hub_peers_dirty(struct server *s)
{
	if (!s->ev || s->stopping)
		return;
	if (!s->peers_timer && timer_new(s->ev, &s->peers_timer, 10000, on_save, s) < 0) {
		sd_event_source_disable_unref(s->peers_timer);
		s->peers_timer = NULL;
		return;
	}
	int on = SD_EVENT_OFF;
	if (sd_event_source_get_enabled(s->peers_timer, &on) < 0 || on != SD_EVENT_OFF)
		return; /* a save is due already (or a retry after a failed one) */
	uint64_t now;
	const struct save_state *st = &s->saved[SAVED_PEERS];
	sd_event_now(s->ev, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(s->peers_timer, save_pace_due(now, SAVE_SOON_USEC, st->last_end, st->last_cost));
	sd_event_source_set_enabled(s->peers_timer, SD_EVENT_ONESHOT);
}

void hub_peers_stop(struct server *s)
{
	if (s->peers_timer)
		sd_event_source_disable_unref(s->peers_timer);
	s->peers_timer = NULL;
	if (s->peers_path)
		unlink(s->peers_path);
}
