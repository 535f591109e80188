/* JSON-RPC 2.0, one object per line (docs/control-api.md). Pure functions. */
#ifndef SLOPN_PROTO_JSONRPC_H
#define SLOPN_PROTO_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONRPC_MAX (64 * 1024) /* bytes in one request line */

enum jsonrpc_code {
	JSONRPC_PARSE_ERROR = -32700,
	JSONRPC_INVALID_REQUEST = -32600,
	JSONRPC_METHOD_NOT_FOUND = -32601,
	JSONRPC_INVALID_PARAMS = -32602,
	JSONRPC_INTERNAL_ERROR = -32603,
	/* SloPN's own, from 1000 up */
	SLOPN_RPC_NO_SESSION = 1000,
	SLOPN_RPC_NAME_TAKEN = 1001,
	SLOPN_RPC_NO_TOKEN = 1002,
	SLOPN_RPC_BAD_VIP = 1003,
	SLOPN_RPC_STORE_FAILED = 1004,
	SLOPN_RPC_WRONG_ROLE = 1005,
	SLOPN_RPC_NO_BAN = 1006,
	SLOPN_RPC_BUSY = 1007,      /* too many subscribers */
	SLOPN_RPC_FULL = 1008,      /* the token store holds TOKENS_MAX */
};

struct jsonrpc_request {
	json_t *id;        /* integer or string; NULL for a notification; owned */
	char method[64];
	json_t *params;    /* an object, or NULL when absent; owned */
};

/* Parse one line. Returns 0, or a JSON-RPC error code with a message in
 * err; req->id is set whenever it could be read, so that the error can
 * name the request. Always call jsonrpc_request_clear afterwards. */
int jsonrpc_parse(const char *line, size_t len, struct jsonrpc_request *req,
                  char *err, size_t errlen);
void jsonrpc_request_clear(struct jsonrpc_request *req);

/* Lines to send, '\n' included, malloc'd (NULL when out of memory).
 * result and params are consumed (their reference is stolen). */
char *jsonrpc_format_result(json_t *id, json_t *result);
char *jsonrpc_format_error(json_t *id, int code, const char *message);
char *jsonrpc_format_notification(const char *method, json_t *params);

/* slopnctl's side: one answer line to its request with id want_id. Returns
 * 0 with *result (a new reference), 1 with the daemon's error in *code and
 * msg (control characters replaced by '?'), or -1 with why in msg when the
 * line is not an answer to that request. */
int jsonrpc_parse_response(const char *line, size_t len, int64_t want_id, json_t **result,
                           int *code, char *msg, size_t msglen);

/* Typed params. Return 0, -1 with err "params.NAME: expected ..." when the
 * param is of the wrong type or (required) missing. An absent optional
 * param leaves *out untouched and returns 0. */
int jsonrpc_param_string(json_t *params, const char *name, bool required,
                         const char **out, char *err, size_t errlen);
int jsonrpc_param_int(json_t *params, const char *name, bool required,
                      int64_t *out, char *err, size_t errlen);
int jsonrpc_param_bool(json_t *params, const char *name, bool required,
                       bool *out, char *err, size_t errlen);

/* A param of params (an object) that method does not take: list names
 * those it takes, one space apart (NULL: none). True, with err naming the
 * param (cut, made printable) and the list, for the first one not in it. */
bool jsonrpc_params_unknown(json_t *params, const char *method, const char *list, char *err,
                            size_t errlen);

#endif
