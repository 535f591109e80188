/* libFuzzer: leases.json. Whatever parses must format and parse back to the
 * same entries; whatever fails must say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/leasefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease_entry *v, *w;
	size_t n, m;
	char err[256] = "";
	if (leasefile_parse((const char *)data, size, &v, &n, err, sizeof(err)) < 0) {
		if (!err[0] || v || n)
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((!token_name_valid(v[i].token) && strcmp(v[i].token, TOKEN_NAME_SHARED)) ||
		    (v[i].client_id[0] && !slopn_client_id_valid(v[i].client_id)) || !v[i].vip)
			abort();
	char *text = leasefile_format(v, n);
	if (!text || leasefile_parse(text, strlen(text), &w, &m, err, sizeof(err)) < 0 || m != n ||
	    (n && memcmp(v, w, n * sizeof(*v)) != 0))
		abort();
	free(text);
	free(v);
	free(w);
	return 0;
}
