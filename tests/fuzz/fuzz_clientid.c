/* libFuzzer: the client id file. A file that parses gives 32 hex digits
 * that parse again as a file of their own; one that does not leaves the
 * output alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/clientid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[CLIENT_ID_LEN + 1];
	memset(id, 'x', sizeof(id));
	if (!client_id_parse((const char *)data, size, id)) {
		for (size_t i = 0; i < sizeof(id); i++)
			if (id[i] != 'x')
				abort();
		return 0;
	}
	char again[CLIENT_ID_LEN + 1];
	if (strlen(id) != CLIENT_ID_LEN || strspn(id, "0123456789abcdef") != CLIENT_ID_LEN ||
	    !client_id_parse(id, CLIENT_ID_LEN, again) || strcmp(id, again) != 0)
		abort();
	return 0;
}
