#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl blk against the mock's device side (tests/mock/mock-dev.c): the
# mock maps the memory vhuctl hands over and serves virtio-blk requests
# from a file on split and packed rings, so every ring layout and feature
# combination is checked byte for byte, and ring faults a real back-end
# never makes are checked for the documented exit status.

load helpers

# A long --timeout everywhere the timeout is not the outcome under test: a
# loaded machine must not turn a pass into exit 75 (a later -t wins).
vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

# The mock's blk features (SEG_MAX, BLK_SIZE, FLUSH, MQ, DISCARD,
# WRITE_ZEROES, INDIRECT_DESC, EVENT_IDX, bit 30, VERSION_1), and the same
# with RING_PACKED.
SPLIT_FEATURES=0x170007244
PACKED_FEATURES=0x570007244

setup() {
	DISK=$BATS_TEST_TMPDIR/disk.img
	head -c 4M /dev/urandom >"$DISK"
}

# The disk's bytes [OFFSET, OFFSET + LENGTH) on stdout.
disk_bytes() {
	dd if="$DISK" bs=512 skip=$(($1 / 512)) count=$(($2 / 512)) status=none
}

mock_blk() {
	mock_start --blk "$DISK" "$@"
}

# Files in the directory of $1 other than $1 itself (a temporary left behind).
leftovers() {
	find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").*"
}

@test "blk get-id prints the serial; flush is one FLUSH request" {
	mock_blk --serial mock-serial-42
	run --separate-stderr vhu blk get-id
	assert_success
	assert_line --regexp '^  Serial: +mock-serial-42$'
	run --separate-stderr vhu -j blk get-id
	assert_success
	assert_json '.blk.serial == "mock-serial-42" and .blk.requests == 1'
	run --separate-stderr vhu -j blk flush
	assert_success
	assert_json '.blk.operation == "flush" and .blk.requests == 1'
	grep -q '^BLK q=0 type=4 ' "$MOCK_LOG"
}

@test "blk read equals the disk: first sector, a 1 MiB span, the last sector; every ring layout and feature" {
	local ring ei ind opts
	for ring in split packed; do
		mock_stop
		if [ $ring = packed ]; then mock_blk --features $PACKED_FEATURES; else mock_blk; fi
		for ei in on off; do
			for ind in on off; do
				opts="--ring $ring --event-idx $ei --indirect $ind"
				run vhu blk read 0 512 $opts
				assert_success
				vhu blk read 0 512 $opts | cmp - <(disk_bytes 0 512) || fail "first sector differs ($opts)"
				vhu blk read 1536 1M $opts | cmp - <(disk_bytes 1536 1048576) || fail "1 MiB span differs ($opts)"
				vhu blk read $((4 * 1048576 - 512)) 512 $opts | cmp - <(disk_bytes $((4 * 1048576 - 512)) 512) ||
					fail "last sector differs ($opts)"
			done
		done
	done
	# indirect on: one ring descriptor per request; off: header + 126 pages + status
	grep -q 'segs=128 indirect=1' "$MOCK_LOG"
	grep -q 'segs=128 indirect=0' "$MOCK_LOG"
}

@test "blk read -o FILE: the file, atomically; JSON has bytes, SHA-256, requests and the driver's counters" {
	mock_blk
	run --separate-stderr vhu -j blk read 1M 2M -o "$BATS_TEST_TMPDIR/out.bin"
	assert_success
	cmp "$BATS_TEST_TMPDIR/out.bin" <(disk_bytes 1048576 2097152)
	assert_json ".blk.bytes == 2097152 and .blk.offset == 1048576"
	assert_json ".blk.sha256 == \"$(disk_bytes 1048576 2097152 | sha256sum | cut -d' ' -f1)\""
	# 512 pages of 4 KiB, at most 126 per request
	assert_json '.blk.requests == 5 and .driver.queues[0].requests == 5 and .driver.queues[0].completed == 5'
	assert_json '.driver.ring == "split" and .driver.event_idx and .driver.indirect and .driver.notify == "event"'
	assert_json '.driver.queues[0].stop_base == 5'
	[ -z "$(leftovers "$BATS_TEST_TMPDIR/out.bin")" ]
	grep -q '^GET_VRING_BASE ' "$MOCK_LOG"
	# text: the summary, the data in the file
	run --separate-stderr vhu blk read 0 4K -o "$BATS_TEST_TMPDIR/out.bin"
	assert_success
	assert_line --regexp '^  Bytes: +4096$'
	cmp "$BATS_TEST_TMPDIR/out.bin" <(disk_bytes 0 4096)
}

@test "blk read: poll and event notification both complete; JSON without -o carries only the digest" {
	mock_blk --features $PACKED_FEATURES
	run --separate-stderr vhu -j blk read 0 1M --notify poll --ring packed
	assert_success
	assert_json '.driver.notify == "poll" and .driver.queues[0].call_waits == 0'
	assert_json ".blk.sha256 == \"$(disk_bytes 0 1048576 | sha256sum | cut -d' ' -f1)\""
	run --separate-stderr vhu -j blk read 0 1M --notify event --event-idx off --indirect off
	assert_success
	assert_json ".blk.sha256 == \"$(disk_bytes 0 1048576 | sha256sum | cut -d' ' -f1)\""
	# one request at a time without indirect tables: one kick each
	assert_json '.driver.queues[0].kicks == .blk.requests'
}

@test "blk write -i FILE and --pattern land on the disk (split and packed)" {
	mock_blk --features $PACKED_FEATURES
	head -c 1M /dev/urandom >"$BATS_TEST_TMPDIR/in.bin"
	run --separate-stderr vhu -j blk write 512K -i "$BATS_TEST_TMPDIR/in.bin"
	assert_success
	assert_json ".blk.bytes == 1048576 and .blk.sha256 == \"$(sha256sum <"$BATS_TEST_TMPDIR/in.bin" | cut -d' ' -f1)\""
	cmp <(disk_bytes 524288 1048576) "$BATS_TEST_TMPDIR/in.bin"
	run --separate-stderr vhu blk write 3M --pattern 0xa5 --length 64K --ring packed --indirect off
	assert_success
	cmp <(disk_bytes 3145728 65536) <(head -c 65536 /dev/zero | tr '\0' '\245')
}

@test "blk discard and write-zeroes read back as zeroes, split by the device's sector limits" {
	mock_blk
	run --separate-stderr vhu -j blk discard 1M 128K
	assert_success
	assert_json '.blk.requests == 4 and .blk.bytes == 131072'
	[ "$(grep -c '^BLK q=0 type=11 ' "$MOCK_LOG")" -eq 4 ]
	run --separate-stderr vhu blk write-zeroes 2M 96K --unmap
	assert_success
	[ "$(grep -c '^BLK q=0 type=13 ' "$MOCK_LOG")" -eq 3 ]
	vhu blk read 1M 128K | cmp - <(head -c 131072 /dev/zero)
	vhu blk read 2M 96K | cmp - <(head -c 98304 /dev/zero)
	# the neighbours are untouched
	vhu blk read $((2 * 1048576 + 98304)) 512 | cmp - <(disk_bytes $((2 * 1048576 + 98304)) 512)
}

@test "blk read is split by seg_max: no request carries more than seg_max data descriptors" {
	mock_blk --seg-max 8
	run --separate-stderr vhu -j blk read 0 1M --indirect off
	assert_success
	assert_json '.blk.requests == 32'
	# header + 8 pages + status
	[ "$(sed -n 's/^BLK .* segs=\([0-9]*\) .*/\1/p' "$MOCK_LOG" | sort -n | uniq)" = 10 ]
}

@test "blk on ring 1 with --queue 1" {
	mock_blk
	vhu blk read 4K 4K --queue 1 | cmp - <(disk_bytes 4096 4096)
	grep -q '^BLK q=1 type=0 sector=8 ' "$MOCK_LOG"
	run --separate-stderr vhu blk read 0 4K --queue 2
	assert_failure 64
	assert_one_line_error "--queue 2"
}

@test "blk write on a read-only device: exit 1 naming OUT, the sector and IOERR" {
	mock_blk --blk-ro
	cp "$DISK" "$BATS_TEST_TMPDIR/before.img"
	run --separate-stderr vhu -j blk write 8K --pattern 1 --length 4K
	assert_failure 1
	assert_json '.error | test("OUT request at sector 16 \\(4096 bytes\\) failed with status IOERR")'
	assert_json '.error | test("VIRTIO_BLK_F_RO")'
	assert_one_line_error "IOERR"
	cmp "$DISK" "$BATS_TEST_TMPDIR/before.img"
}

@test "blk local refusals: unaligned, beyond the capacity, request not offered, packed not offered" {
	mock_blk --features 0x170007044 # no FLUSH
	run --separate-stderr vhu blk read 100 512
	assert_failure 64
	assert_one_line_error "OFFSET 100 is not a multiple of 512"
	[ ! -s "$MOCK_LOG" ]
	run --separate-stderr vhu blk read 4M 512
	assert_failure 64
	assert_one_line_error "beyond the capacity of 4194304 bytes"
	run --separate-stderr vhu blk flush
	assert_failure 3
	assert_one_line_error "VIRTIO_BLK_F_FLUSH"
	run --separate-stderr vhu blk read 0 512 --ring packed
	assert_failure 3
	assert_one_line_error "VIRTIO_F_RING_PACKED"
	# refused after the probe: the device was never claimed
	! grep -q '^SET_OWNER' "$MOCK_LOG" || fail "the device was claimed: $(mock_log)"
	run --separate-stderr vhu blk write 0 -i /dev/null
	assert_failure 64
	run --separate-stderr vhu blk read 0 512 -i /dev/null
	assert_failure 64
	run --separate-stderr vhu blk read 0 512 -o "$BATS_TEST_TMPDIR/no/such/dir/out"
	assert_failure 64
	assert_one_line_error "no/such/dir/out"
}

@test "blk read -o FILE is an atomic output file: a FIFO or a directory is refused untouched, a link's file replaced" {
	mock_blk
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	mock_log_clear
	run --separate-stderr vhu blk read 0 4K -o "$BATS_TEST_TMPDIR/fifo"
	assert_failure 64
	assert_one_line_error "is a FIFO, not a regular file; left untouched"
	[ -p "$BATS_TEST_TMPDIR/fifo" ]
	mkdir "$BATS_TEST_TMPDIR/dir"
	run --separate-stderr vhu blk read 0 4K -o "$BATS_TEST_TMPDIR/dir"
	assert_failure 64
	assert_one_line_error "is a directory"
	# refused before anything was sent
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
	# a symbolic link stays one; the file behind it gets the data
	printf 'old' >"$BATS_TEST_TMPDIR/target.bin"
	ln -s target.bin "$BATS_TEST_TMPDIR/link.bin"
	run --separate-stderr vhu blk read 0 4K -o "$BATS_TEST_TMPDIR/link.bin"
	assert_success
	[ -L "$BATS_TEST_TMPDIR/link.bin" ]
	cmp "$BATS_TEST_TMPDIR/target.bin" <(disk_bytes 0 4096)
}

# Each ring fault: exit 2, one line naming the queue and the ring index, an
# existing -o FILE untouched and no temporary left.
ring_fault() {
	local fault=$1 want=$2
	shift 2
	mock_stop
	mock_blk --ring-fault "$fault" "$@"
	printf 'precious' >"$BATS_TEST_TMPDIR/out.bin"
	run --separate-stderr vhu blk read 0 1M -o "$BATS_TEST_TMPDIR/out.bin" ${RING_OPTS:-}
	assert_failure 2
	assert_one_line_error "$want"
	[[ $stderr == *"queue 0"* ]] || fail "no queue named: $stderr"
	[ "$(cat "$BATS_TEST_TMPDIR/out.bin")" = precious ]
	[ -z "$(leftovers "$BATS_TEST_TMPDIR/out.bin")" ]
}

@test "ring faults on a split ring: used id never posted, used length too big, used index jump (exit 2)" {
	ring_fault bad-id "used index 0: used id 133 is not in flight"
	grep -q '^RING_FAULT bad-id q=0' "$MOCK_LOG"
	RING_OPTS="--indirect off" ring_fault bad-id:1 "used index 1: used id 1 is not in flight"
	ring_fault bad-len "used index 0: used length 516098 exceeds the 516097 device-writable bytes"
	RING_OPTS="--indirect off" ring_fault idx-jump "used index 0: the device's used index jumped to 130"
}

@test "ring faults on a packed ring: wrong wrap bit, used id, used length (exit 2)" {
	RING_OPTS="--ring packed" ring_fault wrong-wrap "descriptor 0: wrong wrap bits" --features $PACKED_FEATURES
	RING_OPTS="--ring packed --indirect off" ring_fault wrong-wrap:2 "descriptor 6: wrong wrap bits" \
		--features $PACKED_FEATURES --seg-max 1
	RING_OPTS="--ring packed" ring_fault bad-id "descriptor 0: used id 133 is not in flight" --features $PACKED_FEATURES
	RING_OPTS="--ring packed" ring_fault bad-len "descriptor 0: used length 516098 exceeds" --features $PACKED_FEATURES
}

@test "a device that never completes ends at --timeout (exit 75), -o FILE untouched" {
	local ring
	for ring in split packed; do
		mock_stop
		mock_blk --ring-fault never-complete:1 --features $PACKED_FEATURES
		printf 'precious' >"$BATS_TEST_TMPDIR/out.bin"
		run --separate-stderr vhu -t 1 blk read 0 2M -o "$BATS_TEST_TMPDIR/out.bin" --ring $ring
		assert_failure 75
		assert_one_line_error "queue 0: no completion within 1 s"
		[ "$(cat "$BATS_TEST_TMPDIR/out.bin")" = precious ]
		[ -z "$(leftovers "$BATS_TEST_TMPDIR/out.bin")" ]
		grep -q '^HELD q=0' "$MOCK_LOG"
	done
	# poll mode too
	run --separate-stderr vhu -t 1 blk read 0 2M --notify poll
	assert_failure 75
}

@test "descriptors carry guest-physical addresses: --gpa-base moves them, the device follows the table" {
	mock_blk
	run --separate-stderr vhu --trace blk read 0 64K --gpa-base 0x40000000 --memory 3M
	assert_success
	# the device resolves descriptors through the table's GPAs, never the user address
	[[ $stderr =~ SET_MEM_TABLE\ .*gpa=0x40000000\ size=0x400000\ uva=0x([0-9a-f]+) ]] || fail "$stderr"
	[ "${BASH_REMATCH[1]}" != 40000000 ]
	vhu blk read 0 64K --gpa-base 0x40000000 | cmp - <(disk_bytes 0 65536)
	# default: 4 GiB
	run --separate-stderr vhu --trace blk get-id
	[[ $stderr == *"gpa=0x100000000 size=0x4000000"* ]] || fail "$stderr"
}

@test "guest memory: fewer requests in flight when it is small; too small is a usage error naming --memory" {
	mock_blk
	# 2 MiB: the ring, its indirect tables and 3 request slots of 126 pages
	run --separate-stderr vhu -j blk read 0 2M --memory 1M
	assert_success
	assert_json '.driver.memory == 2097152 and .blk.requests == 5'
	vhu blk read 0 2M --memory 1M | cmp - <(disk_bytes 0 2097152)
	# 1024 indirect tables of 1024 entries do not fit
	run --separate-stderr vhu blk read 0 4K --memory 2M --queue-size 1024
	assert_failure 64
	assert_one_line_error "too small"
	[[ $stderr == *"--memory"* ]]
}

@test "--hugetlb without huge pages reserved: exit 74 saying so" {
	mock_blk
	[ "$(cat /proc/sys/vm/nr_hugepages)" = 0 ] || skip "huge pages are reserved on this machine"
	run --separate-stderr vhu blk read 0 4K --hugetlb
	assert_failure 74
	assert_one_line_error "huge pages"
}

@test "blk read leaves no fd open and no memory error (valgrind)" {
	require_valgrind
	mock_blk
	run vhu_valgrind -t 30 -j blk read 0 1M --ring split
	assert_success
	assert_no_fd_leak
}

@test "blk --require: checked on the driver's own negotiation, before any ring starts" {
	mock_blk
	run --separate-stderr vhu -j blk get-id --require feature=VIRTIO_BLK_F_FLUSH --require 'queues>=1' \
		--require 'config.capacity>=8192'
	assert_success
	assert_json '[.requirements[].met] == [true, true, true] and .requirements[2].actual == 8192'
	# the driver acks only MQ, REPLY_ACK, CONFIG and STATUS: no slot count
	run --separate-stderr vhu blk get-id --require 'config.capacity>8192' --require 'mem-slots>=1'
	assert_failure 4
	[ "${#stderr_lines[@]}" -eq 2 ] || fail "stderr: $stderr"
	[[ ${stderr_lines[0]} == "vhuctl: requirement not met: config.capacity>8192 (actual: 8192)" ]] ||
		fail "stderr: $stderr"
	[[ ${stderr_lines[1]} == *"mem-slots>=1 (actual: unknown: GET_MAX_MEM_SLOTS: not negotiated"* ]] ||
		fail "stderr: $stderr"
	[ "$(mock_count SET_VRING_KICK)" -eq 1 ] || fail "a ring was started for the failed run: $(mock_log)"
}
