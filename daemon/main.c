/* slopnd: the SloPN daemon, hub (server) or client. */
#include <gnutls/gnutls.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/client.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/tls.h"
#include "daemon/udp.h"
#include "proto/invite.h"

/* A copy of the arguments that the daemon keeps (the hub parses them
 * again at a reload), so that the process's own can be overwritten. */
static char **args_copy(int argc, char **argv)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));
	for (int i = 0; v && i < argc; i++)
		if (!(v[i] = strdup(argv[i]))) {
			while (i--)
				free(v[i]);
			free(v);
			return NULL;
		}
	return v;
}

static void args_free(int argc, char **v)
{
	for (int i = 0; i < argc; i++)
		free(v[i]);
	free(v);
}

/* The secrets of the command line (--token's value, an invite's token)
 * overwritten with x's in the process's arguments, which every user may
 * read (/proc/PID/cmdline, ps), and the journal keeps with each line
 * logged (_CMDLINE). They were readable from the exec until now. */
static void args_hide_secrets(int argc, char **argv, const char *token)
{
	size_t tl = token ? strlen(token) : 0, sl = strlen(INVITE_SCHEME);
	for (int i = 2; i < argc; i++) {
		for (char *p = tl ? strstr(argv[i], token) : NULL; p; p = strstr(p + tl, token))
			memset(p, 'x', tl);
		/* An invite's token, also one written percent-encoded. */
		for (char *p = strcasestr(argv[i], INVITE_SCHEME); p; p = strcasestr(p + sl, INVITE_SCHEME)) {
			char *u = p + sl, *at = memrchr(u, '@', strcspn(u, "/?#"));
			if (at)
				memset(u, 'x', (size_t)(at - u));
		}
	}
}

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
	char **args = args_copy(argc, argv);
	if (!args) {
		perror("slopnd");
		return 1;
	}
	int rv = config_parse(&cfg, argc, args);
	if (rv != 0) {
		config_free(&cfg);
		args_free(argc, args);
		return rv > 0 ? 0 : 2;
	}
	args_hide_secrets(argc, argv, cfg.token);
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
	args_free(argc, args);
	return rv;
}
