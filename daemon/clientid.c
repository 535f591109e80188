#include "daemon/clientid.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/log.h"
#include "tun/statefile.h"

static void random_hex(char *out, size_t digits)
{
	uint8_t raw[32];
	/* A client id is kept for good: never one of what the stack held. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, digits / 2) < 0) {
		log_err("no random bytes for a client id (GnuTLS's generator failed)");
		exit(1);
	}
	for (size_t i = 0; i < digits / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void client_instance_make(char inst[CLIENT_INSTANCE_LEN + 1])
{
	random_hex(inst, CLIENT_INSTANCE_LEN);
}

void client_id_load(const char *state_dir, const char *tun, char id[CLIENT_ID_LEN + 1])
{
	char path[4200], err[256], *buf = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/client-%s.id", state_dir, tun);
	int r = statefile_read(path, 4096, &buf, &len, err, sizeof(err));
	if (r < 0 && errno == EFBIG)
		r = 1; /* too long to be an id: damaged, made new */
	if (r > 0 && buf && client_id_parse(buf, len, id)) {
		free(buf);
		return;
	}
	free(buf);
	random_hex(id, CLIENT_ID_LEN);
	if (r < 0) {
		/* Not read is not damaged (EACCES, EIO): the file may hold the id
		 * the hub knows, which a new one written over it would lose. */
		log_warn("%s: %s; using a new client id for this run only, and keeping the file as it "
		         "is: the hub gives this client its addresses back once the file can be read "
		         "(fix it, or move it away, and restart)", path, err);
		return;
	}
	if (r > 0)
		log_warn("%s: not a client id (32 hex digits); making a new one", path);
	char text[CLIENT_ID_LEN + 2];
	snprintf(text, sizeof(text), "%s\n", id);
	if (statefile_dir_make(state_dir, err, sizeof(err)) < 0)
		;
	else if (statefile_write(path, text, strlen(text), 0600, err, sizeof(err)) == 0)
		return;
	log_warn("cannot keep the client id in %s: %s; the hub gives this client its addresses "
	         "back only until it restarts (--state-dir DIR)", path, err);
}
