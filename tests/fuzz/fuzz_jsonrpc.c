/* libFuzzer: control-socket requests, and the answers formed from them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonrpc_request req;
	char err[256] = "";
	int code = jsonrpc_parse((const char *)data, size, &req, err, sizeof(err));
	if (code != 0 && !err[0])
		abort();
	char *line = code ? jsonrpc_format_error(req.id, code, err)
	                  : jsonrpc_format_result(req.id, json_pack("{s:s}", "method", req.method));
	if (!line || line[strlen(line) - 1] != '\n')
		abort();
	free(line);
	if (code == 0) {
		const char *s;
		int64_t i;
		bool b;
		jsonrpc_param_string(req.params, "name", false, &s, err, sizeof(err));
		jsonrpc_param_int(req.params, "id", false, &i, err, sizeof(err));
		jsonrpc_param_bool(req.params, "kick", false, &b, err, sizeof(err));
		/* Whatever the keys (empty, with spaces, parts of names): an end. */
		if (json_is_object(req.params) &&
		    jsonrpc_params_unknown(req.params, "m", "name id kick", err, sizeof(err)) && !err[0])
			abort();
	}
	jsonrpc_request_clear(&req);
	return 0;
}
