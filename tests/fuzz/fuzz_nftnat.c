/* libFuzzer: source NAT rules looked for in an nftables listing (another
 * router on the machine that needs forwarding). A find names where, in
 * printable characters, within the room given. The tables of a listing
 * (another client's kill switch), and each name's TUN: a name that fits.
 * A rule's comment of another hub's table (its sysctls' record): one that
 * fits. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/nftnat.h"

static bool tun_of(const char *name, void *ctx)
{
	char t[16];
	memset(t, 'x', sizeof(t));
	if (nft_table_tun("slopnks_", name, t, sizeof(t)) && !memchr(t, 0, sizeof(t)))
		abort();
	++*(unsigned *)ctx;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char w[24];
	memset(w, 'x', sizeof(w));
	int rv = nft_nat_rule_find((const char *)data, size, w, sizeof(w));
	if (rv < -1 || rv > 1)
		abort();
	if (rv == 1) {
		const char *end = memchr(w, 0, sizeof(w));
		if (!end)
			abort();
		for (const char *p = w; p < end; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
	/* Another hub's record: NUL-terminated within the room given. */
	char c[12];
	memset(c, 'x', sizeof(c));
	rv = nft_rule_comment_find((const char *)data, size, "slopn_", "slopn_me", "t:", c, sizeof(c));
	if (rv < -1 || rv > 1 || (rv == 1 && !memchr(c, 0, sizeof(c))))
		abort();
	unsigned n = 0;
	if (nft_tables_each((const char *)data, size, "inet", tun_of, &n) == 1)
		abort(); /* tun_of never stops the walk */
	return 0;
}
