/* --accept-dns: the hub's DNS server in resolv.conf while connected. The
 * file is rewritten in place (it may be a bind mount, as under `ip netns
 * exec`); its original content waits in the backup file (in the state
 * directory, which survives a reboot) until it is put back, so that after
 * a crash the next start restores it.
 *
 * What slopnd writes starts with a header naming its backup; the backup
 * goes back only over that text: anything else in the file is newer. */
#ifndef SLOPN_TUN_DNS_H
#define SLOPN_TUN_DNS_H

#include <stddef.h>
#include <stdint.h>

/* server in network order (0: none), server6 16 bytes (NULL: none); at
 * least one of them. 0, or -1 with the reason in err. */
int dns_apply(const char *path, const char *backup, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen);
/* While applied: if the file is no longer ours (a DHCP client wrote the
 * new network's servers), its new content becomes the original to put
 * back, and ours is written again. 1 when so, 0 when it is still ours (or
 * missing for a moment), -1 with the reason in err. */
int dns_check(const char *path, const char *backup, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen);
/* What dns_restore did. */
enum {
	DNS_NO_BACKUP = 0, /* nothing: we did not change the file */
	DNS_RESTORED = 1,  /* the original is back */
	DNS_DROPPED = 2,   /* the file was rewritten since (not ours): left, the backup removed */
	DNS_BAD_BACKUP = 3, /* the backup held slopnd's text (an older slopnd's mistake):
	                     * removed, the file left; err says so */
};
/* Put the original back if the file still holds what we wrote. DNS_*
 * above, or -1 with err. */
int dns_restore(const char *path, const char *backup, char *err, size_t errlen);

#endif
