/* Connection-ID routing on the hub: QUIC connection IDs (1..20 bytes) to the
 * connection that owns them. Open addressing with a keyed hash, since
 * clients choose some of the keys (the original destination CID). */
#ifndef SLOPN_CIDMAP_H
#define SLOPN_CIDMAP_H

#include <stddef.h>
#include <stdint.h>

#define CIDMAP_MAXLEN 20

struct cidmap_entry {
	uint8_t len;          /* 0 = empty slot */
	uint8_t tomb;         /* 1 = deleted slot (keeps probe chains intact) */
	uint8_t cid[CIDMAP_MAXLEN];
	void *value;
};

struct cidmap {
	struct cidmap_entry *slots;
	size_t cap;           /* power of two */
	size_t count;         /* live entries */
	size_t tombs;
	size_t min_cap;       /* what it was made with: it shrinks back to it, not below */
	uint64_t key[2];      /* hash key, random per map */
	/* The slot of the last hit, tried first: a receive batch holds runs
	 * of packets of one connection, and hashing each costs more than a
	 * compare. Only a hint (its key is compared), reset when slots move. */
	struct cidmap_entry *last;
};

int cidmap_init(struct cidmap *m, size_t initial_cap); /* 0 or -1 */
void cidmap_free(struct cidmap *m);
/* Insert or replace. 0, or -1 on bad length / no memory. */
int cidmap_put(struct cidmap *m, const uint8_t *cid, size_t len, void *value);
void *cidmap_get(struct cidmap *m, const uint8_t *cid, size_t len);
/* Remove; returns the old value or NULL. */
void *cidmap_del(struct cidmap *m, const uint8_t *cid, size_t len);
/* Remove every entry of value, by a scan of all slots: for when its
 * connection IDs cannot be listed. Returns how many. */
size_t cidmap_del_value(struct cidmap *m, const void *value);

#endif
