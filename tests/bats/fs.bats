#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl fs against the mock's virtio-fs device side (tests/mock/mock-dev.c,
# --fs): a fixed tree (/hello, /sub) served over FUSE on hiprio and a
# request queue, on split and packed rings, and the lies a real back-end
# never tells: FUSE reply headers with another request's unique, a length
# beyond what was written, a success too short for its opcode, a positive
# error; ring faults under FUSE traffic.  The real thing is in
# e2e_virtiofsd_fs.bats.

load helpers

vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

HELLO="hello from the mock's virtio-fs device"
# The mock's fs features (INDIRECT_DESC, EVENT_IDX, bit 30, VERSION_1),
# and the same with RING_PACKED.
PACKED_FEATURES=0x570000000

@test "fs ls, cat, stat on split and packed rings; INIT, LOOKUP on queue 1, FORGET on hiprio" {
	local ring
	for ring in split packed; do
		mock_stop
		mock_start --fs --features $PACKED_FEATURES
		run --separate-stderr vhu fs ls / --ring $ring
		assert_success
		assert_output $'hello\nsub'
		run --separate-stderr vhu fs cat hello --ring $ring
		assert_success
		assert_output "$HELLO"
		run --separate-stderr vhu -j fs stat /sub/ --ring $ring
		assert_success
		assert_json '.fs.attributes.type == "directory" and .fs.attributes.permissions == "0755"'
		assert_json '.fs.tag == "vhu-mock-fs" and .fs.fuse_version == "7.38" and .driver.ring == "'$ring'"'
	done
	grep -q '^FUSE q=1 op=INIT node=0 ' "$MOCK_LOG"
	grep -q '^FUSE q=1 op=LOOKUP node=1 ' "$MOCK_LOG"
	grep -q '^FUSE q=0 op=FORGET node=2 ' "$MOCK_LOG"
	grep -q '^FUSE q=1 op=RELEASEDIR ' "$MOCK_LOG"
	# nothing but FORGET ever reaches hiprio
	! grep '^FUSE q=0 ' "$MOCK_LOG" | grep -v ' op=FORGET ' || fail "hiprio carried more: $(mock_log)"
}

@test "fs cat -o FILE: the file, atomically; JSON: bytes, SHA-256, requests, both queues' counters" {
	mock_start --fs
	run --separate-stderr vhu -j fs cat hello -o "$BATS_TEST_TMPDIR/out.txt"
	assert_success
	[ "$(cat "$BATS_TEST_TMPDIR/out.txt")" = "$HELLO" ]
	assert_json ".fs.bytes == ${#HELLO} + 1 and .fs.sha256 == \"$(sha256sum <"$BATS_TEST_TMPDIR/out.txt" | cut -d' ' -f1)\""
	# INIT, LOOKUP, GETATTR, OPEN, READ, the empty READ, RELEASE
	assert_json '.fs.requests == 7 and .fs.forgets == 1 and .fs.max_read == 16384'
	assert_json '.driver.queues[0].queue == 0 and .driver.queues[0].stop_base == 1'
	assert_json '.driver.queues[1].queue == 1 and .driver.queues[1].stop_base == 7'
	# text: the summary
	run --separate-stderr vhu fs cat hello -o "$BATS_TEST_TMPDIR/out.txt"
	assert_success
	assert_line --regexp '^  Bytes: +39$'
}

@test "fs: FUSE errors exit 1 naming the request, the path and the errno" {
	mock_start --fs
	run --separate-stderr vhu fs cat nope
	assert_failure 1
	assert_one_line_error "fs cat: LOOKUP nope: No such file or directory (ENOENT)"
	run --separate-stderr vhu fs stat hello/x
	assert_failure 1
	assert_one_line_error "fs stat: LOOKUP hello/x: Not a directory (ENOTDIR)"
	run --separate-stderr vhu fs ls hello
	assert_failure 1
	assert_one_line_error "fs ls: OPENDIR hello: Not a directory (ENOTDIR)"
	run --separate-stderr vhu -j fs ls hello
	assert_failure 1
	assert_json '.vhuctl.exit_status == 1 and .fs.count == 0 and .fs.entries == [] and .fs.forgets == 1'
}

# Each lie in a FUSE reply: exit 2, one line naming queue 1, the request
# and the lie; an existing -o FILE untouched.
fs_fault() {
	local fault=$1 want=$2
	mock_stop
	mock_start --fs --fs-fault "$fault"
	state_file_setup
	run --separate-stderr vhu fs cat hello -o "$F"
	assert_failure 2
	assert_one_line_error "$want"
	[[ $stderr == *"queue 1: "* ]] || fail "no queue named: $stderr"
	assert_file_untouched
	grep -q "^FUSE_FAULT ${fault%%:*} q=1" "$MOCK_LOG"
}

@test "fs: a FUSE reply with another unique, a length beyond what was written, too short, a positive error (exit 2)" {
	fs_fault bad-unique:LOOKUP "LOOKUP hello: reply for unique 5, but the request's unique is 4"
	fs_fault bad-unique:INIT "INIT 7.38: reply for unique 3, but the request's unique is 2"
	fs_fault oversize-len:READ "READ hello at offset 0: reply header says 4151 bytes (out.len) but the device wrote 55"
	fs_fault short-reply:GETATTR "GETATTR hello: reply of 0 bytes after the header, less than the 104 its opcode needs"
	fs_fault bad-error:OPEN "OPEN hello: reply error 5 is not 0 or a negative errno"
	# after a lie nothing more is sent: no RELEASE, no FORGET
	! grep -q 'op=RELEASE \|op=FORGET ' "$MOCK_LOG" || fail "sent after the lie: $(mock_log)"
}

@test "fs: ring faults under FUSE traffic (exit 2), a device that never answers (exit 75)" {
	mock_start --fs --ring-fault bad-len
	run --separate-stderr vhu fs stat /
	assert_failure 2
	assert_one_line_error "queue 1, used index 0: used length 81 exceeds the 80 device-writable bytes"
	mock_stop
	mock_start --fs --ring-fault bad-id:1 --features 0x570000000
	run --separate-stderr vhu fs stat hello --ring packed
	assert_failure 2
	assert_one_line_error "queue 1, descriptor 1: used id 133 is not in flight"
	mock_stop
	mock_start --fs --ring-fault never-complete:2
	run --separate-stderr vhu -t 1 fs cat hello
	assert_failure 75
	assert_one_line_error "queue 1: no completion within 1 s"
	grep -q '^HELD q=1' "$MOCK_LOG"
}

@test "fs: usage errors send nothing; --queue beyond the config's request queues claims nothing" {
	mock_start --fs
	run --separate-stderr vhu fs
	assert_failure 64
	run --separate-stderr vhu fs rm x
	assert_failure 64
	assert_one_line_error "unknown fs operation 'rm'"
	run --separate-stderr vhu fs ls
	assert_failure 64
	assert_one_line_error "fs ls takes PATH"
	run --separate-stderr vhu fs ls / -o "$BATS_TEST_TMPDIR/x"
	assert_failure 64
	assert_one_line_error "-o is for fs cat"
	run --separate-stderr vhu fs ls / --queue 0
	assert_failure 64
	assert_one_line_error "hiprio"
	run --separate-stderr vhu fs stat "a/$(printf 'x%.0s' {1..1025})"
	assert_failure 64
	assert_one_line_error "component of 1025 bytes"
	run --separate-stderr vhu fs cat hello -o "$BATS_TEST_TMPDIR/no/such/dir/f"
	assert_failure 64
	assert_one_line_error "no/such/dir/f"
	[ ! -s "$MOCK_LOG" ]
	# 2 queues: hiprio and one request queue
	run --separate-stderr vhu fs ls / --queue 2
	assert_failure 64
	assert_one_line_error "--queue 2: the device has 1 request queue (1..1)"
	! grep -q '^SET_OWNER' "$MOCK_LOG" || fail "the device was claimed: $(mock_log)"
	# with more queues, another request queue works
	mock_stop
	mock_start --fs --queues 3
	run --separate-stderr vhu fs cat hello --queue 2
	assert_success
	grep -q '^FUSE q=2 op=READ ' "$MOCK_LOG"
}

@test "fs: a device speaking FUSE below 7.31 is refused (exit 3); without CONFIG there is no tag" {
	mock_start --fs --fs-fault old-minor:INIT
	run --separate-stderr vhu fs ls /
	assert_failure 3
	assert_one_line_error "fs ls: INIT: the device speaks FUSE 7.30; vhuctl needs 7.31 or later"
	mock_stop
	mock_start --fs --protocol-features 0x3 # MQ, LOG_SHMFD: no CONFIG
	run --separate-stderr vhu -j fs ls /
	assert_success
	assert_json '.fs | has("tag") | not'
	! grep -q '^GET_CONFIG' "$MOCK_LOG" || fail "GET_CONFIG without CONFIG: $(mock_log)"
}

@test "fs cat leaves no fd open and no memory error (valgrind)" {
	require_valgrind
	mock_start --fs
	run vhu_valgrind -t 30 -j fs cat hello -o "$BATS_TEST_TMPDIR/out.txt"
	assert_success
	assert_no_fd_leak
	run vhu_valgrind -t 30 fs ls /
	assert_success
	assert_no_fd_leak
}
