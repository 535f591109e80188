/* SIGHUP on the hub: tokens.json and the config file read again, and what
 * can change without dropping sessions applied. */
#include <gnutls/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ban.h"
#include "daemon/hub.h"
#include "proto/text.h"
#include "daemon/log.h"

/* A shared token shorter than this is said to be guessable: bans slow one
 * address down, not many (tokens made by 'token add' have 40). */
#define SHARED_TOKEN_MIN 16

void hub_set_token(struct server *s, const char *token)
{
	s->has_token = token != NULL;
	if (token && strlen(token) < SHARED_TOKEN_MIN)
		log_warn("the shared --token has %zu characters only: it can be guessed (the hub bans "
		         "an address after %d wrong tokens, not someone with many addresses); give one of "
		         "%d or more random characters, or tokens of 'slopnctl token add'",
		         strlen(token), BAN_MAX_FAILS, SHARED_TOKEN_MIN);
	if (token)
		gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), s->token_hash);
	else
		memset(s->token_hash, 0, sizeof(s->token_hash));
}

static bool str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Fixed VIPs are kept for their token while it exists (the allocator
 * knows how); one that a session holds now stays with that session. */
void hub_fixed_changed(struct server *s)
{
	char v[INET_ADDRSTRLEN], why[160];
	for (size_t i = 0; i < s->tokens.n; i++) {
		const struct token_entry *e = &s->tokens.v[i];
		if (!e->vip || alloc_assignable(&s->addrs, e->vip))
			continue;
		alloc_why_not(&s->addrs, e->vip, why, sizeof(why));
		log_warn("%s: token '%s': fixed VIP %s is not a client address (it is %s); it gets one "
		         "from the pool", s->tokens.path, e->name, ip4str(e->vip, v), why);
	}
	alloc_set_fixed(&s->addrs, s->tokens.v, s->tokens.n);
	hub_leases_dirty(s);
}

/* What a reload kept back, for the log and server.status. One SIGHUP may
 * find both tokens.json and the config file bad: status keeps each reason,
 * joined with "; " (the first whole, the later cut to what fits). */
static void reload_failed(struct server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reload_failed(struct server *s, const char *fmt, ...)
{
	char why[sizeof(s->reload_error)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_err("reload: %s", why);
	/* Cut on a character: status gives it as a JSON string. */
	size_t used = strlen(s->reload_error), sep = used ? 2 : 0;
	if (used + sep + 1 >= sizeof(s->reload_error))
		return;
	size_t n = text_cut(why, strlen(why), sizeof(s->reload_error) - used - sep - 1);
	snprintf(s->reload_error + used, sizeof(s->reload_error) - used, "%s%.*s", sep ? "; " : "",
	         (int)n, why);
}

/* Re-read tokens.json (an administrator may have edited it). A bad file
 * changes nothing: the tokens in memory stay in force. So does a file that
 * is gone (moved aside for an edit, a mount not up): read as empty, it
 * would take every token and their leases along. */
static void reload_tokens(struct server *s)
{
	struct token_store fresh, old = s->tokens;
	char err[256];
	if (tokens_load(&fresh, old.path, err, sizeof(err)) < 0) {
		reload_failed(s, "%s: %s; keeping the %zu token%s in memory: fix the file, then reload "
		              "the hub again (systemctl reload slopnd, or SIGHUP)", old.path, err, old.n,
		              old.n == 1 ? "" : "s");
		tokens_free(&fresh);
		return;
	}
	if (!fresh.seen && old.n) {
		reload_failed(s, "%s is not there any more: keeping the %zu token%s in memory; put it "
		              "back, or remove tokens with slopnctl token remove", old.path, old.n,
		              old.n == 1 ? "" : "s");
		tokens_free(&fresh);
		return;
	}
	s->tokens = fresh;
	/* Uses seen since the last save (it waits up to a minute) survive. */
	for (size_t i = 0; i < old.n; i++) {
		struct token_entry *e = tokens_find(&s->tokens, old.v[i].name);
		if (e && old.v[i].last_used > e->last_used)
			e->last_used = old.v[i].last_used;
	}
	/* A token that is gone takes its leases and totals along, as
	 * token.remove does. */
	for (size_t i = 0; i < old.n; i++)
		if (!tokens_find(&s->tokens, old.v[i].name))
			alloc_forget_token(&s->addrs, old.v[i].name);
	hub_traffic_tokens_gone(s);
	hub_fixed_changed(s);
	hub_expiry_arm(s);
	log_info("reloaded %s: %zu tokens (were %zu)", s->tokens.path, s->tokens.n, old.n);
	tokens_free(&old);
}

/* SIGHUP: read the config file again (the command line still wins) and
 * apply what can change without dropping sessions. */
void hub_reload(struct server *s)
{
	const struct config *old = s->cfg;
	s->reloads++;
	s->reload_error[0] = '\0';
	reload_tokens(s);
	if (s->nat_on)
		hub_nat_follow(s, NAT_AGAIN); /* the hub's networks may have changed */
	if (!old->config) {
		log_info("SIGHUP: no config file in use (--config FILE): settings unchanged");
		return;
	}
	struct config fresh;
	config_quiet = true;
	int rv = config_parse(&fresh, old->argc, old->argv);
	config_quiet = false;
	if (rv != 0) {
		/* config_error names the file, and the line where one is at fault. */
		reload_failed(s, "%s: keeping the running settings",
		              config_error[0] ? config_error : old->config);
		config_free(&fresh);
		return;
	}
	/* The default file, looked for only if it is there: gone now (moved
	 * aside, a mount not up), it would be read as empty, and the shared
	 * token and --no-spoke-to-spoke dropped without a word. */
	if (!fresh.config || strcmp(fresh.config, old->config) != 0) {
		reload_failed(s, "%s is not there any more: keeping the running settings; put it "
		              "back, or restart to run without it", old->config);
		config_free(&fresh);
		return;
	}
	bool token_changed = str_differs(fresh.token, s->reload_token);
	if (token_changed) {
		hub_set_token(s, fresh.token);
		free(s->reload_token);
		s->reload_token = fresh.token ? strdup(fresh.token) : NULL;
		/* No shared token any more: its leases go, as a removed token's
		 * do (the next start would drop them; until then they held
		 * their addresses). A new secret keeps them: its clients are the
		 * same, told the new one. */
		if (!s->has_token) {
			alloc_forget_token(&s->addrs, SHARED_TOKEN_NAME);
			hub_leases_dirty(s);
		}
	}
	if (s->nat_on && fresh.spoke_to_spoke != s->spoke_to_spoke) {
		s->spoke_to_spoke = fresh.spoke_to_spoke;
		hub_nat_install(s, NAT_AGAIN);
	}
	s->spoke_to_spoke = fresh.spoke_to_spoke;
	/* Queues allocated stay (freeing one would drop what waits in it):
	 * a lower budget holds back the next ones until the others go. */
	if (fresh.queue_memory != s->qbudget.limit) {
		log_info("queue-memory now %llu bytes (was %llu; %llu in use)",
		         (unsigned long long)fresh.queue_memory, (unsigned long long)s->qbudget.limit,
		         (unsigned long long)s->qbudget.used);
		s->qbudget.limit = fresh.queue_memory;
	}
	if (fresh.nat != old->nat || fresh.nat_backend != old->nat_backend ||
	    str_differs(fresh.egress, old->egress) ||
	    fresh.nallow_lan != old->nallow_lan || fresh.nallow_lan6 != old->nallow_lan6 ||
	    memcmp(fresh.allow_lan, old->allow_lan, sizeof(fresh.allow_lan)) != 0 ||
	    memcmp(fresh.allow_lan6, old->allow_lan6, sizeof(fresh.allow_lan6)) != 0)
		log_warn("%s changed in %s: takes effect after a restart", "nat, egress or allow-lan",
		         old->config);
	if (fresh.dns != old->dns || memcmp(&fresh.dns6, &old->dns6, sizeof(fresh.dns6)) != 0)
		log_warn("%s changed in %s: takes effect after a restart", "dns", old->config);
	if (str_differs(fresh.metrics, old->metrics))
		log_warn("%s changed in %s: takes effect after a restart", "metrics", old->config);
	log_info("reloaded %s: token %s, spoke-to-spoke %s; %u sessions kept", old->config,
	         token_changed ? "changed" : "unchanged", s->spoke_to_spoke ? "on" : "off",
	         live_sessions(s));
	if (str_differs(fresh.listen, old->listen))
		log_warn("%s changed in %s: takes effect after a restart", "listen", old->config);
	if (fresh.subnet != old->subnet || fresh.prefix != old->prefix ||
	    fresh.subnet6_mode != old->subnet6_mode || memcmp(fresh.subnet6, old->subnet6, 8) != 0)
		log_warn("%s changed in %s: takes effect after a restart", "subnet", old->config);
	if (str_differs(fresh.tun, old->tun) || fresh.mtu != old->mtu)
		log_warn("%s changed in %s: takes effect after a restart", "tun or mtu", old->config);
	if (str_differs(fresh.public_address, old->public_address))
		log_warn("%s changed in %s: takes effect after a restart", "public-address", old->config);
	if (str_differs(fresh.state_dir, old->state_dir) || str_differs(fresh.control, old->control))
		log_warn("%s changed in %s: takes effect after a restart", "state-dir or control", old->config);
	config_free(&fresh);
}
