/* Text from outside (a peer's close reason, a login's fields) on its way
 * to logs, events and terminals. Pure functions. */
#ifndef SLOPN_PROTO_TEXT_H
#define SLOPN_PROTO_TEXT_H

#include <stddef.h>

/* In place: valid UTF-8 stays; a byte that is not part of a valid
 * sequence, and a control character (C0, DEL, C1, a line separator, a
 * bidirectional control), becomes '?' (each of
 * its bytes), so the length stays and the result is valid UTF-8 without
 * controls: one log line, a JSON string jansson takes, nothing a terminal
 * acts on. */
void text_clean(char *s, size_t len);

/* The length of the longest prefix of s[0..len) that text_clean leaves
 * as it is: valid UTF-8 without control characters. len if all of it. */
size_t text_plain(const char *s, size_t len);

/* s[0..len) into out (outlen > 0; NUL-terminated), for a message that
 * shows someone's text as it is: valid UTF-8 stays, and each byte that
 * text_clean would make '?' is written \xNN instead (so "\x1b[2J", not
 * an escape sequence a terminal acts on). A '\' stays as it is: the text
 * is for a person to read, not to decode. Stops before what does not fit
 * whole. Returns the length written. */
size_t text_escape(char *out, size_t outlen, const char *s, size_t len);

/* The length of the longest prefix of s[0..len) of at most max bytes that
 * does not end inside a UTF-8 sequence. */
size_t text_cut(const char *s, size_t len, size_t max);

/* A lower-case hex digit's value, or -1 (upper case too: what we write
 * is lower case, and a reader of it refuses rather than guesses). */
int text_hexval(char c);

/* jansson's reason for text that is not JSON (a json_error_t's text) into
 * out (outlen bytes, NUL included), its "invalid token" (a word of JSON it
 * cannot read) said as "unexpected text": beside logins and tokens.json, a
 * reader takes that for a SloPN token. out, for a format's %s. */
const char *text_json_why(const char *why, char *out, size_t outlen);

#endif
