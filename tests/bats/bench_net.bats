#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl bench -T net against the mock's virtio-net device side
# (tests/mock/mock-dev.c --net): the mock logs every frame it takes from
# the transmitq and every frame it puts in a receive buffer (frame i:
# 60 + (i % 5) * 97 bytes), so vhuctl's packet and byte counts are checked
# exactly against the back-end's, whatever the machine's speed; the
# JSON shape; SIGINT mid-run; a receive side that goes quiet; the options
# refused before anything is sent; the system calls of the ring's thread.

load helpers

vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

# The mock's net features with RING_PACKED (see net.bats).
PACKED_FEATURES=0x570008000

mock_net() {
	mock_start --net "$@"
}

# Frames the mock took from the transmitq / put in receive buffers.
tx_logged() {
	grep -c '^NET_TX q=1 len=' "$MOCK_LOG" || true
}
rx_logged() {
	grep -c '^NET_RX q=0 frame=' "$MOCK_LOG" || true
}
# Bytes of the first $1 receive frames of the mock.
rx_bytes() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) s += 60 + (i % 5) * 97; print s + 0 }'
}

@test "bench -T net --rw tx: every frame the device took is counted, split and packed, polled and event-driven" {
	local ring notify n
	for ring in split packed; do
		for notify in event poll; do
			mock_stop
			if [ $ring = packed ]; then mock_net --features $PACKED_FEATURES; else mock_net; fi
			run --separate-stderr vhu -T net -j bench --rw tx --runtime 0.5 --ring $ring --notify $notify
			assert_success
			assert_json '.jobs | length == 1'
			assert_json '.jobs[0] | .jobname == "tx" and .job_options.rw == "tx"
				and .job_options.bs == 64 and .job_options.iodepth == 256 and .job_options.notify == "'"$notify"'"
				and .ended_by == "runtime" and .errors == 0 and .job_runtime > 0
				and .tx.packets > 0 and .tx.bytes == 64 * .tx.packets and .tx.pps > 0
				and (.tx.bps - .tx.pps * 512 | fabs) < 1 and (has("rx") | not)'
			assert_json '.driver.ring == "'$ring'" and .driver.queue_size == 256'
			n=$(jq '.jobs[0].tx.packets' <<<"$output")
			[ "$(tx_logged)" -eq "$n" ] || fail "$ring $notify: the mock took $(tx_logged) frames, vhuctl counted $n"
			assert_json '.driver.queues[1] | .completed == .requests and .completed == '"$n"
			# both rings of the pair stopped in order
			[ "$(mock_count GET_VRING_BASE)" -eq 2 ]
		done
	done
	# the frame is vhuctl's UDP datagram, --bs bytes, behind a zero header
	mock_stop
	mock_net
	run --separate-stderr vhu -T net -j bench --rw tx --runtime 0.2 --bs 100 --qd 8
	assert_success
	assert_json '.jobs[0] | .tx.bytes == 100 * .tx.packets and .job_options.iodepth == 8'
	grep -m1 '^NET_TX' "$MOCK_LOG" | grep -q \
		' len=100 hdr=000000000000000000000000 frame=020000000002020000000001080045000056000140004011b692c0000201c0000202040000090042172576687563746c0000' ||
		fail "$(grep -m1 '^NET_TX' "$MOCK_LOG")"
}

@test "bench -T net --rw rx: every frame the device delivered is counted, also after the stop" {
	local ring notify n
	for ring in split packed; do
		for notify in event poll; do
			mock_stop
			if [ $ring = packed ]; then mock_net --features $PACKED_FEATURES; else mock_net; fi
			run --separate-stderr vhu -T net -j bench --rw rx --runtime 0.5 --ring $ring --notify $notify
			assert_success
			assert_json '.jobs[0] | .jobname == "rx" and .job_options.rx_buffer == 2048
				and (.job_options | has("bs") | not) and .ended_by == "runtime" and .errors == 0
				and .rx.packets > 0 and .rx.pps > 0 and (has("tx") | not)'
			n=$(jq '.jobs[0].rx.packets' <<<"$output")
			[ "$(rx_logged)" -eq "$n" ] || fail "$ring $notify: the mock delivered $(rx_logged) frames, vhuctl counted $n"
			assert_json ".jobs[0].rx.bytes == $(rx_bytes "$n")"
			assert_json '.driver.queues[0].completed == '"$n"
		done
	done
}

@test "bench -T net --event-idx off --indirect on: header and frame through indirect tables, counted exactly" {
	local rw q
	mock_net
	for rw in tx rx; do
		: >"$MOCK_LOG"
		run --separate-stderr vhu -T net -j bench --rw $rw --runtime 0.3 --event-idx off --indirect on
		assert_success
		q=$([ $rw = tx ] && echo 1 || echo 0)
		assert_json '.driver.event_idx == false and .driver.indirect
			and .driver.queues['$q'] as $d | $d.indirect == $d.requests and $d.requests > 0'
		if [ $rw = tx ]; then
			[ "$(tx_logged)" -eq "$(jq '.jobs[0].tx.packets' <<<"$output")" ]
		else
			[ "$(rx_logged)" -eq "$(jq '.jobs[0].rx.packets' <<<"$output")" ]
		fi
	done
}

@test "bench -T net --rw rx: a device that stops sending leaves the run to end at --runtime (event and poll)" {
	local notify
	for notify in event poll; do
		mock_stop
		# 10 frames, then every receive buffer is held
		mock_net --net-frames 10
		# a thread asleep on the call eventfd must hear of the stop: not
		# only after --timeout (120 s, far beyond the 1 s asked for)
		run --separate-stderr "$VHUCTL" -s "$SOCK" -t 120 -T net -j bench --rw rx --runtime 1 --notify $notify
		assert_success
		assert_json '.jobs[0] | .ended_by == "runtime" and .rx.packets <= 10 and .job_runtime < 60000'
		[ "$(rx_logged)" -eq "$(jq '.jobs[0].rx.packets' <<<"$output")" ]
	done
}

@test "bench -T net: text output and the progress line" {
	mock_net
	run --separate-stderr vhu -T net bench --rw tx --runtime 2 --progress
	assert_success
	assert_line --regexp '^  Workload: +tx, 64-byte frames, 256 in flight, event notification$'
	# at least --runtime (the window lasts that long from when it opened)
	assert_line --regexp '^  Runtime: +([2-9]|[1-9][0-9]+)\.[0-9]{3} s measured, ended by runtime$'
	assert_line --regexp '^    Packets/s: +[0-9]+\.[0-9]$'
	assert_line --regexp '^    Bit rate: +[0-9]+\.[0-9]{2} Mbit/s$'
	assert_line --regexp '^  Kicks: +[0-9]+ \([0-9]+ suppressed\), [0-9]+ call waits$'
	[[ "$stderr" =~ bench:\ [0-9]+s\ tx:\ [0-9]+\ pps,\ [0-9.]+\ Mbit/s ]] || fail "stderr: $stderr"
}

@test "bench -T net: SIGINT ends the run with the figures so far, exit 0, orderly stop" {
	mock_net
	OUT=$BATS_TEST_TMPDIR/out.json
	ERR=$BATS_TEST_TMPDIR/err.txt
	"$VHUCTL" -s "$SOCK" -t 30 -T net -j bench --rw rx --runtime 600 --progress >"$OUT" 2>"$ERR" 3>&- &
	local pid=$! i
	for ((i = 0; i < 3000; i++)); do
		grep -qE '^bench: [0-9]+s rx: [1-9][0-9]* pps' "$ERR" && break
		kill -0 $pid 2>/dev/null || fail "bench ended early: $(cat "$ERR")"
		sleep 0.02
	done
	grep -qE '^bench: [0-9]+s rx: [1-9]' "$ERR" || fail "no progress line within 60 s: $(cat "$ERR")"
	kill -INT $pid
	wait $pid || fail "exit status $? after SIGINT: $(cat "$ERR")"
	output=$(cat "$OUT")
	assert_json '.vhuctl.exit_status == 0 and .jobs[0].ended_by == "SIGINT" and .jobs[0].rx.packets > 0'
	[ "$(rx_logged)" -eq "$(jq '.jobs[0].rx.packets' <<<"$output")" ]
	[ "$(mock_count GET_VRING_BASE)" -eq 2 ]
	! grep -q 'vhuctl:' "$ERR" || fail "stderr: $(cat "$ERR")"
}

@test "bench -T net: a back-end that dies mid-run ends it with exit 74" {
	mock_net
	OUT=$BATS_TEST_TMPDIR/out.json
	ERR=$BATS_TEST_TMPDIR/err.txt
	"$VHUCTL" -s "$SOCK" -t 30 -T net -j bench --rw tx --runtime 600 --progress >"$OUT" 2>"$ERR" 3>&- &
	local pid=$! i st=0
	for ((i = 0; i < 3000; i++)); do
		grep -qE '^bench: [0-9]+s tx: [1-9][0-9]* pps' "$ERR" && break
		kill -0 $pid 2>/dev/null || fail "bench ended early: $(cat "$ERR")"
		sleep 0.02
	done
	kill -KILL "$MOCK_PID"
	wait "$MOCK_PID" 2>/dev/null || true
	MOCK_PID=
	wait $pid || st=$?
	[ "$st" -eq 74 ] || fail "exit status $st: $(cat "$ERR")"
	output=$(cat "$OUT")
	assert_json '.vhuctl.exit_status == 74 and .jobs[0].ended_by == "error"'
}

@test "bench -T net: bad options are one-line usage errors (64) before anything is sent" {
	mock_net
	local bad
	for bad in "--rw randread" "--rw read" "--verify" "--rwmix-read 50" "--queues 2" "--offset 4k" \
		"--size 4k" "--seed 1" "--bs 41" "--bs 1515" "--bs 0" "--qd 0" "--qd 40000" "--runtime 0" \
		"--rw rx --bs 64" "--qd 512 --queue-size 256" "--rw tcp"; do
		# shellcheck disable=SC2086
		run --separate-stderr vhu -T net bench $bad
		assert_failure 64
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$bad: $stderr"
	done
	[ ! -s "$MOCK_LOG" ]
	run --separate-stderr vhu -T net bench --rw randread
	assert_one_line_error "--rw randread is for -T blk; -T net takes tx or rx"
	run --separate-stderr vhu -T net bench --verify
	assert_one_line_error "--verify is for -T blk, not -T net"
	run --separate-stderr vhu -T net bench --rw rx --bs 64
	assert_one_line_error "--bs is the frame size of --rw tx"
	# tx and rx without -T net: refused, nothing sent either
	run --separate-stderr vhu bench --rw tx
	assert_failure 64
	assert_one_line_error "--rw tx is for -T net"
	[ ! -s "$MOCK_LOG" ]
}

@test "bench -T net: the ring's thread makes no system call but the kick (and the call eventfd wait in event mode)" {
	command -v strace >/dev/null || skip "strace not installed"
	# LeakSanitizer cannot run under ptrace.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	ST=$BATS_TEST_TMPDIR/strace.out
	local rw notify c kicks waits other q
	mock_net
	for rw in tx rx; do
		for notify in event poll; do
			run --separate-stderr strace -f -qq -o "$ST" "$VHUCTL" -s "$SOCK" -t 30 -T net -j bench --rw $rw \
				--runtime 1 --notify $notify
			assert_success
			q=$([ $rw = tx ] && echo 1 || echo 0)
			c=$(worker_calls)
			kicks=$(jq ".driver.queues[$q].kicks" <<<"$output")
			waits=$(jq ".driver.queues[$q].call_waits" <<<"$output")
			[ "$(jq ".jobs[0].$rw.packets" <<<"$output")" -gt 0 ] || fail "nothing moved: $output"
			# one write per kick, and one more: "done" to the supervisor
			[ "$(ncalls "$c" write)" -eq $((kicks + 1)) ] || fail "$rw $notify: $kicks kicks: $c"
			[ "$(ncalls "$c" poll)" -eq "$waits" ] || fail "$rw $notify: $waits call waits: $c"
			[ "$(ncalls "$c" read)" -le "$waits" ] || fail "$rw $notify: $c"
			[ "$notify" = event ] || [ "$waits" -eq 0 ] || fail "poll mode waited: $c"
			other=$(awk '$2 !~ /^(write|poll|read|sched_yield)$/ && $1 > 20' <<<"$c")
			[ -z "$other" ] || fail "$rw $notify: calls that grow with the run: $other"
		done
	done
}

@test "bench -T net leaves no fd open and no memory error (valgrind)" {
	require_valgrind
	mock_net
	run vhu_valgrind -t 30 -T net -j bench --rw rx --runtime 0.5 --qd 16
	assert_success
	assert_no_fd_leak
	run vhu_valgrind -t 30 -T net -j bench --rw tx --runtime 0.5 --indirect on
	assert_success
	assert_no_fd_leak
}
