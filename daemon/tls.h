/* TLS 1.3 for QUIC with GnuTLS: the hub's persistent identity, sessions for
 * both roles, ALPN and public-key pins. */
#ifndef SLOPN_TLS_H
#define SLOPN_TLS_H

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <stdbool.h>
#include <stdint.h>

#define SLOPN_ALPN "slopn-protocol"
#define PIN_STRLEN (7 + 64 + 1) /* "sha256:" + hex + NUL */

struct tls_identity {
	gnutls_certificate_credentials_t cred;
	char pin[PIN_STRLEN];
	/* Stateless-reset tokens must survive a restart so that clients of the
	 * old process learn at once that it is gone: derived from the key. */
	uint8_t reset_secret[32];
	/* Key of the tag in the hub's connection IDs (cidtag.h): from the key
	 * too, so that the IDs of an earlier run are known for theirs. */
	uint8_t cid_secret[32];
	/* Key of the hub's Retry tokens (address validation): random at each
	 * start, as the tokens carry a monotonic time (tls.c). */
	uint8_t token_secret[32];
};

/* Make the hub's state directory if it is not there. Errors are logged
 * (one wording for every caller, naming a missing parent); 0, or -1, or
 * -2 for a directory another user may change (statefile_dir_check; any
 * owner will do for one who only reads: reading). */
int state_dir_make(const char *dir, bool reading);

/* Load the hub key and certificate from state_dir, creating both (and the
 * directory) on first use. locked: the caller holds state_dir's hub.lock
 * (the hub); else it is taken here for making them (slopnd pin), one at a
 * time. Errors are logged; returns 0 or -1. */
int tls_identity_load(struct tls_identity *id, const char *state_dir, bool locked);
void tls_identity_free(struct tls_identity *id);

int tls_server_session(gnutls_session_t *out, struct tls_identity *id,
                       ngtcp2_crypto_conn_ref *ref);
/* sni may be NULL (an IP address is never sent as SNI). */
int tls_client_session(gnutls_session_t *out,
                       gnutls_certificate_credentials_t cred, const char *sni,
                       const char *alpn, ngtcp2_crypto_conn_ref *ref);

/* Whether the handshake settled on our ALPN. */
bool tls_alpn_ok(gnutls_session_t s);

/* Tests only (SLOPND_TEST_NO_ALPN=1): the hub offers no ALPN and takes
 * peers without one, as a QUIC server of another protocol might, for the
 * test of the client's refusal. */
bool tls_test_no_alpn(void);

/* sha256:HEX of the peer certificate's SubjectPublicKeyInfo. 0 or -1. */
int tls_peer_pin(gnutls_session_t s, char out[PIN_STRLEN]);

#endif
