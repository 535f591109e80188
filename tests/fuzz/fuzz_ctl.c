/* libFuzzer: slopnctl on any answer from its socket. The line as an answer
 * to its request (jsonrpc_parse_response), then any JSON it holds through
 * every command's printer: no crash, and exactly the answers that could be
 * read print. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl/slopnctl.h"
#include "proto/jsonrpc.h"

static void show_all(json_t *r, FILE *out)
{
	for (const struct command *const *c = commands; *c; c++) {
		struct args a = {.cmd = *c, .operand = "x"};
		struct answer an;
		int rc = show_result(&a, r, out, &an);
		if ((rc == 0) != (an.bad[0] == '\0') || (rc != 0 && rc != EXIT_BAD_ANSWER))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out;
	if (!out && !(out = fopen("/dev/null", "w")))
		abort();
	json_t *r;
	int code;
	char msg[256] = "";
	int rv = jsonrpc_parse_response((const char *)data, size, 1, &r, &code, msg, sizeof(msg));
	if (rv < -1 || rv > 1 || (rv == 0) != (r != NULL) || (rv == -1 && !msg[0]))
		abort();
	if (r)
		show_all(r, out);
	json_decref(r);
	/* The result alone, as the printers see it, and an event line. */
	r = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (r)
		show_all(r, out);
	json_decref(r);
	return 0;
}
