#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# blk --reconnect end to end: qemu-storage-daemon (Debian 12: QEMU 7.2) is
# killed (SIGKILL) in the middle of a long write, and of a long read, and
# started again on the same raw file.  The first daemon exports the file
# through a throttle filter of 1 byte per second in the direction under
# test: once the bring-up is acknowledged, requests are in flight and none
# can complete (at most the first, the bucket's burst), so the kill lands
# in the middle by construction, not by timing.  The second daemon has no
# throttle.  Every byte must then verify: nothing lost, nothing out of
# place.

load helpers

IMG_SIZE=$((64 * 1048576))
DATA_SIZE=$((32 * 1048576))

setup() {
	command -v qemu-storage-daemon >/dev/null || skip "qemu-storage-daemon not installed"
	IMG=$BATS_TEST_TMPDIR/disk.img
	SOCK=$BATS_TEST_TMPDIR/blk.sock
	QSD_SEQ=0
}

teardown() {
	bg_reap
	qsd_kill
}

# qemu-storage-daemon exporting $IMG on $SOCK, writable; with $1 (bps-read
# or bps-write), through a throttle of 1 byte per second that way.
qsd_run() {
	local node=r0 thr=()
	QSD_SEQ=$((QSD_SEQ + 1))
	if [ -n "${1:-}" ]; then
		thr=(--object "throttle-group,id=tg0,x-$1=1"
			--blockdev driver=throttle,throttle-group=tg0,file=r0,node-name=t0)
		node=t0
	fi
	qemu-storage-daemon --blockdev driver=file,filename="$IMG",node-name=f0 \
		--blockdev driver=raw,file=f0,node-name=r0 "${thr[@]}" \
		--export type=vhost-user-blk,id=e0,node-name=$node,addr.type=unix,addr.path="$SOCK",writable=on \
		>"$BATS_TEST_TMPDIR/qsd$QSD_SEQ.log" 2>&1 3>&- &
	QSD_PID=$!
}

qsd_kill() {
	if [ -n "${QSD_PID:-}" ]; then
		kill -KILL "$QSD_PID" 2>/dev/null || true
		wait "$QSD_PID" 2>/dev/null || true
		QSD_PID=
	fi
}

# Start vhuctl "$@" against the throttled daemon, kill the daemon once the
# bring-up is acknowledged, start an unthrottled one, wait for vhuctl.
kill_in_the_middle() {
	local dir=$1
	shift
	qsd_run "$dir"
	bg_vhu -s "$SOCK" --wait 60 -t 60 --reconnect=60 --trace -j "$@"
	wait_grep "$BATS_TEST_TMPDIR/bg.err" '^trace: B>F SET_VRING_ENABLE \(reply\)'
	qsd_kill
	qsd_run
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $(grep -v '^trace:' <<<"$stderr")"
}

@test "qsd killed and restarted in the middle of a 32 MiB blk write, then of the read back: every byte verifies" {
	local sum
	truncate -s $IMG_SIZE "$IMG"
	head -c $DATA_SIZE /dev/urandom >"$BATS_TEST_TMPDIR/in.bin"
	sum=$(sha256sum <"$BATS_TEST_TMPDIR/in.bin" | cut -d' ' -f1)

	kill_in_the_middle bps-write blk write 8M -i "$BATS_TEST_TMPDIR/in.bin"
	assert_json ".blk.bytes == $DATA_SIZE and .blk.sha256 == \"$sum\" and .blk.resubmitted >= 1
		and (.reconnects | length) == 1 and (.reconnects[0].cause | test(\"in flight\"))
		and ([.reconnects[0].replayed[].request] | index(\"SET_MEM_TABLE\") != null)"
	[[ $stderr == *"vhuctl: reconnect: queue 0: the back-end closed the connection with "*" in flight; connected again to $SOCK"* ]] ||
		fail "$stderr"
	# the file holds exactly the data, where it belongs, and nothing else
	cmp <(dd if="$IMG" bs=1M skip=8 count=32 status=none) "$BATS_TEST_TMPDIR/in.bin"
	cmp <(head -c 8M "$IMG") <(head -c 8M /dev/zero)
	cmp <(dd if="$IMG" bs=1M skip=40 status=none) <(head -c 24M /dev/zero)

	qsd_kill
	kill_in_the_middle bps-read blk read 8M 32M -o "$BATS_TEST_TMPDIR/out.bin"
	assert_json ".blk.bytes == $DATA_SIZE and .blk.sha256 == \"$sum\" and .blk.resubmitted >= 1 and (.reconnects | length) == 1"
	cmp "$BATS_TEST_TMPDIR/out.bin" "$BATS_TEST_TMPDIR/in.bin"
}

@test "qsd killed and restarted in the middle of bench --verify --reconnect: the run completes, the requests in flight are sent again, every block verifies" {
	truncate -s $IMG_SIZE "$IMG"
	# Killed in the fill (every request a write, throttled): 256 blocks
	# of 4 KiB, 8 in flight.
	kill_in_the_middle bps-write bench --rw randrw --bs 4k --qd 8 --offset 1M --size 1M --runtime 1 --verify
	assert_json '.jobs[0] | .errors == 0 and .ended_by == "runtime" and .resubmitted >= 1
		and .verify.filled_blocks == 256 and .verify.checked_blocks >= 256'
	assert_json '(.reconnects | length) == 1 and (.reconnects[0].cause | test("with [0-9]+ requests? in flight"))
		and .jobs[0].resubmitted == (.reconnects[0].cause | capture("with (?<n>[0-9]+) request").n | tonumber)
		and ([.reconnects[0].replayed[].request] | index("SET_MEM_TABLE") != null)'
	[[ $stderr == *"vhuctl: reconnect: the back-end closed the connection with "*" in flight; connected again to $SOCK"* ]] ||
		fail "$(grep -v '^trace:' <<<"$stderr")"
	# nothing outside the span was written
	cmp <(head -c 1M "$IMG") <(head -c 1M /dev/zero)
	cmp <(dd if="$IMG" bs=1M skip=2 status=none) <(head -c $((IMG_SIZE - 2 * 1048576)) /dev/zero)
}
