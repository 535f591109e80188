#include "daemon/tls.h"
#include "daemon/testenv.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tun/statefile.h"
#include "daemon/log.h"

/* TLS 1.3 only; QUIC forbids the middlebox compatibility mode. Elliptic
 * curve groups only: a ClientHello with a finite-field key share first
 * (8192 bits: one the sender can reuse) would have the hub make a key that
 * costs it tens of milliseconds each time. The Go SloPN offers none either. */
static const char priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
	"+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-DH-ALL:%DISABLE_TLS13_COMPAT_MODE";

static int spki_pin(gnutls_pubkey_t pub, char out[PIN_STRLEN])
{
	gnutls_datum_t der = {0};
	uint8_t md[32];
	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) < 0)
		return -1;
	int rv = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, md);
	gnutls_free(der.data);
	if (rv < 0)
		return -1;
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int crt_pin(gnutls_x509_crt_t crt, char out[PIN_STRLEN])
{
	gnutls_pubkey_t pub;
	if (gnutls_pubkey_init(&pub) < 0)
		return -1;
	int rv = gnutls_pubkey_import_x509(pub, crt, 0) < 0 ? -1 : spki_pin(pub, out);
	gnutls_pubkey_deinit(pub);
	return rv;
}

/* A self-signed certificate for key, as PEM in *pem. 0 or -1. */
static int make_certificate(gnutls_x509_privkey_t key, gnutls_datum_t *pem)
{
	gnutls_x509_crt_t crt;
	uint8_t serial[16];
	if (gnutls_x509_crt_init(&crt) < 0)
		return -1;
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* a positive INTEGER */
	time_t now = time(NULL);
	int rv = gnutls_x509_crt_set_version(crt, 3) < 0 ||
	         gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	         gnutls_x509_crt_set_activation_time(crt, now - 86400) < 0 ||
	         gnutls_x509_crt_set_expiration_time(crt, now + 20 * 365 * 86400L) < 0 ||
	         gnutls_x509_crt_set_dn(crt, "CN=slopn hub", NULL) < 0 ||
	         gnutls_x509_crt_set_key(crt, key) < 0 ||
	         gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "slopn", 5,
	                                              GNUTLS_FSAN_SET) < 0 ||
	         gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
	         gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, pem) < 0 ? -1 : 0;
	gnutls_x509_crt_deinit(crt);
	return rv;
}

/* A hub.key that is not a key. Never replaced here: the pin is the key's. */
static void bad_key(const char *keypath, const char *crtpath, int err)
{
	log_err("%s is not a valid PEM private key: %s (the pin is the key's: put the hub's key "
	        "back from a backup; a new key, made once %s and %s are moved away, has a new "
	        "pin that every client with --pin and every invite then needs)",
	        keypath, gnutls_strerror(err), keypath, crtpath);
}

/* path, whole, into *d (malloc'd); -1 said. sweep: the temporary files
 * of path's a crash left are removed (only by the holder of hub.lock:
 * else one may be the holder's, being written). */
static int read_pem(const char *path, gnutls_datum_t *d, bool sweep)
{
	char *buf = NULL, err[256]; /* the read sets buf and len: cppcheck cannot see through the ?: */
	size_t len = 0;
	int r = (sweep ? statefile_read : statefile_read_nosweep)(path, 1 << 20, &buf, &len, err,
	                                                          sizeof(err));
	if (r <= 0) {
		log_err("%s: %s%s", path, r < 0 ? err : "gone while the hub started",
		        statefile_denied_hint(r < 0 ? errno : 0, false));
		return -1;
	}
	d->data = (unsigned char *)buf;
	d->size = (unsigned)len;
	return 0;
}

/* A new key and its certificate; or, with a key already in keypath, a new
 * certificate for it (one lost in a crash between the two writes, or
 * damaged: why, said in the warning): the pin, which is the key's, stays.
 * 0, -1 said, or 1 when a new key found one made in keypath meanwhile. */
static int create_identity(const char *keypath, const char *crtpath, bool have_key,
                           const char *why_new)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t kpem = {0}, cpem = {0};
	int rv = -1, err;
	char why[512];

	if (have_key) {
		/* Not gnutls_load_file: its open of a FIFO waits for a writer. */
		gnutls_datum_t kfile;
		if (read_pem(keypath, &kfile, false) < 0)
			goto out;
		if ((err = gnutls_x509_privkey_init(&key)) < 0)
			log_err("cannot load the hub key: %s", gnutls_strerror(err));
		else if ((err = gnutls_x509_privkey_import(key, &kfile, GNUTLS_X509_FMT_PEM)) < 0)
			bad_key(keypath, crtpath, err);
		gnutls_memset(kfile.data, 0, kfile.size);
		free(kfile.data);
		if (err < 0)
			goto out;
	} else if (gnutls_x509_privkey_init(&key) < 0 ||
	           gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	               GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	           gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem) < 0) {
		log_err("cannot generate the hub key");
		goto out;
	}
	if (make_certificate(key, &cpem) < 0) {
		log_err("cannot make the hub certificate");
		goto out;
	}
	/* Key first: a certificate without its key is useless. Never over a
	 * key that is there (made by another since we looked): its pin may
	 * have been printed already. That one is read instead. */
	int kr = have_key ? 0 : statefile_create(keypath, kpem.data, kpem.size, 0600, why, sizeof(why));
	if (kr == 1) {
		rv = 1;
		goto out;
	}
	if (kr < 0 || statefile_write(crtpath, cpem.data, cpem.size, 0644, why, sizeof(why)) < 0) {
		log_err("%s", why);
		goto out;
	}
	if (have_key)
		log_warn("%s %s: made a new certificate for the key in %s (the pin stays)",
		         crtpath, why_new, keypath);
	else
		log_info("created hub key %s and certificate %s", keypath, crtpath);
	rv = 0;
out:
	if (kpem.data) {
		gnutls_memset(kpem.data, 0, kpem.size);
		gnutls_free(kpem.data);
	}
	gnutls_free(cpem.data);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rv;
}

int state_dir_make(const char *dir, bool reading)
{
	struct stat st;
	if (mkdir(dir, 0700) == 0)
		return 0;
	int e = errno;
	if (e == EEXIST) {
		if (stat(dir, &st) < 0) /* a dangling link: its name is there, what it names is not */
			log_err("--state-dir %s: %s (a link to a directory that is not there, such as a "
			        "mount not up yet?)", dir, strerror(errno));
		else if (S_ISDIR(st.st_mode)) {
			char err[1600];
			if (statefile_dir_check(dir, reading, err, sizeof(err)) >= 0)
				return 0;
			int unsafe = errno == EPERM;
			log_err("%s", err);
			if (unsafe)
				return -2;
		}
		else
			log_err("--state-dir %s: not a directory (give a directory with --state-dir)", dir);
		return -1;
	}
	if (e == ENOTDIR) {
		log_err("cannot create the state directory %s: a part of its path is a file, not a "
		        "directory (give another --state-dir)", dir);
		return -1;
	}
	/* Its parent, for the messages: "dir/.." would not name it. */
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", dir);
	size_t n = strlen(parent);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	char *slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else
		slash[slash == parent] = '\0';
	if (e == ENOENT)
		log_err("cannot create the state directory %s: %s does not exist (create it, or give "
		        "another --state-dir)", dir, parent);
	else if (e == EROFS)
		log_err("cannot create the state directory %s: %s (under systemd: StateDirectory= or "
		        "ReadWritePaths= makes it writable)", dir, strerror(e));
	else if (e == EACCES || e == EPERM)
		log_err("cannot create the state directory %s: %s (this user may not write %s: run as "
		        "root, or give --state-dir)", dir, strerror(e), parent);
	else
		log_err("cannot create the state directory %s: %s (give another with --state-dir)", dir,
		        strerror(e));
	return -1;
}

/* hub.key that others may read (put back from a backup, copied with a
 * umask of 022; a link to such a file): whoever reads it can pose as the
 * hub to the clients that pin it. Said at each start, not refused, as
 * for a client's config file with a token; the state directory's mode
 * may keep them out, or not (one of 0755 is taken). */
static void key_mode_check(const char *keypath)
{
	struct stat st;
	if (stat(keypath, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		log_warn("%s, the hub's private key, may be read by %s (mode %04o): whoever reads it "
		         "can pose as this hub to clients that pin it; chmod 600 %s", keypath,
		         st.st_mode & S_IROTH ? "every user" : "its group",
		         (unsigned)(st.st_mode & 07777), keypath);
}

struct identity_paths {
	const char *key, *crt;
};

/* No use waiting for the lock once both files are there: it is a running
 * hub's. */
static bool identity_made(void *arg)
{
	const struct identity_paths *p = arg;
	return access(p->key, F_OK) == 0 && access(p->crt, F_OK) == 0;
}

/* For one that does not hold hub.lock (slopnd pin): the lock, as the hub
 * takes it, for making the identity. 1 with *fd locked; 0 when it cannot
 * be had: both files are there (a running hub holds it for its life), or
 * it cannot be opened or locked (a user who may not write the directory,
 * a read-only one): the files are read as they are, nothing made. Another
 * slopnd pin holds it only while it makes them: waited for. -1 said. */
static int lock_for_making(const char *dir, const char *keypath, const char *crtpath, int *fd)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/hub.lock", dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return 0;
	struct identity_paths paths = {keypath, crtpath};
	int r = statefile_lock_wait(*fd, 10000, 10, identity_made, &paths);
	if (r == 1)
		return 1;
	/* Held past the wait, the files still missing; else (made meanwhile,
	 * or no lock to be had here) they are read as they are. */
	bool stuck = r < 0 && errno == EWOULDBLOCK;
	if (stuck)
		log_err("%s has no key and certificate, and %s is held by another process "
		        "that does not make them", dir, path);
	close(*fd);
	*fd = -1;
	return stuck ? -1 : 0;
}

static void not_made(const char *keypath, const char *crtpath, const char *state_dir)
{
	log_err("%s or %s is missing, and is not made without %s/hub.lock (held by a running hub, "
	        "or it cannot be opened)", keypath, crtpath, state_dir);
}

int tls_identity_load(struct tls_identity *id, const char *state_dir, bool locked)
{
	char keypath[4096], crtpath[4096];
	gnutls_datum_t kd = {0}, cd = {0};
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t kder = {0};
	int rv = -1, err, lock_fd = -1;
	bool hub = locked; /* the hub, not slopnd pin */

	memset(id, 0, sizeof(*id));
	if (state_dir_make(state_dir, !locked) < 0)
		return -1;
	snprintf(keypath, sizeof(keypath), "%s/hub.key", state_dir);
	snprintf(crtpath, sizeof(crtpath), "%s/hub.crt", state_dir);
	/* Made by one at a time: two that both found no key each made one, and
	 * one's printed pin was not the key left on disk. */
	if (!locked) {
		int l = lock_for_making(state_dir, keypath, crtpath, &lock_fd);
		if (l < 0)
			return -1;
		locked = l == 1;
	}
again:
	if (access(keypath, F_OK) < 0) {
		/* Missing is one thing; unreadable (a user who may not look into
		 * the state directory) is another: never make a key over it. */
		if (errno != ENOENT) {
			log_err("cannot read %s: %s%s", keypath, strerror(errno),
			        statefile_denied_hint(EACCES, false)); /* the hint whatever errno */
			goto out;
		}
		/* Its certificate without it: the key was lost, not never made.
		 * A new one would change the pin that every client checks. */
		if (access(crtpath, F_OK) == 0) {
			log_err("%s is missing, but %s is there: the hub's key is lost, and a new one "
			        "would change its pin (clients with --pin would be refused). Put %s "
			        "back, or move %s away to make a new key and pin", keypath, crtpath,
			        keypath, crtpath);
			goto out;
		}
		if (!locked) {
			not_made(keypath, crtpath, state_dir);
			goto out;
		}
		int c = create_identity(keypath, crtpath, false, NULL);
		if (c == 1)
			goto again; /* made by another meanwhile (one without the lock) */
		if (c < 0)
			goto out;
	} else if (access(crtpath, F_OK) < 0 && errno == ENOENT) {
		if (!locked) {
			not_made(keypath, crtpath, state_dir);
			goto out;
		}
		if (create_identity(keypath, crtpath, true, "was missing") < 0)
			goto out;
	}

	/* Each file on its own, named when it fails: a damaged certificate
	 * is made again, a damaged key is not (a new one is a new pin). */
	if ((err = gnutls_x509_privkey_init(&key)) < 0 || (err = gnutls_x509_crt_init(&crt)) < 0) {
		log_err("cannot load the hub's identity: %s", gnutls_strerror(err));
		goto out;
	}
	if (read_pem(keypath, &kd, locked) < 0)
		goto out;
	if ((err = gnutls_x509_privkey_import(key, &kd, GNUTLS_X509_FMT_PEM)) < 0) {
		bad_key(keypath, crtpath, err);
		goto out;
	}
	if (hub)
		key_mode_check(keypath);
	if (read_pem(crtpath, &cd, locked) < 0)
		goto out;
	if ((err = gnutls_x509_crt_import(crt, &cd, GNUTLS_X509_FMT_PEM)) < 0) {
		/* A certificate cut short (a crash, a full disk) with its key
		 * whole: a new one for the key keeps the pin; stopping here would
		 * keep the hub down, and moving both away would change the pin. */
		char bad[4200], why_new[4400];
		if (!locked) {
			log_err("%s is not a valid PEM certificate: %s; and it is not made again without "
			        "%s/hub.lock (held by a running hub, or it cannot be opened)", crtpath,
			        gnutls_strerror(err), state_dir);
			goto out;
		}
		if (statefile_set_aside(crtpath, bad, sizeof(bad)) < 0) {
			log_err("%s is not a valid PEM certificate: %s; and it cannot be moved aside (%s): "
			        "move it away, and the next start makes a new one for the key in %s (the "
			        "pin stays)", crtpath, gnutls_strerror(err), strerror(errno), keypath);
			goto out;
		}
		snprintf(why_new, sizeof(why_new), "was not a valid PEM certificate (%s), now %s",
		         gnutls_strerror(err), bad);
		free(cd.data);
		cd.data = NULL;
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
		if (create_identity(keypath, crtpath, true, why_new) < 0 || read_pem(crtpath, &cd, locked) < 0)
			goto out;
		if ((err = gnutls_x509_crt_init(&crt)) < 0 ||
		    (err = gnutls_x509_crt_import(crt, &cd, GNUTLS_X509_FMT_PEM)) < 0) {
			log_err("%s, just made, cannot be loaded: %s", crtpath, gnutls_strerror(err));
			goto out;
		}
	}
	if ((err = gnutls_certificate_allocate_credentials(&id->cred)) < 0 ||
	    (err = gnutls_certificate_set_x509_key(id->cred, &crt, 1, key)) < 0) {
		/* The pin is the key's: which file to trust decides what to do. */
		log_err("%s does not match %s: %s (if %s is the hub's key, move %s away: the next start "
		        "makes a certificate for it and the pin stays; else put the hub's key back from "
		        "a backup)", keypath, crtpath, gnutls_strerror(err), keypath, crtpath);
		goto out;
	}
	if (crt_pin(crt, id->pin) < 0 ||
	    gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_DER, &kder) < 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, kder.data, kder.size,
	                     "slopn stateless reset", 21, id->reset_secret) < 0 ||
	    gnutls_hmac_fast(GNUTLS_MAC_SHA256, kder.data, kder.size,
	                     "slopn connection id", 19, id->cid_secret) < 0 ||
	    /* Not from the key, as the reset secret is (a restarted hub resets
	     * its old connections): Retry tokens carry a monotonic time, which
	     * starts again at a reboot, and live 10 s; one of an earlier run
	     * must not verify. */
	    gnutls_rnd(GNUTLS_RND_KEY, id->token_secret, sizeof(id->token_secret)) < 0) {
		log_err("cannot derive the pin and the reset secret from %s, or make a token secret", keypath);
		goto out;
	}
	rv = 0;
out:
	if (kder.data) {
		gnutls_memset(kder.data, 0, kder.size);
		gnutls_free(kder.data);
	}
	if (kd.data) {
		gnutls_memset(kd.data, 0, kd.size);
		free(kd.data);
	}
	free(cd.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (lock_fd >= 0)
		close(lock_fd);
	if (rv < 0 && id->cred) {
		gnutls_certificate_free_credentials(id->cred);
		id->cred = NULL;
	}
	return rv;
}

void tls_identity_free(struct tls_identity *id)
{
	if (id->cred)
		gnutls_certificate_free_credentials(id->cred);
	id->cred = NULL;
}

static int setup_common(gnutls_session_t s, gnutls_certificate_credentials_t cred,
                        const char *alpn, unsigned alpn_flags,
                        ngtcp2_crypto_conn_ref *ref)
{
	gnutls_datum_t proto = {(unsigned char *)alpn, (unsigned)strlen(alpn)};
	if (gnutls_priority_set_direct(s, priority, NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		return -1;
	/* An empty ALPN sends none at all: only protocol tests ask for that. */
	if (*alpn && gnutls_alpn_set_protocols(s, &proto, 1, alpn_flags) < 0)
		return -1;
	gnutls_session_set_ptr(s, ref);
	return 0;
}

bool tls_test_no_alpn(void)
{
	static int no = -1;
	if (no < 0)
		no = testenv_get("SLOPND_TEST_NO_ALPN", 1, 1) != 0;
	return no;
}

int tls_server_session(gnutls_session_t *out, struct tls_identity *id,
                       ngtcp2_crypto_conn_ref *ref)
{
	gnutls_session_t s;
	if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA) < 0)
		return -1;
	if (ngtcp2_crypto_gnutls_configure_server_session(s) < 0 ||
	    setup_common(s, id->cred, tls_test_no_alpn() ? "" : SLOPN_ALPN, GNUTLS_ALPN_MANDATORY,
	                 ref) < 0) {
		gnutls_deinit(s);
		return -1;
	}
	*out = s;
	return 0;
}

int tls_client_session(gnutls_session_t *out,
                       gnutls_certificate_credentials_t cred, const char *sni,
                       const char *alpn, ngtcp2_crypto_conn_ref *ref)
{
	gnutls_session_t s;
	if (gnutls_init(&s, GNUTLS_CLIENT) < 0)
		return -1;
	if (ngtcp2_crypto_gnutls_configure_client_session(s) < 0 ||
	    setup_common(s, cred, alpn, 0, ref) < 0 ||
	    (sni && gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)) < 0)) {
		gnutls_deinit(s);
		return -1;
	}
	*out = s;
	return 0;
}

bool tls_alpn_ok(gnutls_session_t s)
{
	gnutls_datum_t p;
	return gnutls_alpn_get_selected_protocol(s, &p) == 0 &&
	       p.size == sizeof(SLOPN_ALPN) - 1 &&
	       memcmp(p.data, SLOPN_ALPN, p.size) == 0;
}

int tls_peer_pin(gnutls_session_t s, char out[PIN_STRLEN])
{
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	gnutls_x509_crt_t crt;
	if (!certs || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	int rv = -1;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0)
		rv = crt_pin(crt, out);
	gnutls_x509_crt_deinit(crt);
	return rv;
}
