#include "proto/clientid.h"

#include <string.h>

static bool hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool client_id_parse(const char *buf, size_t len, char id[CLIENT_ID_LEN + 1])
{
	if (len < CLIENT_ID_LEN)
		return false;
	for (size_t i = 0; i < CLIENT_ID_LEN; i++)
		if (!hexdigit(buf[i]))
			return false;
	for (size_t i = CLIENT_ID_LEN; i < len; i++)
		if (buf[i] != '\n')
			return false;
	memcpy(id, buf, CLIENT_ID_LEN);
	id[CLIENT_ID_LEN] = '\0';
	return true;
}
