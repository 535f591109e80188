#!/bin/bash
# A full disk under a running hub (its state directory on a small tmpfs):
# the hub keeps its clients and their traffic, leaves the files on disk as
# they were, names the ones it could not save in its status (save_errors)
# and metrics, and saves them once there is room again. A clean stop that
# cannot write what changed says so and exits with status 1. A file-size
# limit a save would pass: the save fails as on a full disk, and the hub
# lives on.
. "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || skip "needs jq"
topo 3
st=$TMP/state
mkdir "$st"
mount -t tmpfs -o size=256k,mode=0700 tmpfs "$st" || fail "cannot mount a tmpfs"
MOUNTS+=("$st")
# Saves tried again every second (a minute outside tests), the per-token
# totals written every second.
SLOPND_SAVE_RETRY_SECONDS=1 SLOPND_TRAFFIC_SAVE_SECONDS=1 \
	start hub server --listen 192.0.2.1:4242 --state-dir "$st" --token s3cret --control "$TMP/hub.sock"
wait_hub
start_client c1
wait_connected c1 10.100.0.2
# unsaved: the files the hub names in save_errors; unsaved_are LIST;
# unsaved_has FILE. lease_vips: the VIPs in leases.json on disk.
unsaved() { ctl --json status | jq -c '.save_errors | keys'; }
unsaved_are() { [ "$(unsaved)" = "$1" ]; }
unsaved_has() { ctl --json status | jq -e --arg f "$1" '.save_errors | has($f)' > /dev/null; }
lease_vips() { jq -c '[.leases[].vip] | sort' "$st/leases.json" 2>/dev/null; }
leases_are() { [ "$(lease_vips)" = "$1" ]; }
wait_until 3 "c1's lease on disk" leases_are '["10.100.0.2"]'
expect_eq "state files unsaved with room on the disk" "$(unsaved)" "[]"

fill() { dd if=/dev/zero of="$st/filler" bs=4k 2>/dev/null; [ "$(df --output=avail "$st" | tail -1)" -eq 0 ] || fail "the tmpfs is not full"; }
fill
start_client c2
wait_connected c2 10.100.0.3
wait_until 5 "leases, totals and peers unsaved" unsaved_are '["leases.json","peers.json","traffic.json"]'
ctl --json status | jq -r '.save_errors["leases.json"]' | grep -q "No space left on device" ||
	fail "leases.json's save error: $(ctl --json status | jq -c .save_errors)"
expect_eq "the failing-save metric for leases.json" \
	"$(metric 'slopn_state_save_failing{file="leases.json"}')" 1
expect_eq "leases.json on the full disk, as it was" "$(lease_vips)" '["10.100.0.2"]'
nsx c2 ping -c 3 -i 0.2 -W 2 10.100.0.2 > /dev/null || fail "no c2 -> c1 on the full disk"
expect_eq "sessions on the full disk" "$(ctl --json sessions list | jq -c '[.sessions[].vip] | sort')" \
	'["10.100.0.2","10.100.0.3"]'
ok "the disk full: clients and traffic go on, $(ctl status | grep -c unsaved:) files named unsaved"

rm "$st/filler"
wait_until 5 "every state file saved again" unsaved_are '[]'
expect_eq "leases.json with room again" "$(lease_vips)" '["10.100.0.2","10.100.0.3"]'
expect_eq "the failing-save metric for leases.json" \
	"$(metric 'slopn_state_save_failing{file="leases.json"}')" 0
ok "room again: leases, totals and peers saved within a second or two"

# Full again, c3's lease not saved, and the hub stopped cleanly.
fill
start_client c3
wait_connected c3 10.100.0.4
wait_until 5 "c3's lease unsaved" unsaved_has leases.json
p=$(pid_of hub)
kill "$p"
wait "$p"
rc=$?
forget "$p"
expect_eq "the hub's exit status after a stop that could not save" "$rc" 1
grep -q "error: leases not saved at exit: .*No space left on device" "$TMP/hub.log" ||
	fail "no error about the leases at exit: $(tail -5 "$TMP/hub.log")"
expect_eq "leases.json after that stop" "$(lease_vips)" '["10.100.0.2","10.100.0.3"]'
ok "a clean stop on a full disk: leases.json as last saved, said, exit status 1"

# A file-size limit (LimitFSIZE=, an inherited ulimit -f) that tokens.json
# outgrows: the write past it fails (EFBIG, not SIGXFSZ's core dump), the
# token add fails with the hub's reason and adds nothing, the hub lives on,
# tokens.json stays as it was, no temporary copy of it is left.
fst=$TMP/fsize-state
mkdir "$fst"
python3 - "$fst/tokens.json" <<'PY'
import json, sys
toks = [{"name": "t%02d" % i, "sha256": "%064x" % i, "created": 1700000000} for i in range(40)]
with open(sys.argv[1], "w") as f:
    json.dump({"version": 1, "tokens": toks}, f)
PY
chmod 600 "$fst/tokens.json"
start hub:fsize server --listen 192.0.2.1:4242 --state-dir "$fst" --token s3cret --control "$TMP/hub.sock"
wait_hub
# tokens.json as the hub writes it, and then a limit 64 bytes over its
# size: less than one more token takes.
ctl token add first > /dev/null || fail "token add first failed"
size=$(stat -c %s "$fst/tokens.json")
cp "$fst/tokens.json" "$TMP/tokens-before.json"
prlimit --pid "$(pid_of hub:fsize)" --fsize=$((size + 64)) || fail "cannot set the hub's file-size limit"
ctl token add second > "$TMP/fsize-add.txt" 2>&1 && fail "token add past the file-size limit succeeded"
grep -q "File too large" "$TMP/fsize-add.txt" || fail "token add did not give the hub's reason: $(cat "$TMP/fsize-add.txt")"
expect_eq "the tokens after the failed add" "$(ctl --json token list | jq -c '[.tokens[].name | select(. == "first" or . == "second")]')" '["first"]'
cmp -s "$TMP/tokens-before.json" "$fst/tokens.json" || fail "tokens.json changed by the failed add"
expect_eq "temporary copies left in the state directory" "$(find "$fst" -name '*.slopn-save-*' | wc -l)" 0
stop hub:fsize
ok "past a file-size limit: token add failed with EFBIG, the hub lived on and stopped cleanly, nothing left"
