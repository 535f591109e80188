/* The state directory's JSON files as text. Pure. */
#ifndef SLOPN_PROTO_JSONFILE_H
#define SLOPN_PROTO_JSONFILE_H

#include <jansson.h>

/* root as a file's text: indented, keys in insertion order, '\n'-terminated;
 * malloc'd, NULL when out of memory (or root is NULL). root is consumed. */
char *jsonfile_dump(json_t *root);

#endif
