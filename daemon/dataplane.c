#include "daemon/dataplane.h"

#include "daemon/log.h"
#include "daemon/testenv.h"

void dataplane_drops(struct conn_stats *t, const struct tun *tun, const struct udp *u)
{
	uint64_t q = 0;
	t->drop[DROP_TUN] += tun->write_drops;
	if (tun->fd >= 0 && tun_queue_drops(tun, &q) == 0)
		t->drop[DROP_TUN_QUEUE] += q;
	if (u->fd >= 0) {
		t->drop[DROP_UDP_SEND] += u->tx_dropped;
		t->drop[DROP_UDP_RECV] += u->rx_dropped;
	}
}

void dataplane_tun_watch(struct tun *tun, sd_event_source *src)
{
	if (tun->reads_changed) {
		log_warn("%s: %s", tun->name, tun->reads);
		tun->reads_changed = false;
	}
	int fd = tun_poll_fd(tun);
	if (src && sd_event_source_get_io_fd(src) != fd)
		sd_event_source_set_io_fd(src, fd);
}

void dataplane_tun_pause(sd_event_source *src, bool *paused, bool pause)
{
	if (*paused == pause)
		return;
	*paused = pause;
	sd_event_source_set_enabled(src, pause ? SD_EVENT_OFF : SD_EVENT_ON);
}

void dataplane_tun_test_knobs(struct tun *tun)
{
	uint64_t n = testenv_get("SLOPND_TEST_RING_REFUSE", 1, 1000000);
	if (n && tun->ring)
		tun_ring_refuse_rearm(tun->ring, (unsigned)n);
}

json_t *dataplane_offload_json(const struct tun *tun, const struct udp *u)
{
	bool up = u->fd >= 0;
	return json_pack("{s:b, s:b, s:b, s:I, s:b, s:b, s:I, s:I, s:I, s:I}", "tun", tun->vnet,
	                 "uso", tun->uso, "tun_ring", tun->ring != NULL,
	                 "ring_reads", (json_int_t)tun->ring_reads, "udp_gso", up && u->gso,
	                 "udp_gro", up && u->gro, "super_reads", (json_int_t)tun->super_reads,
	                 "gso_writes", (json_int_t)tun->gso_writes,
	                 "udp_gso_sends", (json_int_t)(up ? u->gso_sends : 0),
	                 "udp_gso_refused", (json_int_t)(up ? u->nnogso : 0));
}
