/* The hub's metrics in the Prometheus text format (version 0.0.4): served
 * over HTTP with --metrics, and by metrics.get for slopnctl metrics. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build.h"
#include "daemon/hub.h"
#include "daemon/log.h"
#include "daemon/metrics_http.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format wants it: \ " and newline escaped. */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"')
			buf[o++] = '\\', buf[o++] = *s;
		else if (*s == '\n')
			buf[o++] = '\\', buf[o++] = 'n';
		else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void session_labels(const struct session *ss, char *buf, size_t len)
{
	char vip[INET_ADDRSTRLEN], tok[2 * TOKEN_NAME_MAX + 1];
	snprintf(buf, len, "id=\"%llu\",token=\"%s\",vip=\"%s\"", (unsigned long long)ss->id,
	         esc(ss->token_name, tok, sizeof(tok)), ip4str(ss->vip, vip));
}

/* Traffic counters, in this order everywhere below. */
static const struct {
	const char *name, *help;
} counters[4] = {
	{"rx_bytes_total", "IP bytes received from clients."},
	{"rx_packets_total", "IP packets received from clients."},
	{"tx_bytes_total", "IP bytes sent to clients."},
	{"tx_packets_total", "IP packets sent to clients."},
};

static void stats4(const struct conn_stats *st, uint64_t v[4])
{
	v[0] = st->rx_bytes, v[1] = st->rx_pkts, v[2] = st->tx_bytes, v[3] = st->tx_pkts;
}

static void totals4(const struct traffic_entry *t, uint64_t v[4])
{
	v[0] = t->rx_bytes, v[1] = t->rx_pkts, v[2] = t->tx_bytes, v[3] = t->tx_pkts;
}

char *hub_metrics_text(struct server *s, size_t *len)
{
	char *text = NULL, name[96], labels[256];
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	struct conn_stats t;
	unsigned live = hub_totals(s, &t);
	uint64_t now = conn_now() / NGTCP2_SECONDS;

	family(f, "slopn_info", "gauge", "The hub's version and key pin.");
	fprintf(f, "slopn_info{version=\"%s\",build=\"%s\",pin=\"%s\"} 1\n", SLOPN_VERSION, SLOPN_BUILD, s->id.pin);
	family(f, "slopn_start_time_seconds", "gauge", "When the hub started, in Unix time.");
	fprintf(f, "slopn_start_time_seconds %lld\n", (long long)hub_started(s));
	family(f, "slopn_sessions", "gauge", "Sessions logged in now.");
	fprintf(f, "slopn_sessions %u\n", live);
	uint64_t v[4];
	stats4(&t, v);
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "slopn_%s", counters[i].name);
		family(f, name, "counter", counters[i].help);
		fprintf(f, "%s %llu\n", name, (unsigned long long)v[i]);
	}
	family(f, "slopn_drops_total", "counter",
	       "Packets dropped, by reason (see slopnd(8), DROPS).");
	for (int i = 0; i < DROP_MAX; i++)
		fprintf(f, "slopn_drops_total{reason=\"%s\"} %llu\n", drop_reason_names[i],
		        (unsigned long long)t.drop[i]);
	family(f, "slopn_queue_bytes", "gauge",
	       "Memory the sessions' queues of packets waiting to be sent hold now.");
	fprintf(f, "slopn_queue_bytes %llu\n", (unsigned long long)s->qbudget.used);
	family(f, "slopn_queue_budget_bytes", "gauge",
	       "What they may hold in all (--queue-memory); a queue past it is refused.");
	fprintf(f, "slopn_queue_budget_bytes %llu\n", (unsigned long long)s->qbudget.limit);
	family(f, "slopn_log_suppressed_total", "counter", "Log lines held back by the hub's per-kind budgets (refused logins and others), summed up a minute later.");
	fprintf(f, "slopn_log_suppressed_total %llu\n", log_suppressed);
	family(f, "slopn_failed_logins_total", "counter", "Logins refused for a wrong or expired token, or malformed.");
	fprintf(f, "slopn_failed_logins_total %llu\n", (unsigned long long)s->failed_logins);
	family(f, "slopn_logins_refused_total", "counter",
	       "Logins with a right token refused: no address left, or the token's session limit.");
	fprintf(f, "slopn_logins_refused_total{reason=\"pool_full\"} %llu\n",
	        (unsigned long long)s->refused_pool_full);
	fprintf(f, "slopn_logins_refused_total{reason=\"token_limit\"} %llu\n",
	        (unsigned long long)s->refused_token_limit);
	family(f, "slopn_bans_total", "counter",
	       "Bans started after failed logins (an address, or an IPv6 /64, /56 or /48).");
	fprintf(f, "slopn_bans_total %llu\n", (unsigned long long)s->bans_started);
	family(f, "slopn_state_save_failing", "gauge",
	       "1 while the last save of a state file failed (a full disk): see slopnctl status.");
	for (int i = 0; i < SAVED_FILES; i++)
		fprintf(f, "slopn_state_save_failing{file=\"%s\"} %d\n", saved_file_name[i],
		        s->saved[i].failing);
	family(f, "slopn_bans", "gauge", "Bans in force (addresses and IPv6 prefixes).");
	fprintf(f, "slopn_bans %u\n", ban_count(&s->bans, now));
	family(f, "slopn_handshakes", "gauge", "Connections in their QUIC handshake now.");
	fprintf(f, "slopn_handshakes %u\n", s->handshaking);
	family(f, "slopn_handshakes_queued", "gauge", "Initials admitted, their handshakes not made yet.");
	fprintf(f, "slopn_handshakes_queued %u\n", hub_queued(s));
	family(f, "slopn_awaiting_login", "gauge", "Connections past the handshake, not logged in yet.");
	fprintf(f, "slopn_awaiting_login %u\n", hub_awaiting_login(s));
	family(f, "slopn_admission_total", "counter",
	       "What the connection limits did (see slopnd(8), CONNECTION LIMITS).");
	for (size_t i = 0; i < admit_counter_count; i++)
		fprintf(f, "slopn_admission_total{what=\"%s\"} %llu\n", admit_counter_names[i].name,
		        (unsigned long long)admit_counter(&s->adm, i));

	/* Per session: labelled by id, token and VIP (the remote address can
	 * change under a live session, so it is no label). */
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "slopn_session_%s", counters[i].name);
		family(f, name, "counter", counters[i].help);
		for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
			if (ss->logged_in) {
				session_labels(ss, labels, sizeof(labels));
				stats4(&ss->conn.stats, v);
				fprintf(f, "%s{%s} %llu\n", name, labels, (unsigned long long)v[i]);
			}
	}
	family(f, "slopn_session_rtt_seconds", "gauge", "Smoothed round-trip time of a session.");
	for (const struct session *ss = LIST_FIRST(&s->sessions); ss; ss = LIST_NEXT(ss, link))
		if (ss->logged_in) {
			ngtcp2_conn_stat cs;
			ngtcp2_conn_get_conn_stat(ss->conn.qc, &cs);
			session_labels(ss, labels, sizeof(labels));
			fprintf(f, "slopn_session_rtt_seconds{%s} %.6f\n", labels, (double)cs.smoothed_rtt / 1e9);
		}

	/* Per token, over its life (traffic.json, live sessions counted in). */
	size_t ntok;
	const char **tnames = hub_token_names(s, &ntok);
	struct traffic_entry *tt = calloc(ntok + 1, sizeof(*tt));
	unsigned *tlive = calloc(ntok + 1, sizeof(*tlive));
	if (!tnames || !tt || !tlive || hub_tokens_totals(s, tnames, ntok, tt, tlive) < 0)
		ntok = 0; /* out of memory: the rest still */
	free(tnames);
	for (size_t k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "slopn_token_%s", counters[k].name);
		family(f, name, "counter", counters[k].help);
		for (size_t i = 0; i < ntok; i++) {
			totals4(&tt[i], v);
			fprintf(f, "%s{token=\"%s\"} %llu\n", name, esc(tt[i].name, labels, sizeof(labels)),
			        (unsigned long long)v[k]);
		}
	}
	family(f, "slopn_token_sessions_total", "counter", "Sessions of a token, ended and live.");
	for (size_t i = 0; i < ntok; i++)
		fprintf(f, "slopn_token_sessions_total{token=\"%s\"} %llu\n",
		        esc(tt[i].name, labels, sizeof(labels)), (unsigned long long)tt[i].sessions);
	family(f, "slopn_token_live_sessions", "gauge", "Sessions of a token logged in now.");
	for (size_t i = 0; i < ntok; i++)
		fprintf(f, "slopn_token_live_sessions{token=\"%s\"} %u\n",
		        esc(tt[i].name, labels, sizeof(labels)), tlive[i]);
	family(f, "slopn_token_last_seen_timestamp_seconds", "gauge",
	       "When a token was last seen, in Unix time (0: never).");
	for (size_t i = 0; i < ntok; i++)
		fprintf(f, "slopn_token_last_seen_timestamp_seconds{token=\"%s\"} %lld\n",
		        esc(tt[i].name, labels, sizeof(labels)), (long long)tt[i].last_seen);
	free(tt);
	free(tlive);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static char *page(void *ctx, size_t *len)
{
	return hub_metrics_text(ctx, len);
}

int hub_metrics_start(struct server *s)
{
	if (!s->cfg->metrics)
		return 0;
	s->metrics = metrics_http_open(s->ev, s->cfg->metrics, page, s);
	return s->metrics ? 0 : -1;
}

void hub_metrics_stop(struct server *s)
{
	metrics_http_close(s->metrics);
	s->metrics = NULL;
}
