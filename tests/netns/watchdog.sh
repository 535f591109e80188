#!/bin/bash
# The tests' own watchdog (lib.sh): a test that hangs past SLOPN_TEST_LIMIT
# is ended from inside, the command it hangs in included, and its cleanup
# still removes everything it made. Here a test of 6 s builds a hub and a
# client in namespaces and hangs in a command inside one; run as meson runs
# tests (a process group of its own).
. "$(dirname "$0")/lib.sh"
cat > "$TMP/hang.sh" <<EOS
#!/bin/bash
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
topo 1
start_hub
start_client c1
wait_connected c1 10.100.0.2
echo "made: \$RUN \$(pid_of hub) \$(pid_of c1) \$TMP"
nsx c1 sleep 60
echo "the hang ended by itself"
EOS
t0=$(now_ms)
SLOPN_TEST_LIMIT=6 setsid bash "$TMP/hang.sh" > "$TMP/hang.out" 2>&1
rc=$?
t=$(($(now_ms) - t0))
read -r _ run hub c1 dir < <(grep '^made: ' "$TMP/hang.out")
[ -n "${dir:-}" ] || fail "the hanging test did not get as far as its hang: $(cat "$TMP/hang.out")"
# Whatever it left behind is removed by this test's cleanup, after the
# failure is reported: its namespaces (with what runs in them, the
# daemons included) through NSS; its directory, /etc/netns entries and
# any daemon of it outside them at exit, by remove_left.
left_ns=$(ip netns list | awk '{print $1}' | grep -- "^$run-" || true)
for n in $left_ns; do NSS+=("$n"); done
trap 'remove_left; cleanup' EXIT
remove_left() { # keeps the exit status, for cleanup
	local rc=$? p exe
	for p in "$hub" "$c1"; do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
		[ "$exe" = "$(readlink -f "$SLOPND")" ] && kill -9 "$p" 2>/dev/null
	done
	case $dir in /tmp/slopn-test.*) rm -rf "$dir" ;; esac
	[ -n "$run" ] && rm -rf "/etc/netns/$run-"*
	return $rc
}
[ "$rc" -ne 0 ] || fail "the hanging test exited with status 0"
grep -q "FAIL: still running after 6 s (SLOPN_TEST_LIMIT)" "$TMP/hang.out" || fail "no word from the watchdog: $(cat "$TMP/hang.out")"
grep -q "the hang ended by itself" "$TMP/hang.out" && fail "the hang was not ended"
[ "$t" -lt 11000 ] || fail "the hanging test ended after $t ms (limit 6 s)"
ok "a test hanging past its limit of 6 s ended after $t ms, with status $rc"
expect_eq "namespaces of the hanging test left" "$(echo -n "$left_ns" | grep -c .)" 0
for p in "$hub" "$c1"; do
	kill -0 "$p" 2>/dev/null && fail "its slopnd $p is still running"
done
[ -e "$dir" ] && fail "its directory $dir is still there"
ls /etc/netns 2>/dev/null | grep -q -- "^$run-" && fail "its /etc/netns entries are still there"
ok "its namespaces, daemons and files are gone"
