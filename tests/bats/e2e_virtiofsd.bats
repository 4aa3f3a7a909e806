#!/usr/bin/env bats
# End-to-end against QEMU 7.2's C virtiofsd (/usr/lib/qemu/virtiofsd).
# It serves one connection and exits when that client leaves, so every
# test starts its own daemon.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

VIRTIOFSD=/usr/lib/qemu/virtiofsd

setup() {
	[ -x "$VIRTIOFSD" ] || skip "virtiofsd not installed"
	SOCK="$BATS_TEST_TMPDIR/fs.sock"
	mkdir -p "$BATS_TEST_TMPDIR/share"
	"$VIRTIOFSD" --socket-path="$SOCK" -o source="$BATS_TEST_TMPDIR/share" -o sandbox=chroot \
		>"$BATS_TEST_TMPDIR/vfs.log" 2>&1 &
	VFS_PID=$!
	# at most 60 s: only a failure waits that long
	for _ in $(seq 1200); do
		[ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/vfs.log" >&2
	return 1
}

teardown() {
	if [ -n "${VFS_PID:-}" ]; then
		kill "$VFS_PID" 2>/dev/null || true
		wait "$VFS_PID" 2>/dev/null || true
	fi
}

@test "virtiofsd probe: protocol features, 2 queues, config skipped (CONFIG not offered)" {
	run "$VHUCTL" -s "$SOCK" -T fs probe -j
	assert_success
	echo "$output" | jq -e '.features.names | index("VHOST_USER_F_PROTOCOL_FEATURES") != null'
	echo "$output" | jq -e '.queue_num == 2'
	echo "$output" | jq -e '.skipped.config | test("VHOST_USER_PROTOCOL_F_CONFIG")'
	echo "$output" | jq -e '.protocol_features.names | index("VHOST_USER_PROTOCOL_F_CONFIG") == null'
}

@test "virtiofsd get-config -T fs: CONFIG not offered, exit 3, nothing sent" {
	run --separate-stderr "$VHUCTL" -s "$SOCK" --trace -T fs get-config
	assert_failure 3
	echo "$stderr" | grep -q 'GET_CONFIG: back-end does not offer VHOST_USER_PROTOCOL_F_CONFIG'
	[[ "$stderr" != *"F>B GET_CONFIG"* ]]
	# the daemon was not made to crash: it is still serving this connection
	# until we leave, then exits by itself
}

@test "the man page's virtiofsd example runs as written (paths replaced)" {
	local cmd sock="$BATS_TEST_TMPDIR/ex.sock" pid
	# The example's daemon line, joined across its \e continuation.
	cmd=$(awk '/^Probe a virtiofsd export/ { on = 1 } on && /^\$ .*virtiofsd/ { grab = 1 }
		grab { line = line $0 " " } grab && !/\\e$/ { print line; exit }' "$VHU_SRC/man/vhuctl.1" |
		sed -e 's/\\e / /g' -e 's/^\$ //' -e 's/ &[[:space:]]*$//')
	[[ "$cmd" == *virtiofsd* ]] || fail "no virtiofsd example found: '$cmd'"
	cmd=${cmd//\/run\/vfs.sock/$sock}
	cmd=${cmd//\/srv/$BATS_TEST_TMPDIR/share}
	[ "${cmd%% *}" = "$VIRTIOFSD" ] || fail "example runs '${cmd%% *}', not $VIRTIOFSD"
	# shellcheck disable=SC2086 # the example's words
	$cmd >"$BATS_TEST_TMPDIR/ex.log" 2>&1 &
	pid=$!
	run "$VHUCTL" -s "$sock" -w 60 -T fs -j probe
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	assert_success
	echo "$output" | jq -e '.queue_num >= 1'
}
