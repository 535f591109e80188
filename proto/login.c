#include "proto/login.h"
#include "proto/addr.h"
#include "proto/ipv4.h"
#include "proto/ipv6.h"
#include "proto/text.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Write a reason into err and return -1. Reasons go to logs and, on the
 * hub, back to the peer inside a JSON string; jansson's messages quote
 * bytes of the input, so anything outside printable ASCII becomes '?'. */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return -1;
}

/* The line as a JSON object, or NULL with err set. */
static json_t *load_object(const char *line, size_t len, char *err, size_t errlen)
{
	if (!line) {
		fail(err, errlen, "no message");
		return NULL;
	}
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= SLOPN_LOGIN_MAX) { /* the limit counts the '\n' */
		fail(err, errlen, "message is larger than %d bytes", SLOPN_LOGIN_MAX);
		return NULL;
	}
	json_error_t je;
	/* A key given twice: the last one counts, as with Go's decoder (the
	 * original's), which takes such lines. */
	json_t *j = json_loadb(line, len, 0, &je);
	if (!j) {
		char why[sizeof(je.text) + 8];
		fail(err, errlen, "not JSON (%s at byte %d)", text_json_why(je.text, why, sizeof(why)),
		     je.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		fail(err, errlen, "not a JSON object");
		return NULL;
	}
	/* A field that is null is taken as absent: a Go peer's struct writes
	 * an unset pointer so without omitempty, and our fields are optional.
	 * So is "" of an optional one (an unset string), and a prefix_len6 of
	 * 0 without IPv6 addresses (an unset number): not worth a word. The
	 * mandatory ones stay, to be refused as they are. */
	static const char *const mandatory[] = {"type", "token", "status", "assigned_vip",
	                                        "server_vip"};
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(j, tmp, key, v) {
		bool unset = json_is_null(v) || (json_is_string(v) && !json_string_length(v));
		for (size_t i = 0; unset && !json_is_null(v) && i < sizeof(mandatory) / sizeof(*mandatory); i++)
			unset = strcmp(key, mandatory[i]) != 0;
		if (unset)
			json_object_del(j, key);
	}
	v = json_object_get(j, "prefix_len6");
	if (json_is_integer(v) && json_integer_value(v) == 0 && !json_object_get(j, "assigned_vip6") &&
	    !json_object_get(j, "server_vip6"))
		json_object_del(j, "prefix_len6");
	return j;
}

enum field { OPTIONAL, REQUIRED, EXACT, OPTIONAL_EXACT };

/* Copy string field key into dst (cap bytes, NUL included). OPTIONAL and
 * OPTIONAL_EXACT leave "" when absent; OPTIONAL and REQUIRED truncate to
 * fit, on a UTF-8 character boundary so the copy still formats as JSON;
 * EXACT and OPTIONAL_EXACT refuse what does not fit (a token or an id must
 * never be cut short). */
static int get_string(json_t *o, const char *key, char *dst, size_t cap, enum field how,
                      char *err, size_t errlen)
{
	if (cap == 0)
		return fail(err, errlen, "no room for field \"%s\"", key);
	dst[0] = '\0';
	json_t *v = json_object_get(o, key);
	if (!v)
		return how == OPTIONAL || how == OPTIONAL_EXACT
		       ? 0 : fail(err, errlen, "field \"%s\" is missing", key);
	if (!json_is_string(v))
		return fail(err, errlen, "field \"%s\" is not a string", key);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	/* jansson refuses \u0000 unless asked, but a C string must not hide one. */
	if (memchr(s, '\0', n))
		return fail(err, errlen, "field \"%s\" contains a NUL character", key);
	if (n >= cap) {
		if (how == EXACT || how == OPTIONAL_EXACT)
			return fail(err, errlen, "field \"%s\" is longer than %zu bytes", key, cap - 1);
		n = text_cut(s, n, cap - 1);
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	/* Text for people (a version, a message) goes to logs and terminals:
	 * no control characters. What must match (a token) stays as sent. */
	if (how == OPTIONAL || how == REQUIRED)
		text_clean(dst, n);
	return 0;
}

static int check_type(json_t *o, const char *want, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "type");
	if (!v)
		return fail(err, errlen, "field \"type\" is missing");
	if (!json_is_string(v))
		return fail(err, errlen, "field \"type\" is not a string");
	/* The value is the peer's: say what was expected, do not echo it. */
	if (strcmp(json_string_value(v), want) != 0 || json_string_length(v) != strlen(want))
		return fail(err, errlen, "field \"type\" is not \"%s\"", want);
	return 0;
}

bool slopn_client_id_valid(const char *id)
{
	size_t n = strlen(id);
	return n >= 1 && n <= SLOPN_CLIENT_ID_MAX &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* An optional boolean: false when absent. */
static int get_bool(json_t *o, const char *key, bool *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, errlen, "field \"%s\" is not true or false", key);
	*out = json_is_true(v);
	return 0;
}

/* An optional id field (client_id, instance): absent, or a valid id; ""
 * is absent too (a Go peer's unset string, without omitempty). */
static int get_id(json_t *o, const char *key, char *out, size_t size, char *err, size_t errlen)
{
	if (get_string(o, key, out, size, OPTIONAL_EXACT, err, errlen) < 0)
		return -1;
	if (out[0] && !slopn_client_id_valid(out))
		return fail(err, errlen, "field \"%s\" is not 1-%d characters of A-Z a-z 0-9 . _ -", key,
		            SLOPN_CLIENT_ID_MAX);
	return 0;
}

/* An optional field's refusal (rv < 0, reason in why): the field is taken
 * as absent (the caller clears it), the first reason kept for the log. */
static bool refused(int rv, struct slopn_ignored *ig, const char *why)
{
	if (rv >= 0)
		return false;
	if (ig->n++ == 0)
		snprintf(ig->why, sizeof(ig->why), "%s", why);
	return true;
}

int slopn_login_request_parse(const char *line, size_t len, struct slopn_login_request *out,
                              char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	json_t *o = load_object(line, len, err, errlen);
	if (!o)
		return -1;
	int rv = -1;
	if (check_type(o, "login_request", err, errlen) < 0 ||
	    get_string(o, "token", out->token, sizeof(out->token), EXACT, err, errlen) < 0)
		goto out;
	if (!out->token[0]) {
		fail(err, errlen, "field \"token\" is empty");
		goto out;
	}
	/* The rest is optional: what is not right is as good as absent (a
	 * refusal would count towards a ban of the peer's whole address). */
	struct slopn_ignored *ig = &out->ignored;
	char why[SLOPN_IGNORED_MAX];
	if (refused(get_string(o, "client_version", out->client_version, sizeof(out->client_version),
	                       OPTIONAL, why, sizeof(why)), ig, why))
		out->client_version[0] = '\0';
	if (refused(get_string(o, "os", out->os, sizeof(out->os), OPTIONAL, why, sizeof(why)), ig, why))
		out->os[0] = '\0';
	if (refused(get_id(o, "client_id", out->client_id, sizeof(out->client_id), why, sizeof(why)),
	            ig, why))
		out->client_id[0] = '\0';
	if (refused(get_id(o, "instance", out->instance, sizeof(out->instance), why, sizeof(why)), ig,
	            why))
		out->instance[0] = '\0';
	if (refused(get_bool(o, "ipv6", &out->ipv6, why, sizeof(why)), ig, why))
		out->ipv6 = false;
	rv = 0;
out:
	json_decref(o);
	if (rv < 0)
		memset(out->token, 0, sizeof(out->token)); /* no secret left behind */
	return rv;
}

/* A required dotted-quad field. */
static int get_ip(json_t *o, const char *key, struct in_addr *a, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return fail(err, errlen, "field \"%s\" is missing", key);
	if (!json_is_string(v))
		return fail(err, errlen, "field \"%s\" is not a string", key);
	/* inet_pton wants a C string: the length check also rules out a NUL inside. */
	const char *s = json_string_value(v);
	if (json_string_length(v) >= INET_ADDRSTRLEN || strlen(s) != json_string_length(v) ||
	    inet_pton(AF_INET, s, a) != 1)
		return fail(err, errlen, "field \"%s\" is not an IPv4 address", key);
	return 0;
}

/* A required IPv6 address field. */
static int get_ip6(json_t *o, const char *key, struct in6_addr *a, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return fail(err, errlen, "field \"%s\" is missing", key);
	const char *s = json_string_value(v);
	if (!s || json_string_length(v) >= INET6_ADDRSTRLEN || strlen(s) != json_string_length(v) ||
	    inet_pton(AF_INET6, s, a) != 1)
		return fail(err, errlen, "field \"%s\" is not an IPv6 address", key);
	return 0;
}

/* Neither ::, nor multicast: an address one interface can hold. */
/* A unicast address of a /prefix, not its network or broadcast address. */
static bool host_of(uint32_t a, unsigned prefix)
{
	uint32_t host = ntohl(a) & ~(~0u << (32 - prefix)), all = ~(~0u << (32 - prefix));
	return ipv4_unicast(a) && host != 0 && host != all;
}

bool slopn_dns_ok4(uint32_t a)
{
	return ipv4_unicast(a) && ntohl(a) >> 16 != 0xa9fe; /* nor link-local */
}

bool slopn_dns_ok6(const struct in6_addr *a)
{
	return !ipv6_link_scoped(a->s6_addr) && !IN6_IS_ADDR_LOOPBACK(a) &&
	       !IN6_IS_ADDR_V4MAPPED(a);
}

static bool unicast6(const struct in6_addr *a)
{
	return a->s6_addr[0] != 0xff && !IN6_IS_ADDR_UNSPECIFIED(a);
}

/* The IPv6 addresses of a success: assigned_vip6, server_vip6 and
 * prefix_len6, all valid or none. */
static int get_ipv6_addrs(json_t *o, struct slopn_login_response *out, char *err, size_t errlen)
{
	json_t *pl = json_object_get(o, "prefix_len6");
	bool a = json_object_get(o, "assigned_vip6"), h = json_object_get(o, "server_vip6");
	if (!a && !h && !pl)
		return 0;
	if (!a || !h || !pl)
		return fail(err, errlen, "fields \"assigned_vip6\", \"server_vip6\" and "
		            "\"prefix_len6\" come together");
	if (get_ip6(o, "assigned_vip6", &out->assigned_vip6, err, errlen) < 0 ||
	    get_ip6(o, "server_vip6", &out->server_vip6, err, errlen) < 0)
		return -1;
	if (!unicast6(&out->assigned_vip6) || !unicast6(&out->server_vip6))
		return fail(err, errlen, "fields \"assigned_vip6\" and \"server_vip6\" must be "
		            "unicast addresses");
	/* A wider prefix would route more than a VPN's subnet into the
	 * tunnel (::/1 would be all of the internet). */
	if (!json_is_integer(pl) || json_integer_value(pl) < SLOPN_PREFIX6_MIN ||
	    json_integer_value(pl) > 127)
		return fail(err, errlen, "field \"prefix_len6\" is not an integer from %d to 127",
		            SLOPN_PREFIX6_MIN);
	out->prefix_len6 = (unsigned)json_integer_value(pl);
	if (!addr_same_prefix(&out->assigned_vip6, &out->server_vip6, out->prefix_len6) ||
	    !memcmp(&out->assigned_vip6, &out->server_vip6, 16) ||
	    ipv6_link_scoped(out->assigned_vip6.s6_addr) ||
	    IN6_IS_ADDR_LOOPBACK(&out->assigned_vip6))
		return fail(err, errlen, "fields \"assigned_vip6\" and \"server_vip6\" are not two "
		            "addresses of one /%u", out->prefix_len6);
	return 0;
}

/* The hub's IPv6 DNS server, when given. */
static int get_dns6(json_t *o, struct in6_addr *a, char *err, size_t errlen)
{
	if (!json_object_get(o, "dns6"))
		return 0;
	if (get_ip6(o, "dns6", a, err, errlen) < 0)
		return -1;
	if (!slopn_dns_ok6(a))
		return fail(err, errlen, "field \"dns6\" is not a DNS server a client can ask "
		            "(loopback, link-local, multicast or unspecified)");
	return 0;
}

/* The hub's DNS server, when given. */
static int get_dns(json_t *o, struct in_addr *a, char *err, size_t errlen)
{
	if (!json_object_get(o, "dns"))
		return 0;
	if (get_ip(o, "dns", a, err, errlen) < 0)
		return -1;
	if (!slopn_dns_ok4(a->s_addr))
		return fail(err, errlen, "field \"dns\" is not a DNS server a client can ask (0/8, "
		            "loopback, link-local, multicast)");
	return 0;
}

/* Prefix length of a contiguous netmask (host order) from
 * SLOPN_PREFIX_MIN to /30, or -1: a wider one would route more than a
 * VPN's subnet into the tunnel (/1 is half the internet), a narrower one
 * has no room for a hub and a client. */
static int mask_prefix(uint32_t m)
{
	int bits = __builtin_popcount(m);
	if (bits < SLOPN_PREFIX_MIN || bits > 30)
		return -1;
	/* Contiguous means exactly the top `bits` bits are set. */
	return m == ~0u << (32 - bits) ? bits : -1;
}

/* The subnet's prefix from subnet_mask, when given. */
static int get_mask(json_t *o, unsigned *prefix, char *err, size_t errlen)
{
	if (!json_object_get(o, "subnet_mask"))
		return 0;
	struct in_addr mask;
	int bits;
	if (get_ip(o, "subnet_mask", &mask, err, errlen) < 0)
		return -1;
	if ((bits = mask_prefix(ntohl(mask.s_addr))) < 0)
		return fail(err, errlen, "field \"subnet_mask\" is not a contiguous netmask from /%d "
		            "to /30", SLOPN_PREFIX_MIN);
	*prefix = (unsigned)bits;
	return 0;
}

int slopn_login_response_parse(const char *line, size_t len, struct slopn_login_response *out,
                               char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	out->prefix_len = 24; /* the original hub sends no subnet_mask */
	json_t *o = load_object(line, len, err, errlen);
	if (!o)
		return -1;
	int rv = -1;
	struct slopn_ignored *ig = &out->ignored;
	char why[SLOPN_IGNORED_MAX];
	json_t *st = json_object_get(o, "status");
	if (check_type(o, "login_response", err, errlen) < 0)
		goto out;
	if (!st || !json_is_string(st)) {
		fail(err, errlen, "field \"status\" is missing or not a string");
		goto out;
	}
	bool error = strcmp(json_string_value(st), "error") == 0 && json_string_length(st) == 5;
	if (!error && (strcmp(json_string_value(st), "success") != 0 || json_string_length(st) != 7)) {
		fail(err, errlen, "field \"status\" is neither \"success\" nor \"error\"");
		goto out;
	}
	if (refused(get_string(o, "server_version", out->server_version, sizeof(out->server_version),
	                       OPTIONAL, why, sizeof(why)), ig, why))
		out->server_version[0] = '\0';
	if (error) {
		/* The message is only meaningful on failure. */
		if (refused(get_string(o, "message", out->message, sizeof(out->message), OPTIONAL, why,
		                       sizeof(why)), ig, why))
			out->message[0] = '\0';
		rv = 0;
		goto out;
	}
	if (get_ip(o, "assigned_vip", &out->assigned_vip, err, errlen) < 0 ||
	    get_ip(o, "server_vip", &out->server_vip, err, errlen) < 0)
		goto out;
	/* A mask that is not one (or one wider than a VPN's) is no mask: the
	 * /24 the original's clients always take. */
	if (refused(get_mask(o, &out->prefix_len, why, sizeof(why)), ig, why))
		out->prefix_len = 24;
	if (!host_of(out->assigned_vip.s_addr, out->prefix_len) ||
	    !host_of(out->server_vip.s_addr, out->prefix_len) ||
	    out->assigned_vip.s_addr == out->server_vip.s_addr ||
	    !addr_same_prefix(&out->assigned_vip, &out->server_vip, out->prefix_len)) {
		char a[INET_ADDRSTRLEN], h[INET_ADDRSTRLEN];
		fail(err, errlen, "fields \"assigned_vip\" %s and \"server_vip\" %s are not two "
		     "addresses of one /%u", inet_ntop(AF_INET, &out->assigned_vip, a, sizeof(a)),
		     inet_ntop(AF_INET, &out->server_vip, h, sizeof(h)), out->prefix_len);
		goto out;
	}
	if (refused(get_dns(o, &out->dns, why, sizeof(why)), ig, why))
		out->dns.s_addr = 0;
	if (refused(get_ipv6_addrs(o, out, why, sizeof(why)), ig, why)) {
		out->prefix_len6 = 0;
		memset(&out->assigned_vip6, 0, sizeof(out->assigned_vip6));
		memset(&out->server_vip6, 0, sizeof(out->server_vip6));
	}
	if (refused(get_dns6(o, &out->dns6, why, sizeof(why)), ig, why))
		memset(&out->dns6, 0, sizeof(out->dns6));
	if (refused(get_bool(o, "egress6", &out->egress6, why, sizeof(why)), ig, why))
		out->egress6 = false;
	out->ok = true;
	rv = 0;
out:
	json_decref(o);
	if (rv < 0) {
		memset(out, 0, sizeof(*out));
		out->prefix_len = 24;
	}
	return rv;
}

/* Consume j (may be NULL): compact JSON, '\n' and a NUL into buf. */
static ssize_t dump_line(json_t *j, char *buf, size_t cap)
{
	if (!j)
		return -1;
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return -1;
	size_t n = strlen(s);
	if (!buf || cap < 2 || n > cap - 2) {
		free(s);
		return -1;
	}
	memcpy(buf, s, n);
	buf[n++] = '\n';
	buf[n] = '\0';
	free(s);
	return (ssize_t)n;
}

/* A struct's char array as (pointer, length) for json_pack's "s%": never
 * reads past the array even if the caller forgot the NUL. */
#define FIELD(a) (a), strnlen((a), sizeof(a))

/* An id field when set: -1 when it is not a valid id (or has no NUL). */
static int set_id(json_t *j, const char *key, const char *id, size_t size)
{
	if (!id[0])
		return 0;
	if (strnlen(id, size) == size || !slopn_client_id_valid(id))
		return -1;
	return json_object_set_new(j, key, json_string(id));
}

ssize_t slopn_login_request_format(const struct slopn_login_request *req, char *buf, size_t cap)
{
	/* The parser refuses an empty token; so does the formatter, so that
	 * whatever we write, we also read. */
	if (!req || !req->token[0])
		return -1;
	/* json_pack fails on strings that are not UTF-8: -1 then too. */
	json_t *j = json_pack("{s:s, s:s%}", "type", "login_request", "token", FIELD(req->token));
	/* The version and os only when set (ours always are): so the line of
	 * any request the parser took, however long its token, fits again. */
	if (j && ((req->client_version[0] &&
	           json_object_set_new(j, "client_version",
	                               json_stringn(FIELD(req->client_version))) < 0) ||
	          (req->os[0] && json_object_set_new(j, "os", json_stringn(FIELD(req->os))) < 0))) {
		json_decref(j);
		return -1;
	}
	/* Ours only, and only when set, as the parser wants them. */
	if (j && (set_id(j, "client_id", req->client_id, sizeof(req->client_id)) < 0 ||
	          set_id(j, "instance", req->instance, sizeof(req->instance)) < 0)) {
		json_decref(j);
		return -1;
	}
	if (j && req->ipv6 && json_object_set_new(j, "ipv6", json_true()) < 0) {
		json_decref(j);
		return -1;
	}
	return dump_line(j, buf, cap);
}

/* A request with token and the longest fields our client adds, formatted
 * into buf: its length, or -1. */
static ssize_t longest_request(const char *token, char *buf, size_t cap)
{
	size_t n = strlen(token);
	struct slopn_login_request *r = calloc(1, sizeof(*r));
	if (!r || n >= sizeof(r->token)) {
		free(r);
		return -1;
	}
	memcpy(r->token, token, n + 1);
	memset(r->client_version, 'v', sizeof(r->client_version) - 1);
	memset(r->os, 'o', sizeof(r->os) - 1);
	memset(r->client_id, 'c', sizeof(r->client_id) - 1);
	memset(r->instance, 'i', sizeof(r->instance) - 1);
	r->ipv6 = true;
	ssize_t rv = slopn_login_request_format(r, buf, cap);
	explicit_bzero(r->token, n);
	free(r);
	return rv;
}

bool slopn_login_token_fits(const char *token)
{
	char buf[SLOPN_LOGIN_MAX];
	bool fits = token && longest_request(token, buf, sizeof(buf)) >= 0;
	explicit_bzero(buf, sizeof(buf));
	return fits;
}

size_t slopn_login_token_room(void)
{
	char buf[SLOPN_LOGIN_MAX];
	/* The line of a 1-byte token, and its NUL, leave this much room. */
	ssize_t n = longest_request("x", buf, sizeof(buf));
	return n < 0 ? 0 : sizeof(buf) - (size_t)n;
}

static int set_ip6(json_t *j, const char *key, const struct in6_addr *a)
{
	char t[INET6_ADDRSTRLEN];
	return inet_ntop(AF_INET6, a, t, sizeof(t)) ? json_object_set_new(j, key, json_string(t)) : -1;
}

/* Ours: the IPv6 fields, only those that are set. What the parser refuses
 * is not written either. */
static int add_ipv6_part(json_t *j, const struct slopn_login_response *r)
{
	if (r->prefix_len6) {
		if (r->prefix_len6 > 127 || !unicast6(&r->assigned_vip6) || !unicast6(&r->server_vip6) ||
		    set_ip6(j, "assigned_vip6", &r->assigned_vip6) < 0 ||
		    set_ip6(j, "server_vip6", &r->server_vip6) < 0 ||
		    json_object_set_new(j, "prefix_len6", json_integer(r->prefix_len6)) < 0)
			return -1;
	}
	if (r->egress6 && json_object_set_new(j, "egress6", json_true()) < 0)
		return -1;
	if (!IN6_IS_ADDR_UNSPECIFIED(&r->dns6) && set_ip6(j, "dns6", &r->dns6) < 0)
		return -1;
	return 0;
}

ssize_t slopn_login_response_format(const struct slopn_login_response *r, char *buf, size_t cap)
{
	if (!r)
		return -1;
	if (!r->ok)
		return dump_line(json_pack("{s:s, s:s, s:s%, s:s%}", "type", "login_response",
		                           "status", "error", "message", FIELD(r->message),
		                           "server_version", FIELD(r->server_version)),
		                 buf, cap);
	if (r->prefix_len < 1 || r->prefix_len > 31)
		return -1;
	char vip[INET_ADDRSTRLEN], hub[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	struct in_addr m = {htonl(~0u << (32 - r->prefix_len))};
	if (!inet_ntop(AF_INET, &r->assigned_vip, vip, sizeof(vip)) ||
	    !inet_ntop(AF_INET, &r->server_vip, hub, sizeof(hub)) ||
	    !inet_ntop(AF_INET, &m, mask, sizeof(mask)))
		return -1;
	/* Field order follows the original hub's; dns is ours, and only when set. */
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s%}", "type", "login_response",
	                      "status", "success", "assigned_vip", vip, "subnet_mask", mask,
	                      "server_vip", hub, "server_version", FIELD(r->server_version));
	char dns[INET_ADDRSTRLEN];
	if (j && r->dns.s_addr &&
	    (!inet_ntop(AF_INET, &r->dns, dns, sizeof(dns)) ||
	     json_object_set_new(j, "dns", json_string(dns)) < 0)) {
		json_decref(j);
		return -1;
	}
	if (j && add_ipv6_part(j, r) < 0) {
		json_decref(j);
		return -1;
	}
	return dump_line(j, buf, cap);
}

/* A later line of ours: a JSON object of that "type", or NULL with err set. */
static json_t *load_typed(const char *line, size_t len, const char *type, char *err,
                          size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	json_t *o = load_object(line, len, err, errlen);
	if (o && check_type(o, type, err, errlen) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int slopn_network_parse(const char *line, size_t len, struct slopn_network *out, char *err,
                        size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_typed(line, len, "network", err, errlen);
	if (!o)
		return -1;
	int rv = get_bool(o, "egress6", &out->egress6, err, errlen);
	json_decref(o);
	if (rv < 0)
		memset(out, 0, sizeof(*out));
	return rv;
}

ssize_t slopn_network_format(const struct slopn_network *n, char *buf, size_t cap)
{
	if (!n)
		return -1;
	return dump_line(json_pack("{s:s, s:b}", "type", "network", "egress6", n->egress6), buf, cap);
}

int slopn_path_parse(const char *line, size_t len, struct slopn_path *out, char *err,
                     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_t *o = load_typed(line, len, "path", err, errlen);
	if (!o)
		return -1;
	json_t *v = json_object_get(o, "max_udp_payload");
	int rv = 0;
	if (!v)
		rv = fail(err, errlen, "field \"max_udp_payload\" is missing");
	else if (!json_is_integer(v) || json_integer_value(v) < SLOPN_PATH_MIN ||
	         json_integer_value(v) > SLOPN_PATH_MAX)
		rv = fail(err, errlen, "field \"max_udp_payload\" is not a number of %d..%d", SLOPN_PATH_MIN,
		          SLOPN_PATH_MAX);
	else
		out->max_udp_payload = (unsigned)json_integer_value(v);
	json_decref(o);
	return rv;
}

ssize_t slopn_path_format(const struct slopn_path *p, char *buf, size_t cap)
{
	if (!p || p->max_udp_payload < SLOPN_PATH_MIN || p->max_udp_payload > SLOPN_PATH_MAX)
		return -1;
	return dump_line(json_pack("{s:s, s:I}", "type", "path", "max_udp_payload",
	                           (json_int_t)p->max_udp_payload),
	                 buf, cap);
}

int slopn_msg_type(const char *line, size_t len, char *type, size_t typelen)
{
	if (!type || typelen == 0)
		return -1;
	type[0] = '\0';
	json_t *o = load_object(line, len, NULL, 0);
	if (!o)
		return -1;
	/* A "type" that is not a string is as good as none. */
	if (get_string(o, "type", type, typelen, OPTIONAL, NULL, 0) < 0)
		type[0] = '\0';
	json_decref(o);
	return 0;
}
