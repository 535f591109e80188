#!/bin/bash
# Every control method, the hub's and the client's, given every kind of
# wrong input (each parameter missing, null, of another type, out of
# range, too long, with a NUL; ids and requests malformed): every request
# is answered, with a result or an error of the documented codes and its
# own id, and the daemons are still there and answering afterwards (under
# the sanitizers in CI: no memory error either). What the methods do with
# good input is tested elsewhere (ctl.sh, token.sh); here only that no
# input from the socket breaks them.
unset SLOPNCTL_PLAIN # slopnctl is under test: the sanitized one, if built so
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
command -v python3 >/dev/null || skip "needs python3"
topo 1
start_hub
start_client c1
wait_connected c1 10.100.0.2
hubpid=$(pid_of hub) c1pid=$(pid_of c1)

# rpc.py SOCKET METHOD...: the requests for each method, answers checked;
# prints "SENT ANSWERED BAD" and the bad answers after.
cat > "$TMP/rpc.py" <<'PY'
import json, socket, sys

CODES = {-32700, -32600, -32601, -32602, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007}
KEYS = ["name", "vip", "max_sessions", "expires_in", "token", "reason", "id", "kick",
        "address", "addr"]
VALUES = [None, True, False, 0, -1, 1, 2, 65535, 65536, 2**31, 2**63 - 1, -2**63, 1.5, -1e308,
          "", "x", "shared", "10.100.0.2", "10.100.0.0", "10.100.0.1", "10.100.0.255",
          "10.100.1.2", "256.1.1.1", "192.0.2.11", "::1", "fd00::1", "a" * 300, "a" * 20000,
          "../../etc/passwd", "name with space", "\u00fc\u00df", "%s%n", [], [1, "x"], {},
          {"a": 1}]
NON_OBJECTS = [None, 1, "x", [], [1], True]

def params_for():
    yield "omitted", None
    for p in NON_OBJECTS:
        yield "params=" + json.dumps(p)[:30], p
    yield "params={}", {}
    for k in KEYS:
        for v in VALUES:
            yield "%s=%s" % (k, json.dumps(v)[:30]), {k: v}
    # Every key at once, each with a wrong or odd value.
    for i in range(len(VALUES)):
        yield "all keys #%d" % i, {k: VALUES[(i + j) % len(VALUES)] for j, k in enumerate(KEYS)}

class Conn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
    def ask(self, raw):
        self.f.write(raw + b"\n")
        self.f.flush()
        line = self.f.readline()
        if not line:
            raise EOFError("connection closed without an answer")
        return json.loads(line)
    def close(self):
        self.s.close()

sent = answered = 0
bad = []

def check(what, raw, want_id, path, conn=None):
    global sent, answered
    sent += 1
    own = conn is None
    try:
        c = conn or Conn(path)
        r = c.ask(raw)
        if own:
            c.close()
    except Exception as e:
        bad.append("%s: no answer (%s)" % (what, e))
        return None
    answered += 1
    ok = (isinstance(r, dict) and r.get("jsonrpc") == "2.0" and r.get("id") == want_id
          and (("result" in r) != ("error" in r)))
    if ok and "error" in r:
        e = r["error"]
        ok = (isinstance(e, dict) and e.get("code") in CODES and isinstance(e.get("message"), str)
              and e["message"] != "")
    if not ok:
        bad.append("%s: %s" % (what, json.dumps(r)[:300]))
    return r

path = sys.argv[1]
for method in sys.argv[2:]:
    # A subscriber's connection only hears events after its answer: one
    # connection a request there, one for all of a method's otherwise.
    conn = None if method == "events.subscribe" else Conn(path)
    for n, (what, p) in enumerate(params_for()):
        req = {"jsonrpc": "2.0", "id": n, "method": method}
        if p is not None or what != "omitted":
            req["params"] = p
        check("%s %s" % (method, what), json.dumps(req).encode(), n, path, conn)
    if conn:
        conn.close()

# The request itself malformed, with the first method.
m = sys.argv[2]
for what, raw, want in [
        ("id 0", {"jsonrpc": "2.0", "id": 0, "method": m}, 0),
        ("id -1", {"jsonrpc": "2.0", "id": -1, "method": m}, -1),
        ("id 2^63-1", {"jsonrpc": "2.0", "id": 2**63 - 1, "method": m}, 2**63 - 1),
        ("id ''", {"jsonrpc": "2.0", "id": "", "method": m}, ""),
        ("id long", {"jsonrpc": "2.0", "id": "i" * 5000, "method": m}, "i" * 5000),
        ("id 1.5", {"jsonrpc": "2.0", "id": 1.5, "method": m}, None),
        ("id null", {"jsonrpc": "2.0", "id": None, "method": m}, None),
        ("id []", {"jsonrpc": "2.0", "id": [], "method": m}, None),
        ("id {}", {"jsonrpc": "2.0", "id": {}, "method": m}, None),
        ("id true", {"jsonrpc": "2.0", "id": True, "method": m}, None),
        ("jsonrpc 1.0", {"jsonrpc": "1.0", "id": 7, "method": m}, 7),
        ("no jsonrpc", {"id": 7, "method": m}, 7),
        ("method 5", {"jsonrpc": "2.0", "id": 7, "method": 5}, 7),
        ("method null", {"jsonrpc": "2.0", "id": 7, "method": None}, 7),
        ("no method", {"jsonrpc": "2.0", "id": 7}, 7),
        ("method ''", {"jsonrpc": "2.0", "id": 7, "method": ""}, 7),
        ("method unknown", {"jsonrpc": "2.0", "id": 7, "method": "token.add.x"}, 7),
        ("method long", {"jsonrpc": "2.0", "id": 7, "method": "m" * 5000}, 7),
        ("extra member", {"jsonrpc": "2.0", "id": 7, "method": m, "x": [1]}, 7)]:
    check(what, json.dumps(raw).encode(), want, path)
for what, raw in [("not JSON", b"{"), ("a number", b"5"), ("an array", b"[]"),
                  ("a batch", b'[{"jsonrpc":"2.0","id":1,"method":"server.status"}]'),
                  ("a key twice", b'{"jsonrpc":"2.0","id":1,"id":2,"method":"server.status"}'),
                  ("a NUL", b'{"jsonrpc":"2.0","id":1,"method":"server.status\\u0000"}'),
                  ("bad UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}'),
                  ("deep", b"[" * 5000 + b"]" * 5000)]:
    check(what, raw, None, path)
print(sent, answered, len(bad))
for b in bad:
    print(b)
PY

hub_methods="server.status sessions.list sessions.kick token.add token.list token.set token.remove
bans.list bans.remove metrics.get events.subscribe"
# shellcheck disable=SC2086 # one argument a method
python3 "$TMP/rpc.py" "$TMP/hub.sock" $hub_methods > "$TMP/hub-rpc.txt" 2>&1
read -r sent answered nbad < "$TMP/hub-rpc.txt" || fail "rpc.py: $(cat "$TMP/hub-rpc.txt")"
[ "$nbad" = 0 ] || fail "$nbad of $sent requests to the hub answered wrong or not at all:
$(head -20 "$TMP/hub-rpc.txt")"
[ "$sent" -gt 4000 ] || fail "only $sent requests sent"
expect_eq "answers from the hub" "$answered" "$sent"
kill -0 "$hubpid" 2>/dev/null || fail "the hub is gone"
expect_eq "the hub's status afterwards" "$(ctl --json status | jq -r .role)" server
ok "the hub answered all $sent malformed and odd requests, and is still there"

python3 "$TMP/rpc.py" "$TMP/c1.sock" server.status token.add sessions.list > "$TMP/c1-rpc.txt" 2>&1
read -r sent answered nbad < "$TMP/c1-rpc.txt" || fail "rpc.py: $(cat "$TMP/c1-rpc.txt")"
[ "$nbad" = 0 ] || fail "$nbad of $sent requests to c1 answered wrong or not at all:
$(head -20 "$TMP/c1-rpc.txt")"
expect_eq "answers from c1" "$answered" "$sent"
kill -0 "$c1pid" 2>/dev/null || fail "c1 is gone"
# sessions.kick above may have ended its session: it comes back.
wait_connected c1 10.100.0.2
expect_eq "c1's status afterwards" "$(client_status c1 role)" client
ok "c1 answered all $sent malformed and odd requests, and is still there"

# sessions.kick's target is the key given, whatever its value: an id that
# is no session's (0, negative) or not an integer is invalid params, said of
# params.id, and an id of 0 beside a VIP is two targets, not a kick by the
# VIP. c1's session, the one with that VIP, stays.
wait_until 10 "c1's session at the hub" hub_session 10.100.0.2
c1_id=$(hub_stat 10.100.0.2 id)
python3 - "$TMP/hub.sock" > "$TMP/kick.txt" 2>&1 <<'PY' || fail "kick requests: $(cat "$TMP/kick.txt")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for n, params in enumerate([{"id": 0}, {"id": -1}, {"id": -2**63}, {"id": 0, "vip": "10.100.0.2"},
                            {"id": 0, "token": "shared"}, {"id": 1.5}, {"id": "1"}, {"id": None}]):
    f.write(json.dumps({"jsonrpc": "2.0", "id": n, "method": "sessions.kick",
                        "params": params}).encode() + b"\n")
    f.flush()
    r = json.loads(f.readline())
    e = r.get("error") or {"code": "result", "message": json.dumps(r.get("result"))}
    print(json.dumps(params), e["code"], e["message"])
PY
expect_kick() {
	local got
	got=$(grep -F -- "$1 " "$TMP/kick.txt" | head -1)
	got=${got#"$1 "}
	[[ $got == "$2"* ]] || fail "sessions.kick $1: expected '$2...', got '$got'"
	ok "sessions.kick $1: $2..."
}
expect_kick '{"id": 0}' "-32602 params.id: expected a session id, 1 or more (as sessions.list gives them), not 0"
expect_kick '{"id": -1}' "-32602 params.id: expected a session id, 1 or more"
expect_kick '{"id": -9223372036854775808}' "-32602 params.id: expected a session id, 1 or more"
expect_kick '{"id": 0, "vip": "10.100.0.2"}' "-32602 give exactly one of params.id, params.vip, params.token"
expect_kick '{"id": 0, "token": "shared"}' "-32602 give exactly one of params.id, params.vip, params.token"
expect_kick '{"id": 1.5}' "-32602 params.id: expected an integer"
expect_kick '{"id": "1"}' "-32602 params.id: expected an integer"
expect_kick '{"id": null}' "-32602 params.id: expected an integer"
expect_eq "c1's session after the kicks with an id of 0" "$(hub_stat 10.100.0.2 id)" "$c1_id"

# A hub's method asked of a client: the answer says what this daemon is.
msg=$(python3 - "$TMP/c1.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"sessions.list"}\n')
print(json.loads(s.makefile("r").readline())["error"]["message"])
PY
)
expect_eq "sessions.list asked of a client" "$msg" \
	"unknown method 'sessions.list': this slopnd is a client, which answers server.status"

# A param the method does not take is refused, naming it and those the
# method takes, and nothing is done: ignored, a newer slopnctl's param
# this slopnd does not know looked applied (slopnctl token add
# --max-sessions 3 against a hub from before the limits made a token
# without one, and said "limit: none" after success), as did a misspelt
# one in a script.
python3 - "$TMP/hub.sock" > "$TMP/unknown.txt" 2>&1 <<'PY' || fail "requests with unknown params: $(cat "$TMP/unknown.txt")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rwb")
for n, (m, p) in enumerate([("token.add", {"name": "newer", "max_sessions": 3, "groups": ["a"]}),
                            ("token.add", {"name": "typo", "max_sesions": 3}),
                            ("token.add", {"name": "short", "expires": 3600}),
                            ("token.add", {"name": "pair", "name expires_in": 3600}),
                            ("sessions.kick", {"": 1}),
                            ("server.status", {"verbose": True})]):
    f.write(json.dumps({"jsonrpc": "2.0", "id": n, "method": m, "params": p}).encode() + b"\n")
    f.flush()
    r = json.loads(f.readline())
    e = r.get("error") or {"code": "result", "message": ""}
    print(m, e["code"], e["message"])
PY
grep -qx "token.add -32602 params.groups: token.add takes no such param (only name expires_in vip max_sessions): a typo, or a slopnctl newer than this slopnd?" "$TMP/unknown.txt" ||
	fail "token.add with a param it does not take: $(cat "$TMP/unknown.txt")"
grep -q "^token.add -32602 params.max_sesions: token.add takes no such param" "$TMP/unknown.txt" ||
	fail "token.add with a misspelt param: $(cat "$TMP/unknown.txt")"
grep -q "^token.add -32602 params.expires: token.add takes no such param" "$TMP/unknown.txt" ||
	fail "token.add with a param that is part of one it takes: $(cat "$TMP/unknown.txt")"
grep -q "^token.add -32602 params.name expires_in: token.add takes no such param" "$TMP/unknown.txt" ||
	fail "token.add with a param named by two it takes: $(cat "$TMP/unknown.txt")"
# An empty name: the hub looped on it for ever, answering no one.
grep -q "^sessions.kick -32602 params.: sessions.kick takes no such param (only id vip token reason)" "$TMP/unknown.txt" ||
	fail "sessions.kick with a param of an empty name: $(cat "$TMP/unknown.txt")"
grep -q "^server.status -32602 params.verbose: server.status takes no such param (none at all)" "$TMP/unknown.txt" ||
	fail "server.status with a param: $(cat "$TMP/unknown.txt")"
ctl --json token list | jq -e '[.tokens[].name] | index("newer") == null and index("typo") == null and index("short") == null and index("pair") == null' > /dev/null ||
	fail "a token.add refused for its params added its token"
ok "params a method does not take are refused, and nothing done"
