#include "proto/jsonfile.h"

#include <stdlib.h>
#include <string.h>

char *jsonfile_dump(json_t *root)
{
	char *s = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!s)
		return NULL;
	size_t l = strlen(s);
	char *t = realloc(s, l + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[l] = '\n';
	t[l + 1] = '\0';
	return t;
}
