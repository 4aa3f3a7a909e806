#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# What a request costs in system calls, counted with strace: a reply is
# sendmsg, recvmsg (header, waiting in the kernel) and recvmsg (body), with
# no poll in between; nothing scans /proc/self/fd unless --stats asks.
# Counts are exact because the mock sends each reply in one sendmsg.

load helpers

setup() {
	command -v strace >/dev/null || skip "strace not installed"
	ST=$BATS_TEST_TMPDIR/strace.out
	# LeakSanitizer cannot run under ptrace; the sanitizer build checks
	# leaks in every other suite.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
}

# Calls named $1 in the strace log.
calls() {
	grep -cE "^([0-9]+ +)?$1\(" "$ST" || true
}

@test "get-queue-num: 4 requests, 3 replies, 10 calls and no poll" {
	mock_start
	run strace -f -qq -o "$ST" -e trace=sendmsg,sendto,write,recvmsg,recvfrom,read,poll,ppoll,select,pselect6 \
		"$VHUCTL" -s "$SOCK" get-queue-num
	assert_success
	assert_output --regexp 'Queues: +2'
	# GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (no reply),
	# GET_QUEUE_NUM
	[ "$(calls sendmsg)" -eq 4 ] || fail "sendmsg: $(cat "$ST")"
	[ "$(calls recvmsg)" -eq 6 ] || fail "recvmsg: $(cat "$ST")"
	[ "$(calls '(poll|ppoll|select|pselect6)')" -eq 0 ] || fail "waits: $(cat "$ST")"
}

@test "batch: each get-features step is one sendmsg and two recvmsg" {
	mock_start
	printf 'get-features\n%.0s' $(seq 50) >"$BATS_TEST_TMPDIR/b"
	run strace -f -qq -o "$ST" -e trace=sendmsg,recvmsg,poll,ppoll "$VHUCTL" -s "$SOCK" batch "$BATS_TEST_TMPDIR/b"
	assert_success
	[ "$(calls sendmsg)" -eq 50 ]
	[ "$(calls recvmsg)" -eq 100 ]
	[ "$(calls '(poll|ppoll)')" -eq 0 ]
}

@test "/proc/self/fd is read only with --stats" {
	mock_start
	run strace -f -qq -o "$ST" -e trace=openat,open "$VHUCTL" -s "$SOCK" get-features
	assert_success
	! grep -q '/proc/self/fd' "$ST" || fail "scanned without --stats: $(cat "$ST")"
	run --separate-stderr strace -f -qq -o "$ST" -e trace=openat,open "$VHUCTL" -s "$SOCK" --stats get-features
	assert_success
	grep -q '/proc/self/fd' "$ST"
	[[ "$stderr" =~ "open fds at start "([0-9]+)", at exit "([0-9]+) ]] || fail "stderr: $stderr"
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ] || fail "stderr: $stderr"
}

@test "proxy: a relayed message is one recvmsg and one sendmsg, its line one write" {
	local i pid
	mock_start
	PSOCK=$BATS_TEST_TMPDIR/front.sock
	printf 'get-features\n%.0s' $(seq 200) >"$BATS_TEST_TMPDIR/b"
	strace -f -qq -o "$ST" -e trace=recvmsg,sendmsg,write,poll \
		"$VHUCTL" proxy --sessions 1 --listen "$PSOCK" --connect "$SOCK" >"$BATS_TEST_TMPDIR/p.out" 2>&1 3>&- &
	pid=$!
	wait_file "$PSOCK"
	run "$VHUCTL" -s "$PSOCK" -t 30 batch "$BATS_TEST_TMPDIR/b"
	assert_success
	wait "$pid" || fail "proxy: $(cat "$BATS_TEST_TMPDIR/p.out")"
	# 200 round trips, a few more for vhuctl's own negotiation and the end
	# of the session: at most 2 recvmsg a round trip (each message read
	# whole at once), 2 sendmsg, 2 writes of output lines.
	[ "$(calls recvmsg)" -le 420 ] || fail "recvmsg: $(calls recvmsg)"
	[ "$(calls sendmsg)" -le 420 ] || fail "sendmsg: $(calls sendmsg)"
	[ "$(calls write)" -le 420 ] || fail "write: $(calls write)"
	[ "$(calls poll)" -le 420 ] || fail "poll: $(calls poll)"
}

@test "start-up: probe loads neither libcrypto nor libpcap; device-state save loads libcrypto" {
	# Both are dlopened where needed: linked, libcrypto's relocations
	# alone cost every command more than half a millisecond.
	mock_start
	run strace -f -qq -o "$ST" -e trace=openat,open "$VHUCTL" -s "$SOCK" probe
	assert_success
	! grep -qE 'lib(crypto|pcap)\.so' "$ST" || fail "loaded by probe: $(grep -E 'lib(crypto|pcap)' "$ST")"
	run strace -f -qq -o "$ST" -e trace=openat,open "$VHUCTL" -s "$SOCK" device-state save "$BATS_TEST_TMPDIR/state.bin"
	assert_success
	grep -qE 'libcrypto\.so.* = [0-9]+$' "$ST" || fail "libcrypto not loaded: $(grep -E 'crypto' "$ST")"
	[ -s "$BATS_TEST_TMPDIR/state.bin" ]
}
