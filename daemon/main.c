/* slopnd: the SloPN daemon, hub (server) or client. */
#include <gnutls/gnutls.h>
#include <signal.h>
#include <stdio.h>

#include "daemon/client.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/tls.h"
#include "daemon/udp.h"

static int run_pin(const struct config *cfg)
{
	struct tls_identity id;
	if (tls_identity_load(&id, cfg->state_dir, false) < 0)
		return 1;
	puts(id.pin);
	tls_identity_free(&id);
	/* SIGPIPE is ignored: a pin its reader did not get fails here. */
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	/* First, before anything logs. A write to a pipe whose reader has
	 * gone (stderr into a `| tee` that the terminal's Ctrl-C ended
	 * first) fails with EPIPE, and the line is lost, instead of killing
	 * the daemon as it logs its stop, before its cleanup (routes, kill
	 * switch, NAT rules). systemd ignores it for its services too
	 * (IgnoreSIGPIPE=). A write past a file-size limit (LimitFSIZE=, an
	 * inherited ulimit -f) fails with EFBIG, which a state file's save
	 * reports, instead of a core dump that leaves the file's temporary
	 * copy. Ignored, not blocked: the iptables we spawn get their
	 * defaults back (tun/nat_iptables.c). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	struct config cfg;
	int rv = config_parse(&cfg, argc, argv);
	if (rv != 0) {
		config_free(&cfg);
		return rv > 0 ? 0 : 2;
	}
	if (cfg.verbose)
		log_max_level = LOG_LVL_DEBUG;
	/* Lines, not blocks, when stderr is a file or a pipe. */
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (cfg.role != ROLE_PIN) {
		/* The event loop takes these through signalfd. Blocked from the
		 * start, one that comes while the daemon sets up waits for the
		 * loop, instead of killing it with a TUN, NAT rules or routes
		 * half made. */
		sigset_t mask;
		sigemptyset(&mask);
		sigaddset(&mask, SIGINT), sigaddset(&mask, SIGTERM), sigaddset(&mask, SIGUSR1);
		sigaddset(&mask, SIGHUP);
		/* And SIGCHLD, as sd-event wants it for watching children (the
		 * hub's iptables look). */
		sigaddset(&mask, SIGCHLD);
		sigprocmask(SIG_BLOCK, &mask, NULL);
	}
	udp_offloads(cfg.offloads);
	gnutls_global_init();
	switch (cfg.role) {
	case ROLE_SERVER: rv = server_run(&cfg); break;
	case ROLE_CLIENT: rv = client_run(&cfg); break;
	case ROLE_PIN: rv = run_pin(&cfg); break;
	}
	gnutls_global_deinit();
	config_free(&cfg);
	return rv;
}
