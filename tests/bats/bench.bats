#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl bench against the mock's virtio-blk device (tests/mock/mock-dev.c):
# the figures and their JSON shape, the request count against the
# back-end's GET_VRING_BASE, --verify (clean, and a device that corrupts a
# sector on read), SIGINT/SIGTERM mid-run, failures mid-run, and the
# options refused before anything is sent.  Nothing here depends on how
# fast the machine is: runs are short (1-3 s), assertions are about counts
# and shapes, and the signal tests wait for the progress line.

load helpers

# A long --timeout: a loaded machine must not turn a pass into exit 75.
vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

PACKED_FEATURES=0x570007244

setup() {
	DISK=$BATS_TEST_TMPDIR/disk.img
	head -c 4M /dev/urandom >"$DISK"
}

mock_blk() {
	mock_start --blk "$DISK" "$@"
}

# The JSON figures every successful run must have ($output).
assert_figures() {
	local dir=$1
	assert_json ".jobs | length == 1"
	assert_json ".jobs[0].$dir.iops > 0 and .jobs[0].$dir.total_ios > 0 and .jobs[0].$dir.io_bytes > 0"
	assert_json ".jobs[0].$dir.clat_ns as \$l | \$l.min <= \$l.percentile[\"50.000000\"] and
		\$l.percentile[\"50.000000\"] <= \$l.percentile[\"90.000000\"] and
		\$l.percentile[\"90.000000\"] <= \$l.percentile[\"99.000000\"] and
		\$l.percentile[\"99.000000\"] <= \$l.percentile[\"99.900000\"] and
		\$l.percentile[\"99.900000\"] <= \$l.max and \$l.N == .jobs[0].$dir.total_ios"
	assert_json ".jobs[0].errors == 0"
	# every request sent was completed before the orderly stop
	assert_json '[.driver.queues[] | .requests == .completed] | all'
}

@test "bench: JSON figures with fio's names; the request count equals GET_VRING_BASE at the stop" {
	mock_blk
	run --separate-stderr vhu -T blk -j bench --rw randread --bs 4k --qd 16 --runtime 1
	assert_success
	assert_figures read
	assert_json '.jobs[0].job_options | .rw == "randread" and .bs == 4096 and .iodepth == 16 and .queues == 1'
	assert_json '.jobs[0].ended_by == "runtime" and .jobs[0].read.runtime == .jobs[0].job_runtime'
	assert_json '.jobs[0].read.clat_ns.percentile | keys | length == 17'
	assert_json '.jobs[0].usr_cpu >= 0 and .jobs[0].sys_cpu >= 0 and .jobs[0].kicks > 0'
	assert_json '(.jobs[0] | has("write")) | not'
	# split ring: the base at the stop is the count of requests made available
	assert_json '.driver.queues[0] | .stop_base == .requests % 65536'
	assert_json '.driver.queues[0].requests >= .jobs[0].read.total_ios + 16'
	[ "$(mock_count GET_VRING_BASE)" -eq 1 ]
	grep -q '^SET_VRING_ENABLE ' "$MOCK_LOG"
	# 4 KiB reads, all of them served
	grep -q '^BLK q=0 type=0 ' "$MOCK_LOG"
	[ -z "$(grep '^BLK ' "$MOCK_LOG" | grep -v 'type=0 .* bytes=4096 .*status=0$')" ]
}

@test "bench: writes, reads and a mix on split and packed rings, polled and event-driven" {
	local ring notify
	for ring in split packed; do
		mock_stop
		mock_blk --features $PACKED_FEATURES
		for notify in poll event; do
			run --separate-stderr vhu -j bench --rw randrw --rwmix-read 70 --qd 8 --runtime 1 \
				--ring $ring --notify $notify
			assert_success
			assert_figures read
			assert_figures write
			assert_json ".driver.ring == \"$ring\" and .jobs[0].job_options.notify == \"$notify\""
			assert_json '.jobs[0].job_options.rwmix_read == 70'
			[ "$notify" = event ] || assert_json '.jobs[0].call_waits == 0'
		done
	done
	run --separate-stderr vhu -j bench --rw write --bs 64k --qd 2 --runtime 1 --indirect off --event-idx off
	assert_success
	assert_figures write
	assert_json '.driver.queues[0].indirect == 0 and .jobs[0].write.io_bytes == .jobs[0].write.total_ios * 65536'
	grep -q '^BLK q=0 type=1 .* bytes=65536 segs=3 indirect=0' "$MOCK_LOG"
}

@test "bench: sequential reads walk the span from --offset, block by block" {
	mock_blk
	run --separate-stderr vhu -j bench --rw read --bs 8k --offset 1M --size 64k --runtime 1
	assert_success
	assert_figures read
	assert_json '.jobs[0].job_options.offset == 1048576 and .jobs[0].job_options.size == 65536'
	# the first requests: sectors 2048, 2064, 2080, ... and never outside the span
	[ "$(grep '^BLK q=0 type=0' "$MOCK_LOG" | head -3 | sed 's/.*sector=\([0-9]*\).*/\1/' | tr '\n' ' ')" = "2048 2064 2080 " ]
	[ -z "$(grep '^BLK q=0' "$MOCK_LOG" | sed 's/.*sector=\([0-9]*\).*/\1/' | awk '$1 < 2048 || $1 > 2160')" ]
}

@test "bench --queues 2: a thread per ring, each ring's count equals its GET_VRING_BASE" {
	mock_blk
	run --separate-stderr vhu -j bench --rw randread --queues 2 --qd 4 --runtime 1
	assert_success
	assert_figures read
	assert_json '.jobs[0].job_options.queues == 2 and (.driver.queues | length) == 2'
	assert_json '[.driver.queues[] | .stop_base == .requests % 65536 and .requests > 0] | all'
	grep -q '^BLK q=0 ' "$MOCK_LOG"
	grep -q '^BLK q=1 ' "$MOCK_LOG"
	[ "$(mock_count GET_VRING_BASE)" -eq 2 ]
}

@test "bench: more queues than CPUs is a warning, not an error" {
	command -v taskset >/dev/null || skip "taskset not installed"
	mock_blk
	run --separate-stderr taskset -c 0 "$VHUCTL" -s "$SOCK" -t 30 -j bench --queues 2 --runtime 1
	assert_success
	assert_json '.warnings | length == 1 and (.[0] | test("--queues 2 is above the 1 CPU"))'
	[[ $stderr == *"warning: --queues 2 is above the 1 CPU"* ]]
}

@test "bench: text output for people, and the progress line with --progress" {
	mock_blk
	run --separate-stderr vhu bench --rw randread --qd 4 --runtime 2 --progress
	assert_success
	assert_line --regexp '^  Workload: +randread, 4096-byte blocks, 4 in flight on 1 queue, event notification$'
	assert_line --regexp '^    IOPS: +[0-9]+\.[0-9]$'
	assert_line --regexp '^    Latency \(us\): +min [0-9.]+, mean [0-9.]+, p50 [0-9.]+, p90 [0-9.]+, p99 [0-9.]+, p99.9 [0-9.]+, max [0-9.]+$'
	assert_line --regexp '^  Errors: +0$'
	[[ $stderr =~ bench:\ [0-9]+s\ randread:\ [0-9]+\ IOPS,\ [0-9.]+\ MiB/s,\ p99\ [0-9.]+\ us ]] || fail "stderr: $stderr"
	# without --progress and without a terminal: nothing on stderr
	run --separate-stderr vhu bench --runtime 1
	assert_success
	[ -z "$stderr" ]
}

@test "bench --verify: the span is filled with headed blocks, every read checks out" {
	mock_blk
	run --separate-stderr vhu -j bench --rw randrw --verify --size 1M --qd 4 --runtime 1
	assert_success
	assert_figures read
	assert_json '.jobs[0].job_options.verify and .jobs[0].verify.filled_blocks == 256'
	# the measured reads and the check of the span after the writes
	assert_json '.jobs[0].verify.checked_blocks >= .jobs[0].read.total_ios + 256'
	# block 1 (offset 4096): the magic, then its offset, then seed 0 and the block size
	[ "$(dd if="$DISK" bs=1 skip=4096 count=8 status=none)" = vhuBENCH ]
	[ "$(od -An -tu8 -j 4104 -N 8 "$DISK" | tr -d ' ')" = 4096 ]
	[ "$(od -An -tu4 -j 4120 -N 4 "$DISK" | tr -d ' ')" = 4096 ]
	# beyond the span the disk is untouched
	[ "$(dd if="$DISK" bs=1 skip=1048576 count=8 status=none)" != vhuBENCH ]
	# a read-only workload checks what it reads, against the pattern of the same seed
	run --separate-stderr vhu -j bench --rw randread --verify --size 1M --seed 7 --runtime 1
	assert_success
	assert_json '.jobs[0].verify.checked_blocks >= .jobs[0].read.total_ios and .jobs[0].errors == 0'
}

@test "bench --verify: a block the device corrupts on read exits 1 naming its offset" {
	mock_blk --corrupt-read 2050
	# write: the check of the span after the run reads every block once
	run --separate-stderr vhu -j bench --rw write --verify --size 2M --qd 4 --runtime 1
	assert_failure 1
	assert_one_line_error "verify: block at offset 1048576 (4096 bytes, queue 0): byte 1124 is"
	assert_json '.error | test("verify: block at offset 1048576 ")'
	assert_json '.vhuctl.exit_status == 1 and .jobs[0].errors == 1 and .jobs[0].verify.filled_blocks == 512'
	# the figures of the run are there, and the device was stopped in order
	assert_json '.jobs[0].write.total_ios > 0'
	grep -q '^CORRUPT q=0 sector=2050' "$MOCK_LOG"
	[ "$(mock_count GET_VRING_BASE)" -eq 1 ]
	# read: a span of that one block, so the first read finds it
	run --separate-stderr vhu bench --rw randread --verify --bs 8k --offset 1M --size 8k --runtime 1
	assert_failure 1
	assert_one_line_error "verify: block at offset 1048576 (8192 bytes, queue 0): byte 1124 is"
	# the text report still comes, with the error counted
	assert_line --regexp '^  Errors: +1$'
}

# Start a long bench in the background (stdout $OUT, stderr $ERR); wait
# for its first progress line that counts completions.
BG_SEQ=0
bench_bg() {
	# Fresh files each time: a line left from an earlier run must not
	# count as this one's.
	BG_SEQ=$((BG_SEQ + 1))
	OUT=$BATS_TEST_TMPDIR/out$BG_SEQ.json
	ERR=$BATS_TEST_TMPDIR/err$BG_SEQ.txt
	: >"$ERR"
	"$VHUCTL" -s "$SOCK" -t 30 -j bench --rw randread --qd 4 --runtime 600 --progress "$@" \
		>"$OUT" 2>"$ERR" 3>&- &
	BENCH_PID=$!
	local i
	for ((i = 0; i < 3000; i++)); do
		# a line with completions in it: the figures cannot be empty
		grep -qE '^bench: [0-9]+s randread: [1-9][0-9]* IOPS' "$ERR" && return 0
		kill -0 "$BENCH_PID" 2>/dev/null || fail "bench ended early: $(cat "$ERR")"
		sleep 0.02
	done
	fail "no progress line within 60 s: $(cat "$ERR")"
}

@test "bench: SIGINT and SIGTERM end the run early with the figures so far, exit 0, orderly stop" {
	local sig
	for sig in INT TERM; do
		mock_stop
		mock_blk
		bench_bg
		kill -$sig "$BENCH_PID"
		wait "$BENCH_PID" || fail "exit status $? after SIG$sig: $(cat "$ERR")"
		output=$(cat "$OUT")
		assert_json ".vhuctl.exit_status == 0 and .jobs[0].ended_by == \"SIG$sig\""
		assert_json '.jobs[0].read.total_ios > 0 and .jobs[0].job_runtime > 0'
		assert_json '.driver.queues[0] | .stop_base == .requests % 65536 and .requests == .completed'
		[ "$(mock_count GET_VRING_BASE)" -eq 1 ]
		! grep -q 'vhuctl:' "$ERR" || fail "stderr: $(cat "$ERR")"
	done
}

@test "bench: SIGHUP also ends it with the figures, but keeps its exit status 129" {
	mock_blk
	bench_bg
	kill -HUP "$BENCH_PID"
	local st=0
	wait "$BENCH_PID" || st=$?
	[ "$st" -eq 129 ] || fail "exit status $st: $(cat "$ERR")"
	output=$(cat "$OUT")
	assert_json '.vhuctl.exit_status_name == "interrupted" and .jobs[0].ended_by == "SIGHUP"'
	assert_json '.jobs[0].read.total_ios > 0 and .error == "bench: interrupted by SIGHUP"'
	[ "$(mock_count GET_VRING_BASE)" -eq 1 ]
}

@test "bench: a second signal while requests drain gives up on them (exit 130), the report still comes" {
	# requests from the 30th on are never completed: the drain hangs
	mock_blk --ring-fault never-complete:30
	bench_bg
	kill -INT "$BENCH_PID"
	local i st=0
	for ((i = 0; i < 3000; i++)); do
		grep -q '^bench: SIGINT: stopping once the requests in flight complete' "$ERR" && break
		sleep 0.02
	done
	grep -q '^bench: SIGINT: stopping' "$ERR" || fail "the first signal was not seen: $(cat "$ERR")"
	kill -INT "$BENCH_PID"
	wait "$BENCH_PID" || st=$?
	[ "$st" -eq 130 ] || fail "exit status $st: $(cat "$ERR")"
	grep -q '^vhuctl: bench: interrupted by SIGINT again while the requests in flight completed$' "$ERR" ||
		fail "$(cat "$ERR")"
	output=$(cat "$OUT")
	assert_json '.vhuctl.exit_status == 130 and .jobs[0].ended_by == "SIGINT" and .jobs[0].read.total_ios > 0'
	# no orderly stop for requests given up on
	[ "$(mock_count GET_VRING_BASE)" -eq 0 ]
}

@test "bench: a back-end that dies mid-run ends it with exit 74, polled or not" {
	local notify
	for notify in event poll; do
		mock_blk
		bench_bg --notify $notify
		kill -KILL "$MOCK_PID"
		wait "$MOCK_PID" 2>/dev/null || true
		MOCK_PID=
		local st=0
		wait "$BENCH_PID" || st=$?
		[ "$st" -eq 74 ] || fail "exit status $st ($notify): $(cat "$ERR")"
		grep -q 'vhuctl: bench: the back-end closed the connection' "$ERR" || fail "$(cat "$ERR")"
		output=$(cat "$OUT")
		assert_json '.vhuctl.exit_status == 74 and .jobs[0].ended_by == "error"'
	done
}

@test "bench: ring faults and a device that never completes end the run with exit 2 and 75" {
	mock_blk --ring-fault bad-len:2
	run --separate-stderr vhu -j bench --qd 4 --runtime 1
	assert_failure 2
	assert_one_line_error "queue 0, used index 2: used length"
	assert_json '.jobs[0].ended_by == "error"'
	mock_stop
	mock_blk --ring-fault never-complete:2
	run --separate-stderr vhu -t 1 -j bench --qd 4 --runtime 3
	assert_failure 75
	assert_one_line_error "bench: queue 0: no completion within 1 s"
	# no orderly stop for a device that hangs
	[ "$(mock_count GET_VRING_BASE)" -eq 0 ]
}

@test "bench: bad options are one-line usage errors (64) before anything is sent" {
	mock_blk
	local bad
	for bad in "--bs 1000" "--bs 0" "--bs 32M" "--qd 0" "--queues 0" "--runtime 0" "--rw trim" \
		"--rwmix-read 50" "--rw randrw --rwmix-read 101" "--offset 100" "--size 6k" "--ring ring" extra; do
		# shellcheck disable=SC2086
		run --separate-stderr vhu bench $bad
		assert_failure 64
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$bad: $stderr"
	done
	[ ! -s "$MOCK_LOG" ]
	run --separate-stderr vhu bench --bs 1000
	assert_one_line_error "--bs 1000 is not a multiple of 512"
	run --separate-stderr vhu bench --qd 0
	assert_one_line_error "--qd 0"
	run --separate-stderr vhu -T fs bench
	assert_failure 64
	assert_one_line_error "bench: drives virtio-blk (-T blk) and virtio-net (-T net) devices, not -T fs"
	# against the device: nothing beyond the probe is sent
	run --separate-stderr vhu bench --offset 3M --size 2M
	assert_failure 64
	assert_one_line_error "bench: the span, bytes 3145728..5242879, is beyond the capacity of 4194304 bytes"
	run --separate-stderr vhu bench --queues 3
	assert_failure 64
	assert_one_line_error "--queues 3: the device has 2 queues"
	run --separate-stderr vhu bench --qd 64 --queue-size 32
	assert_failure 64
	assert_one_line_error "--qd 64 needs 64 ring descriptors"
	[ "$(mock_count SET_OWNER)" -eq 0 ]
	mock_stop
	mock_blk --blk-ro
	run --separate-stderr vhu bench --rw randwrite
	assert_failure 64
	assert_one_line_error "read-only"
}

@test "bench leaves no fd open and no memory error (valgrind)" {
	require_valgrind
	mock_blk
	run vhu_valgrind -t 30 -j bench --rw randrw --queues 2 --qd 2 --runtime 1 --verify --size 64k
	assert_success
	assert_no_fd_leak
}

@test "bench: the queue threads make no system call but the kick (and the call eventfd wait in event mode)" {
	command -v strace >/dev/null || skip "strace not installed"
	# LeakSanitizer cannot run under ptrace.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	ST=$BATS_TEST_TMPDIR/strace.out
	local notify c kicks waits other
	mock_blk
	for notify in event poll; do
		run --separate-stderr strace -f -qq -o "$ST" "$VHUCTL" -s "$SOCK" -t 30 -j bench --qd 4 --queues 2 \
			--runtime 1 --notify $notify
		assert_success
		c=$(worker_calls)
		kicks=$(jq '[.driver.queues[].kicks] | add' <<<"$output")
		waits=$(jq '[.driver.queues[].call_waits] | add' <<<"$output")
		[ "$kicks" -gt 0 ] || fail "no kicks: $output"
		# one write per kick, and one more per thread: "done" to the supervisor
		[ "$(ncalls "$c" write)" -eq $((kicks + 2)) ] || fail "$notify: $kicks kicks: $c"
		[ "$(ncalls "$c" poll)" -eq "$waits" ] || fail "$notify: $waits call waits: $c"
		[ "$(ncalls "$c" read)" -le "$waits" ] || fail "$notify: $c"
		[ "$notify" = event ] || [ "$waits" -eq 0 ] || fail "poll mode waited: $c"
		# the rest is the threads' start and end, a few calls each (ten with
		# the sanitizers' runtime), however many thousand requests ran
		# (sched_yield: a polling thread leaving the CPU)
		other=$(awk '$2 !~ /^(write|poll|read|sched_yield)$/ && $1 > 20' <<<"$c")
		[ -z "$other" ] || fail "$notify: calls that grow with the run: $other"
	done
}
