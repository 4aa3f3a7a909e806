#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# --reconnect and the `reconnect` batch step: a back-end that goes away
# (SIGKILL, as a crash) and comes back; the connection is made again and
# the bring-up replayed.  Every restart happens after an event (a log
# line of the mock, a line of vhuctl's output), never after a delay.

load helpers

setup() {
	listen_path
	# A channel message sent once the SET_BACKEND_REQ_FD ack is out, that
	# vhuctl answers: its BACKEND_ACK line says the watch is running.
	MSG=CONFIG_CHANGE_MSG:need-reply:after
}

teardown() {
	bg_reap
	exec 8>&- 2>/dev/null || true
	mock_stop
	listen_cleanup
}

# ---- watch -------------------------------------------------------------

@test "watch --reconnect keeps watching across two back-end restarts (text)" {
	mock_start --backend-msg "$MSG"
	bg_vhu -s "$SOCK" -t 30 --reconnect watch --count 3
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	mock_restart --backend-msg "$MSG"
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	mock_restart --backend-msg "$MSG"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	[ "$(grep -c '^channel: BACKEND_CONFIG_CHANGE_MSG' <<<"$output")" -eq 3 ] || fail "$output"
	assert_line --regexp '^Stopped by: +count$'
	# one line per reconnect, saying what was replayed
	[ "${#stderr_lines[@]}" -eq 2 ] || fail "$stderr"
	[[ ${stderr_lines[0]} == "vhuctl: reconnect: "*"connected again to $SOCK after "*"replayed 5 requests: GET_FEATURES GET_PROTOCOL_FEATURES SET_PROTOCOL_FEATURES SET_OWNER SET_BACKEND_REQ_FD" ]] ||
		fail "${stderr_lines[0]}"
	# the third back-end got the whole set-up again
	grep -q '^SET_OWNER ' "$MOCK_LOG"
	grep -q '^SET_BACKEND_REQ_FD ' "$MOCK_LOG"
}

@test "watch --reconnect -j: one document, a \"reconnects\" member with time, attempts and what was replayed" {
	mock_start --backend-msg "$MSG"
	bg_vhu -s "$SOCK" -t 30 --reconnect=60 -j watch --count 2
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	mock_restart --backend-msg "$MSG"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_json '.received == 2 and (.messages | length) == 2 and (.reconnects | length) == 1'
	assert_json '.reconnects[0] | .after_messages == 1 and .attempts >= 1 and .duration_ms >= 0 and .requests == 5
		and ([.replayed[].request] == ["GET_FEATURES", "GET_PROTOCOL_FEATURES", "SET_PROTOCOL_FEATURES", "SET_OWNER", "SET_BACKEND_REQ_FD"])
		and (.cause | length > 0)'
}

@test "watch without --reconnect ends when the back-end goes; -j --reconnect with no outage has an empty list" {
	mock_start --backend-msg "$MSG"
	bg_vhu -s "$SOCK" -t 30 watch
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	mock_restart --backend-msg "$MSG"
	bg_wait
	[[ $output == *"Stopped by:"*"closed"* ]] || fail "status $status: $output $stderr"
	[ "$(mock_count GET_FEATURES)" -eq 0 ]
	run --separate-stderr "$VHUCTL" -s "$SOCK" --reconnect -j watch --count 1
	assert_success
	assert_json '.reconnects == [] and .received == 1'
}

@test "watch -L --reconnect: a client back-end that restarts is accepted again and set up again" {
	mock_connect "$LSOCK" --backend-msg "$MSG"
	bg_vhu -L "$LSOCK" -t 30 --reconnect=60 watch --count 2
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	mock_restart --backend-msg "$MSG"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	[ "$(grep -c '^channel: BACKEND_CONFIG_CHANGE_MSG' <<<"$output")" -eq 2 ] || fail "$output"
	[[ $stderr == *"a back-end connected again to $LSOCK after "*"SET_BACKEND_REQ_FD"* ]] || fail "$stderr"
	grep -q '^CONNECTED' "$MOCK_LOG"
	grep -q '^SET_BACKEND_REQ_FD ' "$MOCK_LOG"
	[ ! -e "$LSOCK" ]
}

@test "watch --reconnect=SECONDS: a back-end that stays away ends it with 69 after the window" {
	mock_start --backend-msg "$MSG"
	bg_vhu -s "$SOCK" -t 30 --reconnect=0.5 watch
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	kill -KILL "$MOCK_PID"
	bg_wait
	[ "$status" -eq 69 ] || fail "exit $status: $stderr"
	assert_one_line_error "reconnect to $SOCK: gave up after"
	[[ $stderr == *"attempts"* ]] || fail "$stderr"
}

@test "watch --reconnect: SIGINT while reconnecting ends the watch normally (0)" {
	mock_start --backend-msg "$MSG"
	bg_vhu -s "$SOCK" -t 30 --reconnect=0 --trace watch
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	kill -KILL "$MOCK_PID"
	# nobody listens: vhuctl tries again and again (no limit)
	wait_grep "$BATS_TEST_TMPDIR/bg.err" '^trace: -- reconnect: '
	kill -INT "$BG_PID"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_line --regexp '^Stopped by: +interrupt$'
	[[ $stderr != *"dropped"* ]] || fail "$stderr"
}

@test "watch --reconnect: a restarted back-end without what was negotiated: 3, nothing more sent" {
	mock_start --backend-msg "$MSG"
	bg_vhu -s "$SOCK" -t 30 --reconnect=60 watch
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG'
	# REPLY_ACK and BACKEND_REQ only: the rest negotiated before is gone
	mock_restart --protocol-features 0x28
	bg_wait
	[ "$status" -eq 3 ] || fail "exit $status: $stderr"
	assert_one_line_error "reconnect: SET_PROTOCOL_FEATURES: the back-end no longer offers protocol features"
	[ "$(mock_count SET_PROTOCOL_FEATURES)" -eq 0 ]
	[ "$(mock_count SET_OWNER)" -eq 0 ]
}

@test "--reconnect on a command that does not carry on is a usage error" {
	run --separate-stderr "$VHUCTL" -s /nonexistent --reconnect get-features
	assert_failure 64
	assert_one_line_error "--reconnect is for batch, watch, blk, bench and net send"
	run --separate-stderr "$VHUCTL" -s /nonexistent --reconnect=-1 watch
	assert_failure 64
	assert_one_line_error "invalid --reconnect '-1'"
}

# ---- batch -------------------------------------------------------------

# batch reading steps from a FIFO on fd 8: each step is sent when the test
# says, and the step's end is seen on vhuctl's output.
batch_fifo() {
	mkfifo "$BATS_TEST_TMPDIR/steps"
	bg_vhu "$@" batch "$BATS_TEST_TMPDIR/steps"
	exec 8>"$BATS_TEST_TMPDIR/steps"
}

@test "batch --reconnect: the back-end restarted between steps; setup is replayed, split rings from the used index" {
	mock_start
	batch_fifo -s "$SOCK" -t 30 --reconnect=60
	echo 'setup --rings 2' >&8
	wait_grep "$BATS_TEST_TMPDIR/bg.out" '^Rings: +2'
	mock_restart 8>&-
	echo 'get-vring-base 1' >&8
	exec 8>&-
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	[[ $stderr == *"reconnect: the back-end closed the connection between steps; connected again"*"replayed 20 requests: GET_FEATURES GET_PROTOCOL_FEATURES SET_PROTOCOL_FEATURES SET_OWNER SET_FEATURES SET_STATUS x2 SET_MEM_TABLE SET_VRING_NUM x2 SET_VRING_BASE x2 SET_VRING_ADDR x2 SET_VRING_KICK x2 SET_VRING_CALL x2 SET_VRING_ENABLE x2"* ]] ||
		fail "$stderr"
	# the new back-end has the memory table, both rings (bases 0: no
	# request was ever made available) and their eventfds, then the step
	grep -q '^SET_MEM_TABLE .* fds=1$' "$MOCK_LOG"
	[ "$(mock_count SET_VRING_KICK)" -eq 2 ]
	[ "$(mock_count SET_VRING_ENABLE)" -eq 2 ]
	[ "$(tail -1 "$MOCK_LOG" | cut -d' ' -f1)" = GET_VRING_BASE ]
}

@test "batch --reconnect -j: the step that found the connection gone carries a \"reconnect\" object" {
	mock_start
	batch_fifo -s "$SOCK" -t 30 --reconnect=60 -j --trace --stats
	echo 'set-backend-req-fd' >&8
	# the ack is in: the step needs nothing more from the back-end
	wait_grep "$BATS_TEST_TMPDIR/bg.err" '^trace: B>F SET_BACKEND_REQ_FD \(reply\)'
	mock_restart 8>&-
	echo 'get-queue-num' >&8
	exec 8>&-
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_json '[.steps[].exit_status] == [0, 0] and .steps[1].queue_num == 2
		and .steps[1].reconnect.requests == 4 and .steps[1].reconnect.replayed[-1].request == "SET_BACKEND_REQ_FD"
		and (.reconnects | length) == 1 and .reconnects[0].line == 2'
	# the old connection and its channel left nothing open
	assert_json '.stats.fds_at_exit == .stats.fds_at_start'
}

@test "batch --reconnect: a step that lost its connection runs again on the new one" {
	mock_start --fault GET_QUEUE_NUM:silent
	batch_fifo -s "$SOCK" -t 60 --reconnect=60 -j
	printf '%s\n' set-owner get-queue-num >&8
	exec 8>&-
	# the back-end took the request and dies before answering
	mock_wait_log '^GET_QUEUE_NUM '
	mock_restart 8>&-
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_json '.steps[1].retried and .steps[1].queue_num == 2 and .steps[1].reconnect.cause == "GET_QUEUE_NUM: back-end closed the connection"'
	[ "$(mock_count GET_QUEUE_NUM)" -eq 1 ]
	[ "$(mock_count SET_OWNER)" -eq 1 ]
}

@test "batch --reconnect: a step fails again on the new connection: reported once, no loop" {
	mock_start --fault GET_QUEUE_NUM:close
	run --separate-stderr "$VHUCTL" -s "$SOCK" -t 30 --reconnect=60 -j batch - <<<$'get-features\nget-queue-num'
	assert_failure 74
	assert_json '.steps[1].exit_status == 74 and .steps[1].retried and (.reconnects | length) == 1'
	[ "$(mock_count GET_QUEUE_NUM)" -eq 2 ]
}

@test "batch: a reconnect step replays on demand (no --reconnect needed); not outside a batch" {
	mock_start
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j batch - <<<$'setup --rings 1\nreconnect\nget-vring-base 0'
	assert_success
	assert_json '[.steps[].exit_status] == [0, 0, 0] and .steps[1].reconnect.cause == "requested by a reconnect step"
		and ([.steps[1].reconnect.replayed[] | select(.ring == 0) | .request] ==
		     ["SET_VRING_NUM", "SET_VRING_BASE", "SET_VRING_ADDR", "SET_VRING_KICK", "SET_VRING_CALL", "SET_VRING_ENABLE"])
		and .reconnects[0].line == 2'
	[ "$(mock_count SET_MEM_TABLE)" -eq 2 ]
	run --separate-stderr "$VHUCTL" -s "$SOCK" reconnect
	assert_failure 64
	assert_one_line_error "'reconnect' only runs as a batch step"
}

@test "batch -L: a reconnect step accepts the client back-end again (it reconnects at once)" {
	mock_connect "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -j batch - <<<$'set-owner\nreconnect\nget-queue-num'
	assert_success
	assert_json '[.steps[].exit_status] == [0, 0, 0] and .steps[1].reconnect.requests == 4'
	[ "$(grep -c '^CONNECTED' "$MOCK_LOG")" -ge 2 ]
}

# ---- blk ---------------------------------------------------------------

# The mock's protocol features without INFLIGHT_SHMFD (0xdb22b without bit 12).
NO_INFLIGHT=0xda22b

@test "blk write --reconnect: the back-end dies with requests in flight; vhuctl sends them again, every byte lands (split, packed)" {
	local ring disk=$BATS_TEST_TMPDIR/disk.img in=$BATS_TEST_TMPDIR/in.bin sum
	head -c 4M /dev/urandom >"$disk"
	head -c 2M /dev/urandom >"$in"
	sum=$(sha256sum <"$in" | cut -d' ' -f1)
	for ring in split packed; do
		# requests from the 3rd on are carried out but never completed
		mock_start --blk "$disk" --features 0x570007244 --protocol-features $NO_INFLIGHT --ring-fault never-complete:2
		bg_vhu -s "$SOCK" -t 60 --reconnect=60 --trace -j blk write 1M -i "$in" --ring $ring
		mock_wait_log '^HELD q=0'
		mock_restart --blk "$disk" --features 0x570007244 --protocol-features $NO_INFLIGHT
		bg_wait
		[ "$status" -eq 0 ] || fail "$ring: exit $status: $stderr"
		assert_json ".blk.bytes == 2097152 and .blk.sha256 == \"$sum\" and .blk.resubmitted >= 1
			and (.reconnects | length) == 1 and .reconnects[0].after_messages == 0
			and ([.reconnects[0].replayed[] | select(.ring == 0) | .request] ==
			     [\"SET_VRING_NUM\", \"SET_VRING_BASE\", \"SET_VRING_ADDR\", \"SET_VRING_KICK\", \"SET_VRING_CALL\", \"SET_VRING_ENABLE\"])"
		[[ $stderr == *"vhuctl: reconnect: queue 0: the back-end closed the connection with "*" in flight; connected again"*"SET_MEM_TABLE"* ]] ||
			fail "$stderr"
		cmp <(dd if="$disk" bs=1M skip=1 count=2 status=none) "$in" || fail "$ring: the disk differs"
		# the restarted back-end was told where the ring resumes: split,
		# after the 2 requests completed (the used index in memory);
		# packed, a fresh ring (position 0, wrap counter 1)
		[ "$(grep '^trace: F>B SET_VRING_BASE ' <<<"$stderr" | tail -1 | grep -o 'num=[0-9]*')" = \
			"num=$([ $ring = split ] && echo 2 || echo 32768)" ] || fail "$ring: $(grep 'VRING_BASE' <<<"$stderr")"
		grep -q '^SET_VRING_BASE ' "$MOCK_LOG"
		mock_stop
	done
}

@test "blk write --reconnect with INFLIGHT_SHMFD: the restarted back-end takes up, from the inflight buffer, what the old one held" {
	local disk=$BATS_TEST_TMPDIR/disk.img in=$BATS_TEST_TMPDIR/in.bin sum
	head -c 4M /dev/urandom >"$disk"
	head -c 2M /dev/urandom >"$in"
	sum=$(sha256sum <"$in" | cut -d' ' -f1)
	mock_start --blk "$disk" --ring-fault never-complete:2
	bg_vhu -s "$SOCK" -t 60 --reconnect=60 -j --stats blk write 1M -i "$in"
	mock_wait_log '^HELD q=0'
	grep -q '^GET_INFLIGHT_FD ' "$MOCK_LOG"
	grep -q '^SET_INFLIGHT_FD ' "$MOCK_LOG"
	mock_restart --blk "$disk"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	# vhuctl sent nothing again: the back-end served the 3 held requests
	# again from the buffer it was handed, in the order it took them
	assert_json ".blk.bytes == 2097152 and .blk.sha256 == \"$sum\" and .blk.resubmitted == 0
		and ([.reconnects[0].replayed[].request] | index(\"SET_INFLIGHT_FD\") < index(\"SET_MEM_TABLE\"))"
	[ "$(grep '^RESUBMIT q=0' "$MOCK_LOG" | cut -d= -f3 | tr '\n' ' ')" = "2 3 4 " ] || fail "$(cat "$MOCK_LOG")"
	[ "$(mock_count GET_INFLIGHT_FD)" -eq 0 ]
	[ "$(mock_count SET_INFLIGHT_FD)" -eq 1 ]
	assert_json '.stats.fds_at_exit == .stats.fds_at_start'
	cmp <(dd if="$disk" bs=1M skip=1 count=2 status=none) "$in"
}

@test "blk read --reconnect: the back-end dies mid-read; the data read equals the disk" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	head -c 4M /dev/urandom >"$disk"
	mock_start --blk "$disk" --ring-fault never-complete:5
	bg_vhu -s "$SOCK" -t 60 --reconnect=60 blk read 0 3M -o "$BATS_TEST_TMPDIR/out.bin"
	mock_wait_log '^HELD q=0'
	mock_restart --blk "$disk"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	cmp <(head -c 3M "$disk") "$BATS_TEST_TMPDIR/out.bin"
	[ "${#stderr_lines[@]}" -eq 1 ] && [[ $stderr == *"reconnect: "* ]] || fail "$stderr"
}

@test "blk write without --reconnect: a back-end that dies mid-I/O is exit 74 naming the requests in flight" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	head -c 4M /dev/urandom >"$disk"
	mock_start --blk "$disk" --ring-fault never-complete:2
	bg_vhu -s "$SOCK" -t 60 blk write 0 --pattern 0x5a --length 2M
	mock_wait_log '^HELD q=0'
	mock_restart --blk "$disk"
	bg_wait
	[ "$status" -eq 74 ] || fail "exit $status: $stderr"
	assert_one_line_error "the back-end closed the connection with"
}

# ---- bench -------------------------------------------------------------

# bench --verify over 64 blocks of 4 KiB with 4 requests in flight: the
# fill takes 64 requests, so the mock's never-complete:100 holds requests
# in the measured run (or, on a slow machine whose runtime ended first,
# in the check): the back-end dies in the middle by construction.
BENCH=(bench --rw randrw --bs 4k --qd 4 --size 256K --runtime 1 --verify)

# The count in the reconnect's cause ("with N requests in flight").
IN_FLIGHT='(.reconnects[0].cause | capture("with (?<n>[0-9]+) requests? in flight").n | tonumber)'

@test "bench --verify --reconnect: the back-end dies mid-run; what was in flight is sent again and every block verifies (split, packed)" {
	local ring disk=$BATS_TEST_TMPDIR/disk.img
	head -c 1M /dev/urandom >"$disk"
	for ring in split packed; do
		mock_start --blk "$disk" --features 0x570007244 --protocol-features $NO_INFLIGHT --ring-fault never-complete:100
		bg_vhu -s "$SOCK" -t 60 --reconnect=60 --trace -j "${BENCH[@]}" --ring $ring
		mock_wait_log '^HELD q=0'
		mock_restart --blk "$disk" --features 0x570007244 --protocol-features $NO_INFLIGHT
		bg_wait
		[ "$status" -eq 0 ] || fail "$ring: exit $status: $(grep -v '^trace:' <<<"$stderr")"
		# every request held by the dead back-end was sent again, and
		# the report says how many; the fill and the check covered
		# every block, none failed
		assert_json ".jobs[0] | .errors == 0 and .ended_by == \"runtime\" and .resubmitted >= 1
			and .verify.filled_blocks == 64 and .verify.checked_blocks >= 64"
		assert_json "(.reconnects | length) == 1 and .jobs[0].resubmitted == $IN_FLIGHT
			and ([.reconnects[0].replayed[] | select(.ring == 0) | .request] ==
			     [\"SET_VRING_NUM\", \"SET_VRING_BASE\", \"SET_VRING_ADDR\", \"SET_VRING_KICK\", \"SET_VRING_CALL\", \"SET_VRING_ENABLE\"])"
		[[ $stderr == *"vhuctl: reconnect: the back-end closed the connection with "*" in flight; connected again to $SOCK"* ]] ||
			fail "$stderr"
		# the new back-end served the requests sent again, the rest of
		# the run and the check (a read of every block), then the stop
		[ "$(grep -c '^BLK q=0 type=0 ' "$MOCK_LOG")" -ge 64 ] || fail "$ring: $(mock_log)"
		grep -q '^GET_VRING_BASE ' "$MOCK_LOG"
		mock_stop
	done
}

@test "bench --reconnect with INFLIGHT_SHMFD: the restarted back-end serves what was in flight from the inflight buffer; nothing is sent again" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	head -c 1M /dev/urandom >"$disk"
	mock_start --blk "$disk" --ring-fault never-complete:100
	bg_vhu -s "$SOCK" -t 60 --reconnect=60 -j "${BENCH[@]}"
	mock_wait_log '^HELD q=0'
	mock_restart --blk "$disk"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_json ".jobs[0] | .errors == 0 and .resubmitted == 0 and .verify.filled_blocks == 64 and .verify.checked_blocks >= 64"
	assert_json "[.reconnects[0].replayed[].request] | index(\"SET_INFLIGHT_FD\") < index(\"SET_MEM_TABLE\")"
	[ "$(grep -c '^RESUBMIT q=0' "$MOCK_LOG")" -ge 1 ] || fail "$(mock_log)"
	run jq -r "$IN_FLIGHT" "$BATS_TEST_TMPDIR/bg.out"
	[ "$(grep -c '^RESUBMIT q=0' "$MOCK_LOG")" -eq "$output" ] || fail "$output in flight: $(mock_log)"
}

@test "bench --reconnect=SECONDS: a back-end that stays away ends the run with 69; the figures so far are reported" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	head -c 1M /dev/urandom >"$disk"
	mock_start --blk "$disk" --ring-fault never-complete:100
	bg_vhu -s "$SOCK" -t 60 --reconnect=0.5 -j "${BENCH[@]}"
	mock_wait_log '^HELD q=0'
	kill -KILL "$MOCK_PID"
	bg_wait
	[ "$status" -eq 69 ] || fail "exit $status: $stderr"
	assert_one_line_error "reconnect to $SOCK: gave up after"
	assert_json '.vhuctl.exit_status == 69 and .jobs[0].verify.filled_blocks == 64 and .reconnects == []'
}

@test "bench -L --reconnect --notify poll: a client back-end that restarts mid-run is accepted again; the run completes" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	head -c 1M /dev/urandom >"$disk"
	bg_vhu -L "$LSOCK" -t 60 --reconnect=60 -j "${BENCH[@]}" --notify poll
	mock_connect "$LSOCK" --blk "$disk" --protocol-features $NO_INFLIGHT --ring-fault never-complete:100
	mock_wait_log '^HELD q=0'
	mock_restart --blk "$disk" --protocol-features $NO_INFLIGHT
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_json ".jobs[0] | .errors == 0 and .resubmitted >= 1 and .verify.filled_blocks == 64 and .verify.checked_blocks >= 64"
	assert_json "(.reconnects | length) == 1 and .jobs[0].resubmitted == $IN_FLIGHT"
	[[ $stderr == *"a back-end connected again to $LSOCK"* ]] || fail "$stderr"
	[ ! -e "$LSOCK" ]
}

# ---- net send ----------------------------------------------------------

@test "net send --reconnect: the back-end dies with frames in flight; they are sent again, counted, none lost (split, packed)" {
	local ring feat t_old t_new
	for ring in split packed; do
		feat=()
		[ $ring = split ] || feat=(--features 0x570008000)
		# frames from the 100th on are transmitted but never handed back
		mock_start --net "${feat[@]}" --ring-fault never-complete:100
		bg_vhu -s "$SOCK" -t 60 --reconnect=60 -j net send --count 300 --ring $ring
		mock_wait_log '^HELD q=1'
		t_old=$MOCK_LOG
		mock_restart --net "${feat[@]}"
		bg_wait
		[ "$status" -eq 0 ] || fail "$ring: exit $status: $stderr"
		assert_json ".net.frames == 300 and .net.resubmitted >= 1
			and (.reconnects | length) == 1 and .net.resubmitted == $IN_FLIGHT"
		[[ $stderr == *"vhuctl: reconnect: queue 1: the back-end closed the connection with "*" in flight; connected again to $SOCK"* ]] ||
			fail "$stderr"
		# Nothing lost: the two back-ends transmitted every frame; a
		# frame goes out twice only if it was sent again, and the old
		# one had transmitted it without handing it back.
		t_old=$(grep -c '^NET_TX q=1 ' "$t_old")
		t_new=$(grep -c '^NET_TX q=1 ' "$MOCK_LOG")
		[ $((t_old + t_new)) -ge 300 ] || fail "$ring: $t_old + $t_new frames transmitted"
		[ $((t_old + t_new)) -le $((300 + $(jqr .net.resubmitted))) ] || fail "$ring: $t_old + $t_new frames transmitted"
		mock_stop
	done
}

@test "net recv --reconnect is a usage error (what the old back-end had for it would be lost silently)" {
	run --separate-stderr "$VHUCTL" -s /nonexistent --reconnect net recv
	assert_failure 64
	assert_one_line_error "--reconnect is for net send, not net recv"
}

@test "bench --reconnect: SIGINT while the back-end is away ends the run with 130 and the figures so far" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	head -c 1M /dev/urandom >"$disk"
	mock_start --blk "$disk" --ring-fault never-complete:100
	bg_vhu -s "$SOCK" -t 60 --reconnect=0 --trace -j "${BENCH[@]}"
	mock_wait_log '^HELD q=0'
	kill -KILL "$MOCK_PID"
	# nobody listens: vhuctl tries again and again (no limit)
	wait_grep "$BATS_TEST_TMPDIR/bg.err" '^trace: -- reconnect: '
	kill -INT "$BG_PID"
	bg_wait
	[ "$status" -eq 130 ] || fail "exit $status: $stderr"
	[[ $stderr == *"interrupted by SIGINT"* ]] || fail "$stderr"
	assert_json '.vhuctl.exit_status == 130 and .jobs[0].verify.filled_blocks == 64 and .reconnects == []'
}

@test "bench -T net --reconnect is a usage error (only -T blk carries on)" {
	run --separate-stderr "$VHUCTL" -s /nonexistent -T net --reconnect bench
	assert_failure 64
	assert_one_line_error "--reconnect is for bench -T blk, not -T net"
}
