#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Memory table and ring commands against the mock back-end: local
# refusals must send nothing (the mock's request log proves it).

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

setup() {
	SOCK="$BATS_TEST_TMPDIR/m.sock"
	LOG="$BATS_TEST_TMPDIR/m.log"
	: >"$LOG"
}

start_mock() {
	rm -f "$BATS_TEST_TMPDIR/m.pid"
	"$VHU_MOCK" --socket "$SOCK" --pidfile "$BATS_TEST_TMPDIR/m.pid" --log "$LOG" "$@" &
	MOCK_PID=$!
	# at most 60 s: only a failure waits that long
	for _ in $(seq 1200); do
		[ -s "$BATS_TEST_TMPDIR/m.pid" ] && return 0
		sleep 0.05
	done
	return 1
}

teardown() {
	if [ -n "${MOCK_PID:-}" ]; then
		kill "$MOCK_PID" 2>/dev/null || true
		wait "$MOCK_PID" 2>/dev/null || true
	fi
}

@test "set-mem-table with 9 regions is refused before connecting" {
	start_mock
	run "$VHUCTL" -s "$SOCK" set-mem-table 1M,1M,1M,1M,1M,1M,1M,1M,1M
	assert_failure 64
	assert_output --partial "SET_MEM_TABLE: more than 8 regions"
	[ ! -s "$LOG" ]
}

@test "set-mem-table with a zero-size region is refused before connecting" {
	start_mock
	run "$VHUCTL" -s "$SOCK" set-mem-table 1M,0
	assert_failure 64
	assert_output --partial "size 0"
	[ ! -s "$LOG" ]
}

@test "set-mem-table passes one fd per region" {
	start_mock
	run "$VHUCTL" -s "$SOCK" set-mem-table 1M,2M@0x10000000 -j
	assert_success
	echo "$output" | jq -e '.regions | length == 2'
	echo "$output" | jq -e '.regions[1].guest_phys_addr == "0x10000000"'
	grep -q '^SET_MEM_TABLE flags=0x9 size=72 fds=2$' "$LOG"
}

@test "add-mem-reg beyond the slot limit is refused locally" {
	start_mock --mem-slots 2
	printf '%s\n' 'add-mem-reg 1M' 'add-mem-reg 1M' 'add-mem-reg 1M' >"$BATS_TEST_TMPDIR/b"
	run "$VHUCTL" -s "$SOCK" batch "$BATS_TEST_TMPDIR/b"
	assert_failure 64
	assert_output --partial "ADD_MEM_REG: all 2 memory slots of the back-end are in use"
	[ "$(grep -c '^ADD_MEM_REG' "$LOG")" -eq 2 ]
}

@test "a ring index beyond the queue count sends nothing for that ring" {
	start_mock --queues 2
	run "$VHUCTL" -s "$SOCK" set-vring-kick 2
	assert_failure 64
	assert_output --partial "SET_VRING_KICK: ring 2 is beyond the back-end's 2 queues"
	! grep -q 'SET_VRING_KICK' "$LOG" || fail "the log has SET_VRING_KICK: $(cat "$LOG")"
}

@test "set-vring-call --nofd sends the invalid-fd flag and no fd" {
	start_mock
	run "$VHUCTL" -s "$SOCK" --trace set-vring-call 1 --nofd
	assert_success
	assert_output --partial "vring=1 nofd"
	grep -q '^SET_VRING_CALL flags=0x9 size=8 fds=0$' "$LOG"
}

@test "set-vring-enable needs VHOST_USER_F_PROTOCOL_FEATURES acknowledged first" {
	start_mock
	run "$VHUCTL" -s "$SOCK" set-vring-enable 0 on
	assert_failure 3
	assert_output --partial "acknowledged with SET_FEATURES"
	! grep -q 'SET_VRING_ENABLE' "$LOG" || fail "the log has SET_VRING_ENABLE: $(cat "$LOG")"
}

@test "10,000 batch steps on one connection keep the fd count flat" {
	start_mock
	{
		echo 'set-mem-table 1M'
		for _ in $(seq 5000); do
			echo 'set-vring-kick 0'
			echo 'get-queue-num'
		done
	} >"$BATS_TEST_TMPDIR/big"
	# The socket, the memfd and ring 0's kick eventfd are the only fds the
	# session opens; 5000 kicks reuse the same eventfd.
	run --separate-stderr "$VHUCTL" -s "$SOCK" --stats -j batch "$BATS_TEST_TMPDIR/big"
	assert_success
	echo "$output" | jq -e '.steps | length == 10001'
	echo "$output" | jq -e '.stats.fds_at_start == .stats.fds_at_exit'
	echo "$output" | jq -e '.stats.sent >= 10001'
	[ "$(grep -c '^SET_VRING_KICK .* fds=1$' "$LOG")" -eq 5000 ]
}

@test "valgrind: the same long batch leaves no fd of vhuctl open" {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	[ -z "${VHU_SANITIZED:-}" ] || skip "sanitizer build: valgrind checks run in the normal build"
	start_mock
	{
		echo 'set-mem-table 1M'
		for _ in $(seq 2000); do
			echo 'set-vring-kick 0'
			echo 'get-queue-num'
		done
	} >"$BATS_TEST_TMPDIR/big"
	run valgrind -q --track-fds=yes --error-exitcode=99 --log-file="$BATS_TEST_TMPDIR/vg" "$VHUCTL" -s "$SOCK" batch "$BATS_TEST_TMPDIR/big"
	assert_success
	# every fd valgrind finds open at exit was inherited from bats, none is ours
	grep -q 'FILE DESCRIPTORS:' "$BATS_TEST_TMPDIR/vg"
	[ "$(grep -c 'Open file descriptor' "$BATS_TEST_TMPDIR/vg")" -eq "$(grep -c 'inherited from parent' "$BATS_TEST_TMPDIR/vg")" ]
}

@test "send-rarp puts the MAC in the first 6 bytes; needs RARP" {
	start_mock --protocol-features 0x0c
	run "$VHUCTL" -s "$SOCK" --trace send-rarp 52:54:00:12:34:56
	assert_success
	assert_output --partial "u64=$((0x563412005452))"
	run "$VHUCTL" -s "$SOCK" send-rarp 52:54:00:12:34
	assert_failure 64
	run "$VHUCTL" -s "$SOCK" net-set-mtu 1500
	assert_failure 3
	assert_output --partial "VHOST_USER_PROTOCOL_F_NET_MTU"
	! grep -q NET_SET_MTU "$LOG" || fail "the log has NET_SET_MTU: $(cat "$LOG")"
}

@test "set-log-base needs LOG_SHMFD; --force sends the legacy u64 base and no fd" {
	start_mock --protocol-features 0x8
	run "$VHUCTL" -s "$SOCK" set-log-base 0x1000
	assert_failure 3
	assert_output --partial "SET_LOG_BASE: back-end does not offer VHOST_USER_PROTOCOL_F_LOG_SHMFD"
	! grep -q '^SET_LOG_BASE' "$LOG" || fail "the log has ^SET_LOG_BASE: $(cat "$LOG")"
	run "$VHUCTL" -s "$SOCK" --force set-log-base 0x1000 -j
	assert_success
	echo "$output" | jq -e '.fd == false and .address == 4096'
	grep -q '^SET_LOG_BASE flags=0x9 size=8 fds=0$' "$LOG"
}

@test "set-inflight-fd without a buffer from get-inflight-fd is refused locally" {
	start_mock
	run "$VHUCTL" -s "$SOCK" set-inflight-fd
	assert_failure 64
	assert_output --partial "run get-inflight-fd first"
	[ ! -s "$LOG" ]
}

@test "get-inflight-fd then set-inflight-fd in one batch hands the buffer back" {
	start_mock
	printf '%s\n' 'get-inflight-fd --queues 2 --queue-size 64' 'set-inflight-fd' >"$BATS_TEST_TMPDIR/b"
	run "$VHUCTL" -s "$SOCK" -j batch "$BATS_TEST_TMPDIR/b"
	assert_success
	echo "$output" | jq -e '.steps[0].inflight.mmap_size == 2 * 1088'
	grep -q '^SET_INFLIGHT_FD flags=0x9 size=24 fds=1$' "$LOG"
}

@test "batch at a terminal is an interactive walkthrough (prompt, help, goes on after a failure)" {
	command -v script >/dev/null || skip "script(1) not installed"
	start_mock
	printf '%s\n' 'get-queue-num' 'help' 'bogus' 'get-max-mem-slots' 'quit' >"$BATS_TEST_TMPDIR/in"
	run script -qec "'$VHUCTL' -s '$SOCK' batch </dev/tty" /dev/null <"$BATS_TEST_TMPDIR/in"
	assert_output --partial "vhuctl> "
	assert_output --partial "set-vring-kick"
	assert_output --partial "unknown command 'bogus'"
	assert_output --regexp "Memory slots: +32"
	[ "$(grep -c '^GET_MAX_MEM_SLOTS' "$LOG")" -eq 1 ]
}

@test "setup against the mock: every step as an object, both rings, status driven" {
	start_mock --queues 2
	run "$VHUCTL" -s "$SOCK" setup -j
	assert_success
	echo "$output" | jq -e '.rings == 2'
	echo "$output" | jq -e '[.steps[] | select(.request == "SET_VRING_KICK") | .ring] == [0, 1]'
	echo "$output" | jq -e '.steps[0] == {"request": "SET_OWNER"}'
	echo "$output" | jq -e '[.steps[] | select(.request == "SET_STATUS")] | length == 2'
	[ "$(grep -c '^SET_VRING_ADDR' "$LOG")" -eq 2 ]
	grep -q '^SET_MEM_TABLE .* fds=1$' "$LOG"
}

@test "setup stops at the step the back-end refuses and names it" {
	start_mock --queues 2 --fault SET_VRING_KICK:nak
	run --separate-stderr "$VHUCTL" -s "$SOCK" setup -j
	assert_failure 1
	echo "$output" | jq -e '.failed_step == "SET_VRING_KICK" and .failed_ring == 0'
	echo "$output" | jq -e '.steps[-1] == {"request": "SET_VRING_ADDR", "ring": 0}'
	[[ "$stderr" == *"SET_VRING_KICK: back-end refused"* ]]
	! grep -q '^SET_VRING_CALL' "$LOG" || fail "the log has ^SET_VRING_CALL: $(cat "$LOG")"
}

@test "setup acks only the ring features it drives; packed and forced ring features are checked first" {
	# offered: LOG_ALL, INDIRECT, EVENT_IDX, bit 30, VERSION_1, ACCESS_PLATFORM, IN_ORDER
	start_mock --queues 1 --features 0x0000000b74000000
	run --separate-stderr "$VHUCTL" -s "$SOCK" setup -j --event-idx off
	assert_success
	echo "$output" | jq -e '.acked_features.mask == "0x0000000150000000"'
	echo "$output" | jq -e '.driver == {"ring": "split", "event_idx": false, "indirect": true, "queue_size": 128, "gpa_base": "0x100000000", "memory": 67108864}'
	: >"$LOG"
	run --separate-stderr "$VHUCTL" -s "$SOCK" setup --ring packed
	assert_failure 3
	[[ "$stderr" == *"VIRTIO_F_RING_PACKED: the back-end does not offer packed rings"* ]]
	! grep -q '^SET_OWNER' "$LOG" || fail "the log has ^SET_OWNER: $(cat "$LOG")"
	run --separate-stderr "$VHUCTL" -s "$SOCK" setup --queue-size 100
	assert_failure 64
	[[ "$stderr" == *"power of 2"* ]]
}

@test "setup --ring packed, 100 descriptors, memory at a chosen guest-physical base" {
	start_mock --queues 1 --features 0x0000000570000000
	run --separate-stderr "$VHUCTL" -s "$SOCK" setup -j --ring packed --queue-size 100 --gpa-base 0x40000000 --memory 3M
	assert_success
	echo "$output" | jq -e '.acked_features.mask == "0x0000000570000000"'
	echo "$output" | jq -e '.driver.ring == "packed" and .driver.queue_size == 100 and .driver.gpa_base == "0x40000000" and .driver.memory == 4194304'
	grep -q '^SET_VRING_NUM ' "$LOG"
}

@test "batch: a step's warnings stay with that step" {
	start_mock
	printf '%s\n' get-queue-num 'set-features 0x1' >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j batch "$BATS_TEST_TMPDIR/b"
	assert_success
	echo "$output" | jq -e '.steps[1].warnings | any(test("not offered"))'
	echo "$output" | jq -e '(.steps[0] | has("warnings") | not) and (has("warnings") | not)'
}

@test "--backing file:PATH is sized to the region, not grown run after run" {
	local f=$BATS_TEST_TMPDIR/guest.mem
	printf '20 bytes of old junk' >"$f"
	start_mock
	for run in 1 2; do
		run "$VHUCTL" -s "$SOCK" set-mem-table --backing "file:$f" 1M
		assert_success
		[ "$(stat -c %s "$f")" -eq 1048576 ] || fail "run $run: file is $(stat -c %s "$f") bytes"
	done
	# Two regions in one file: the second at the next 2 MiB boundary.
	run "$VHUCTL" -s "$SOCK" -j set-mem-table --backing "file:$f" 1M,1M
	assert_success
	echo "$output" | jq -e '[.regions[].mmap_offset] == ["0x0", "0x200000"]'
	[ "$(stat -c %s "$f")" -eq $((2097152 + 1048576)) ] || fail "file is $(stat -c %s "$f") bytes"
}

@test "get-inflight-fd of a buffer claimed to be 1 TiB reads only what it decodes" {
	[ -x /usr/bin/time ] || skip "needs GNU time (scripts/deps test)"
	start_mock --fault GET_INFLIGHT_FD:inflight-huge
	run --separate-stderr /usr/bin/time -f 'maxrss=%M' "$VHUCTL" -s "$SOCK" -t 10 -j get-inflight-fd --queues 2
	assert_success
	echo "$output" | jq -e '.inflight.mmap_size == 1099511627776 and (.inflight.queues | length) == 2'
	echo "$output" | jq -e '.inflight.queues[1] | .desc_num == 0 and .inflight == 0 and .truncated == false'
	# Before, 1 GiB of it was read into memory; the sanitizer build's own
	# overhead stays far below the bound.
	local kb=${stderr##*maxrss=}
	[ "$kb" -lt 262144 ] || fail "peak RSS $kb KiB"
}

@test "rem-mem-reg forgets the region: a second removal is refused, nothing more is sent" {
	start_mock
	printf '%s\n' 'set-mem-table 1M,1M' 'rem-mem-reg 0' 'rem-mem-reg 0' >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$VHUCTL" -s "$SOCK" batch "$BATS_TEST_TMPDIR/b"
	assert_failure 64
	[[ "$stderr" == *"line 3: REM_MEM_REG: region 0 was removed earlier in this session"* ]] || fail "$stderr"
	[ "$(grep -c '^REM_MEM_REG ' "$LOG")" -eq 1 ]
	# --force sends it again (testing a back-end's handling of it)
	: >"$LOG"
	run --separate-stderr "$VHUCTL" -s "$SOCK" -f batch "$BATS_TEST_TMPDIR/b"
	assert_success
	[ "$(grep -c '^REM_MEM_REG ' "$LOG")" -eq 2 ]
}

@test "set-vring-addr --auto lays rings into a region the back-end still has" {
	start_mock
	printf '%s\n' 'set-mem-table 1M,1M' 'rem-mem-reg 0' 'set-vring-addr 0 --auto' 'set-vring-addr 1 --auto' \
		>"$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j batch "$BATS_TEST_TMPDIR/b"
	assert_success
	# Both rings inside region 1, [uva, uva + 1 MiB), one after the other.
	echo "$output" | jq -e '(.steps[0].regions[1].userspace_addr | ltrimstr("0x") | explode |
		reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))) as $u1 |
		[.steps[2, 3].desc | ltrimstr("0x") | explode |
		 reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end))] |
		all(. >= $u1 and . < $u1 + 1048576) and .[1] > .[0]'
	# With no region left, --auto has nowhere to go.
	printf '%s\n' 'set-mem-table 1M' 'rem-mem-reg 0' 'set-vring-addr 0 --auto' >"$BATS_TEST_TMPDIR/b"
	: >"$LOG"
	run --separate-stderr "$VHUCTL" -s "$SOCK" batch "$BATS_TEST_TMPDIR/b"
	assert_failure 64
	[[ "$stderr" == *"--auto needs a memory region in the back-end's table"* ]] || fail "$stderr"
	! grep -q '^SET_VRING_ADDR ' "$LOG" || fail "the log has ^SET_VRING_ADDR : $(cat "$LOG")"
}

@test "net rings: GET_QUEUE_NUM counts queue pairs with -T net; --force passes the local cap" {
	start_mock --queues 2
	# Without -T the count is rings: ring 3 is refused, with the reason.
	run --separate-stderr "$VHUCTL" -s "$SOCK" set-vring-num 3 256
	assert_failure 64
	[[ "$stderr" == *"beyond the back-end's 2 queues"*"-T net"* ]] || fail "$stderr"
	! grep -q '^SET_VRING_NUM ' "$LOG" || fail "the log has ^SET_VRING_NUM : $(cat "$LOG")"
	# -T net: 2 pairs are 4 rings, 0..3.
	run --separate-stderr "$VHUCTL" -s "$SOCK" -T net set-vring-num 3 256
	assert_success
	run --separate-stderr "$VHUCTL" -s "$SOCK" -T net set-vring-num 4 256
	assert_failure 64
	[[ "$stderr" == *"2 queue pairs (4 rings"* ]] || fail "$stderr"
	# --force sends it whatever the count says.
	run --separate-stderr "$VHUCTL" -s "$SOCK" -f set-vring-num 5 256
	assert_success
	[ "$(grep -c '^SET_VRING_NUM ' "$LOG")" -eq 2 ]
	# The 8-bit index of the fd messages stays a hard limit.
	run --separate-stderr "$VHUCTL" -s "$SOCK" -f set-vring-kick 256
	assert_failure 64
}

@test "set-vring-base above 16 bits on a split ring warns; a packed ring takes it silently" {
	start_mock
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j set-vring-base 0 70000
	assert_success
	echo "$output" | jq -e '.base == 70000 and (.warnings | length == 1)'
	echo "$output" | jq -e '.warnings[0] | test("16-bit index of a split ring.*4464")'
	run --separate-stderr "$VHUCTL" -s "$SOCK" set-vring-base 0 65535
	assert_success
	[ -z "$stderr" ]
	teardown
	# VIRTIO_F_RING_PACKED (34) offered and acknowledged
	start_mock --features 0x570000000
	printf '%s\n' 'set-features 0x570000000' 'set-vring-base 0 70000' >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr "$VHUCTL" -s "$SOCK" batch "$BATS_TEST_TMPDIR/b"
	assert_success
	[[ "$stderr" != *"split ring"* ]] || fail "$stderr"
}
