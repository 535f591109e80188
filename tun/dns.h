/* --accept-dns: the hub's DNS server in resolv.conf while connected. The
 * file is rewritten in place (it may be a bind mount, as under `ip netns
 * exec`); its original content waits in the backup file (in the state
 * directory, which survives a reboot) until it is put back, so that after
 * a crash the next start restores it.
 *
 * What slopnd writes starts with a header naming its backup: a file with
 * the header is never taken for an original, and one naming another
 * backup belongs to another slopnd (another TUN or --state-dir), which
 * is left to it. The backup goes back only over our own text: anything
 * else in the file is newer than it. */
#ifndef SLOPN_TUN_DNS_H
#define SLOPN_TUN_DNS_H

#include <stddef.h>
#include <stdint.h>

/* What dns_apply, dns_check and dns_leave found. */
enum {
	DNS_OURS = 0,      /* the file is ours as we wrote it */
	DNS_REWRITTEN = 1, /* another program's content became the original; ours is back */
	DNS_OTHER = 2,     /* another slopnd's file: left to it, and no backup of ours kept */
	DNS_EDITED = 3,    /* our text, edited: ours is back, the original as it was */
	DNS_LEFT = 4,      /* given up: the original back if the file was still ours, else
	                    * the file as it is; no backup kept */
};
/* What dns_restore did. */
enum {
	DNS_NO_BACKUP = 0, /* nothing: we did not change the file */
	DNS_RESTORED = 1,  /* the original is back */
	DNS_DROPPED = 2,   /* the file was rewritten since (not ours): left, the backup removed */
	DNS_BAD_BACKUP = 3, /* the backup held slopnd's text (an older slopnd's mistake):
	                     * removed, the file left; err says so */
};

/* server in network order (0: none), server6 16 bytes (NULL: none); at
 * least one of them. 0, DNS_OTHER, or -1 with the reason in err (and no
 * backup left that the file does not need). */
int dns_apply(const char *path, const char *backup, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen);
/* While applied: if the file is no longer ours (a DHCP client wrote the
 * new network's servers), its new content becomes the original to put
 * back, and ours is written again (DNS_REWRITTEN); another slopnd's text
 * is left to it (DNS_OTHER). DNS_OURS also when the file is missing for a
 * moment; -1 with the reason in err (errno EROFS: the file cannot be
 * written here any more). */
int dns_check(const char *path, const char *backup, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen);
/* Another program keeps undoing ours: unless the file is still ours,
 * leave it to that program (DNS_LEFT, or DNS_OTHER for another slopnd);
 * DNS_OURS, or -1 with err. */
int dns_leave(const char *path, const char *backup, uint32_t server, const uint8_t *server6,
              char *err, size_t errlen);
/* Put the original back if the file still holds what we wrote. DNS_*
 * above, or -1 with err. */
int dns_restore(const char *path, const char *backup, char *err, size_t errlen);

/* The DNS servers path names (nameservers_parse), read as the files
 * above are (a FIFO there does not hold the caller): how many, also
 * beyond max; 0 when it cannot be read. */
struct nameserver;
size_t dns_servers(const char *path, struct nameserver *out, size_t max);

#endif
