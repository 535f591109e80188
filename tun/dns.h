/* --accept-dns: the hub's DNS server in resolv.conf while connected. The
 * file is rewritten in place (it may be a bind mount, as under `ip netns
 * exec`); its original content waits in the backup file (in the state
 * directory, which survives a reboot) until it is put back, so that after
 * a crash the next start restores it. */
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
/* Put the original back if we changed it. 1 restored, 0 nothing to do, -1 error. */
int dns_restore(const char *path, const char *backup, char *err, size_t errlen);

#endif
