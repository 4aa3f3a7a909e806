#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Fault matrix: every way the mock can break a reply, one test each.  Each
# checks the exit status, that stderr is one line naming the request, and
# the time taken where a wait is involved.

load helpers

# Run get-features against a mock with --fault GET_FEATURES:$1, with a
# timeout of $2 seconds (default 30: long, so that a failure that should be
# immediate cannot hide behind it).  Sets status/output/stderr, ELAPSED_MS.
gf_fault() {
	mock_start --fault "GET_FEATURES:$1"
	run_timed --separate-stderr vhu -t "${2:-30}" get-features
}

# Failed without waiting for the 30 s timeout (the slack absorbs a loaded
# machine; only the timeout itself is excluded).
assert_fails_fast() {
	[ "$ELAPSED_MS" -lt 15000 ] || fail "took $ELAPSED_MS ms: the failure should be immediate"
}

# Took the -t 1 timeout, and did not hang past it.
assert_timed_out_after_1s() {
	[ "$ELAPSED_MS" -ge 950 ] || fail "gave up after $ELAPSED_MS ms, before -t 1"
	[ "$ELAPSED_MS" -lt 15000 ] || fail "took $ELAPSED_MS ms for -t 1"
}

@test "wrong-code: 2" {
	gf_fault wrong-code
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *"request code 2"* ]] || fail "stderr: $stderr"
	[ -z "$output" ]
	assert_fails_fast
}

@test "no-reply-flag: 2" {
	gf_fault no-reply-flag
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *REPLY* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "bad-version: 2" {
	gf_fault bad-version
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *version* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "reserved-bits: 2" {
	gf_fault reserved-bits
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *reserved* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "oversize: 2" {
	gf_fault oversize
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *16* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "huge-size (0x7fffffff, nothing after): 2 at once, no wait for the body" {
	mock_start --fault GET_FEATURES:huge-size
	run_timed --separate-stderr vhu -t 30 get-features
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *2147483647* ]] || fail "stderr: $stderr"
	[ "$ELAPSED_MS" -lt 15000 ] || fail "took $ELAPSED_MS ms with -t 30: waited for the body"
}

@test "short-silence: 75 after the timeout" {
	gf_fault short-silence 1
	assert_failure 75
	assert_one_line_error GET_FEATURES
	assert_timed_out_after_1s
	[ -z "$output" ]
}

@test "short-close: 74" {
	gf_fault short-close
	assert_failure 74
	assert_one_line_error GET_FEATURES
	[[ $stderr == *closed* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "close-mid-header: 74" {
	gf_fault close-mid-header
	assert_failure 74
	assert_one_line_error GET_FEATURES
	[[ $stderr == *closed* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "stray-fd: 2" {
	gf_fault stray-fd
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *fd* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "too-many-fds: 2" {
	gf_fault too-many-fds
	assert_failure 2
	assert_one_line_error GET_FEATURES
	[[ $stderr == *"12 fds"* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "garbage: 2" {
	gf_fault garbage
	assert_failure 2
	assert_one_line_error GET_FEATURES
	assert_fails_fast
}

@test "slow (byte at a time, within the timeout): 0 and the right value" {
	mock_start --features 0x0000000170000000 --fault GET_FEATURES:slow:10
	run_timed --separate-stderr vhu -t 30 -j get-features
	assert_success
	assert_json '.features.mask == "0x0000000170000000"'
	[ -z "$stderr" ]
	# 20 bytes, 10 ms apart: it really was slow
	[ "$ELAPSED_MS" -ge 150 ] || fail "took only $ELAPSED_MS ms"
}

@test "slow reply longer than the timeout as a whole: 75 (deadline per reply, not per byte)" {
	mock_start --fault GET_FEATURES:slow:100
	run_timed --separate-stderr vhu -t 1 get-features
	assert_failure 75
	assert_one_line_error GET_FEATURES
	assert_timed_out_after_1s
}

@test "silent: 75 after --timeout 1, no hang past it" {
	gf_fault silent 1
	assert_failure 75
	assert_one_line_error GET_FEATURES
	[[ $stderr == *1000\ ms* ]] || fail "stderr: $stderr"
	assert_timed_out_after_1s
	[ -z "$output" ]
}

@test "silent with a fractional timeout (-t 0.3)" {
	mock_start --fault GET_FEATURES:silent
	run_timed --separate-stderr vhu -t 0.3 get-features
	assert_failure 75
	assert_one_line_error GET_FEATURES
	[ "$ELAPSED_MS" -ge 250 ] && [ "$ELAPSED_MS" -lt 15000 ] || fail "took $ELAPSED_MS ms"
}

@test "silent with -j: JSON with exit_status 75" {
	mock_start --fault GET_FEATURES:silent
	run --separate-stderr vhu -t 0.3 -j get-features
	assert_failure 75
	assert_json '.vhuctl.exit_status == 75 and (.error | test("GET_FEATURES"))'
}

@test "nak on set-owner: 1 'refused'" {
	mock_start --fault SET_OWNER:nak
	run_timed --separate-stderr vhu -t 30 set-owner
	assert_failure 1
	assert_one_line_error SET_OWNER
	[[ $stderr == *refused* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "close on receiving the request: 74" {
	gf_fault close
	assert_failure 74
	assert_one_line_error GET_FEATURES
	[[ $stderr == *closed* ]] || fail "stderr: $stderr"
	assert_fails_fast
}

@test "close-after-accept: 74" {
	mock_start --fault accept:close-after-accept
	run_timed --separate-stderr vhu -t 30 get-features
	assert_failure 74
	assert_one_line_error GET_FEATURES
	assert_fails_fast
}

@test "fault on a later request names that request (GET_QUEUE_NUM wrong-code)" {
	mock_start --fault GET_QUEUE_NUM:wrong-code
	run --separate-stderr vhu -t 30 get-queue-num
	assert_failure 2
	assert_one_line_error GET_QUEUE_NUM
	[[ $stderr != *GET_FEATURES:* ]] || fail "stderr: $stderr"
}

@test "GET_QUEUE_NUM silent: 75 naming GET_QUEUE_NUM" {
	mock_start --fault GET_QUEUE_NUM:silent
	run_timed --separate-stderr vhu -t 1 get-queue-num
	assert_failure 75
	assert_one_line_error GET_QUEUE_NUM
	assert_timed_out_after_1s
}

@test "wrong-code with -j: JSON with exit_status 2" {
	mock_start --fault GET_FEATURES:wrong-code
	run --separate-stderr vhu -t 30 -j get-features
	assert_failure 2
	assert_json '.vhuctl.exit_status == 2 and (.error | test("GET_FEATURES"))'
	assert_json 'has("features") | not'
}

@test "barrier: a back-end that closes on SET_OWNER (no REPLY_ACK) is 74 naming SET_OWNER" {
	mock_start --protocol-features 0x1 --fault SET_OWNER:close
	run_timed --separate-stderr vhu -t 30 set-owner
	assert_failure 74
	assert_one_line_error SET_OWNER
	assert_fails_fast
}

@test "--no-sync: no barrier after SET_OWNER without REPLY_ACK" {
	mock_start --protocol-features 0x1
	run --separate-stderr vhu -t 30 --no-sync set-owner
	assert_success
	# the mock logs after reading: wait for it to read SET_OWNER
	mock_wait_log '^SET_OWNER '
	assert_equal "$(tail -1 "$MOCK_LOG")" "SET_OWNER flags=0x1 size=0 fds=0"
}

@test "nak with REPLY_ACK on SET_STATUS: 1" {
	mock_start --fault SET_STATUS:nak
	run --separate-stderr vhu -t 30 set-status DRIVER
	assert_failure 1
	assert_one_line_error SET_STATUS
}

# ---- no fd leaks on error paths (valgrind --track-fds) --------------------

@test "valgrind: too-many-fds leaves no fd open and no memory error" {
	require_valgrind
	mock_start --fault GET_FEATURES:too-many-fds
	run --separate-stderr vhu_valgrind -t 30 get-features
	assert_failure 2
	assert_no_fd_leak
}

@test "valgrind: stray-fd on GET_QUEUE_NUM leaves no fd open" {
	require_valgrind
	mock_start --fault GET_QUEUE_NUM:stray-fd
	run --separate-stderr vhu_valgrind -t 30 get-queue-num
	assert_failure 2
	assert_no_fd_leak
}

@test "valgrind: short-close leaves no fd open" {
	require_valgrind
	mock_start --fault GET_FEATURES:short-close
	run --separate-stderr vhu_valgrind -t 30 get-features
	assert_failure 74
	assert_no_fd_leak
}

@test "valgrind: a good run leaves no fd open (control)" {
	require_valgrind
	mock_start
	run --separate-stderr vhu_valgrind -t 30 probe
	assert_success
	assert_no_fd_leak
}

@test "JSON exit_status_name for every exit status" {
	local want
	mock_start --fault SET_OWNER:nak --fault GET_QUEUE_NUM:wrong-code \
		--fault GET_MAX_MEM_SLOTS:close --fault GET_STATUS:silent
	for want in "1 refused set-owner" "2 protocol_violation get-queue-num" \
		"74 io_error get-max-mem-slots" "75 timeout get-status"; do
		set -- $want
		run --separate-stderr vhu -t 1 -j "$3"
		[ "$status" -eq "$1" ] || fail "$3: exit $status, expected $1"
		assert_json ".vhuctl.exit_status == $1 and .vhuctl.exit_status_name == \"$2\""
	done
	mock_stop
	mock_start --features 0x0000000100000000
	run --separate-stderr vhu -j get-queue-num
	assert_failure 3
	assert_json '.vhuctl.exit_status_name == "not_supported"'
	run --separate-stderr vhu -j get-queue-num --bogus
	assert_failure 64
	assert_json '.vhuctl.exit_status_name == "usage"'
	run --separate-stderr "$VHUCTL" -j -s "$BATS_TEST_TMPDIR/none.sock" get-queue-num
	assert_failure 69
	assert_json '.vhuctl.exit_status_name == "cannot_connect"'
	mock_stop
	mock_start
	run --separate-stderr vhu -j get-queue-num
	assert_success
	assert_json '.vhuctl.exit_status_name == "success"'
}

@test "connect: a back-end whose listen backlog is full ends with 75 within --timeout" {
	[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3 for the listener"
	local S="$BATS_TEST_TMPDIR/backlog.sock"
	# listen(0) and never accept: after the first queued connection,
	# connect() on a Unix socket would block forever.
	/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(0)
held=[]
for _ in range(4):
    c=socket.socket(socket.AF_UNIX); c.setblocking(False)
    try: c.connect(sys.argv[1])
    except OSError: pass
    held.append(c)
open(sys.argv[2],"w").close()
time.sleep(30)' "$S" "$BATS_TEST_TMPDIR/ready" &
	local PY=$!
	wait_file "$BATS_TEST_TMPDIR/ready"
	run_timed --separate-stderr "$VHUCTL" -s "$S" -t 1 get-features
	kill "$PY" 2>/dev/null || true
	wait "$PY" 2>/dev/null || true
	assert_failure 75
	[[ "$stderr" == *"cannot connect to $S"* ]]
	[ "$ELAPSED_MS" -lt 15000 ] || fail "took $ELAPSED_MS ms"
}
