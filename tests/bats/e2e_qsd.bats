#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# End-to-end against a real qemu-storage-daemon vhost-user-blk export
# (Debian 12: QEMU 7.2).  The daemon serves one client at a time, so the
# tests in this file run one after another.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0
load qsd

setup() {
	SOCK="$BATS_TEST_TMPDIR/blk.sock"
}

qsd_null() {
	qsd_start --blockdev driver=null-co,node-name=n0,size=1073741824 \
		--export type=vhost-user-blk,id=e0,node-name=n0,addr.type=unix,addr.path="$BATS_TEST_TMPDIR/blk.sock",writable=on,num-queues=2
}

qsd_raw64() {
	truncate -s 64M "$BATS_TEST_TMPDIR/disk.img"
	qsd_start --blockdev driver=file,filename="$BATS_TEST_TMPDIR/disk.img",node-name=f0 \
		--blockdev driver=raw,file=f0,node-name=r0 \
		--export type=vhost-user-blk,id=e0,node-name=r0,addr.type=unix,addr.path="$BATS_TEST_TMPDIR/blk.sock",writable=on,num-queues=4,logical-block-size=4096
}

teardown() {
	qsd_stop
}

# QEMU 7.2's export: VERSION_1, PROTOCOL_FEATURES, EVENT_IDX, INDIRECT_DESC,
# LOG_ALL, NOTIFY_ON_EMPTY and the blk bits; protocol features MQ,
# LOG_SHMFD, REPLY_ACK, BACKEND_REQ, PAGEFAULT, CONFIG, BACKEND_SEND_FD,
# HOST_NOTIFIER, CONFIGURE_MEM_SLOTS (also recorded in the hypervisor trace).
QSD_FEATURES=0x0000000175007e46
QSD_PROTOCOL=0x0000000000008f2b

@test "probe of a 1 GiB null-co export with 2 queues: exact masks, queues, slots (text)" {
	qsd_null
	run "$VHUCTL" -s "$SOCK" -t 5 probe
	assert_success
	assert_line --regexp "^Features: +$QSD_FEATURES$"
	assert_line --regexp "^Protocol features: +$QSD_PROTOCOL$"
	assert_line --regexp "^  VIRTIO_F_VERSION_1 +\(32\)$"
	assert_line --regexp "^  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS +\(15\)$"
	assert_line --regexp "^Queues: +2$"
	assert_line --regexp "^Memory slots: +[0-9]+$"
	assert_output --partial "status:"
	assert_output --partial "VHOST_USER_PROTOCOL_F_STATUS"
}

@test "probe JSON carries the same values as text" {
	qsd_null
	run "$VHUCTL" -s "$SOCK" -T blk probe -j
	assert_success
	echo "$output" | jq -e '.vhuctl.exit_status == 0'
	echo "$output" | jq -e ".features.mask == \"$QSD_FEATURES\""
	echo "$output" | jq -e ".protocol_features.mask == \"$QSD_PROTOCOL\""
	echo "$output" | jq -e '.features.names | index("VIRTIO_BLK_F_MQ") != null'
	echo "$output" | jq -e '.features.names | index("VHOST_USER_F_PROTOCOL_FEATURES") != null'
	echo "$output" | jq -e '.protocol_features.names | index("VHOST_USER_PROTOCOL_F_REPLY_ACK") != null'
	echo "$output" | jq -e '.queue_num == 2'
	echo "$output" | jq -e '.max_mem_slots >= 1'
	echo "$output" | jq -e '.config.fields.capacity == 2097152'
	echo "$output" | jq -e '.skipped.status | test("STATUS")'
	# exactly one document
	[ "$(echo "$output" | jq -s length)" -eq 1 ]
}

@test "get-features, get-protocol-features, get-queue-num, get-max-mem-slots one connection each" {
	qsd_null
	run "$VHUCTL" -s "$SOCK" get-features -j
	assert_success
	echo "$output" | jq -e ".features.mask == \"$QSD_FEATURES\""
	run "$VHUCTL" -s "$SOCK" get-protocol-features -j
	assert_success
	echo "$output" | jq -e ".protocol_features.mask == \"$QSD_PROTOCOL\""
	run "$VHUCTL" -s "$SOCK" get-queue-num
	assert_success
	assert_output --regexp "^Queues: +2$"
	run "$VHUCTL" -s "$SOCK" get-max-mem-slots -j
	assert_success
	echo "$output" | jq -e '.max_mem_slots >= 1'
}

@test "--trace shows the minimal negotiation of get-queue-num" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" --trace get-queue-num
	assert_success
	echo "$stderr" | grep -q 'F>B GET_FEATURES flags=0x1 size=0'
	echo "$stderr" | grep -q 'B>F GET_PROTOCOL_FEATURES (reply) flags=0x5 size=8'
	echo "$stderr" | grep -q 'F>B SET_PROTOCOL_FEATURES'
	echo "$stderr" | grep -q 'B>F GET_QUEUE_NUM (reply) flags=0x5 size=8 fds=0 u64=2'
	# SET_OWNER is not needed for this and is not sent
	[[ "$stderr" != *"SET_OWNER"* ]]
}

@test "set-owner is acknowledged (REPLY_ACK negotiated)" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" --trace set-owner -j
	assert_success
	echo "$output" | jq -e '.acked == true'
	echo "$stderr" | grep -q 'F>B SET_OWNER flags=0x9'
	echo "$stderr" | grep -q 'B>F SET_OWNER (reply) flags=0x5 size=8 fds=0 ack=0'
}

@test "get-status is refused locally: qemu-storage-daemon 7.2 does not offer STATUS" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" --trace get-status
	assert_failure 3
	echo "$stderr" | grep -q 'GET_STATUS: back-end does not offer VHOST_USER_PROTOCOL_F_STATUS'
	[[ "$stderr" != *"F>B GET_STATUS"* ]]
}

@test "get-config -T blk on a 64 MiB raw image, 4096-byte blocks, 4 queues (text)" {
	qsd_raw64
	run "$VHUCTL" -s "$SOCK" -T blk get-config
	assert_success
	assert_line --regexp "^    capacity: +131072 512-byte sectors$"
	assert_line --regexp "^    blk_size: +4096 bytes$"
	assert_line --regexp "^    num_queues: +4$"
}

@test "get-config -T blk on a 64 MiB raw image, 4096-byte blocks, 4 queues (JSON)" {
	qsd_raw64
	run "$VHUCTL" -s "$SOCK" -T blk get-config -j
	assert_success
	echo "$output" | jq -e '.config.fields.capacity == 131072'
	echo "$output" | jq -e '.config.fields.blk_size == 4096'
	echo "$output" | jq -e '.config.fields.num_queues == 4'
	echo "$output" | jq -e '.config.size == 60'
}

@test "get-config without --type dumps the raw bytes and hints at --type" {
	qsd_raw64
	run "$VHUCTL" -s "$SOCK" get-config --size 60
	assert_success
	# capacity 131072 = 0x20000 little-endian at offset 0
	assert_line --regexp "^    0000: 00 00 02 00 00 00 00 00 "
	assert_output --partial "--type"
}

@test "the daemon survives many connections in a row (no state leak)" {
	qsd_null
	for _ in $(seq 20); do
		run "$VHUCTL" -s "$SOCK" get-queue-num -j
		assert_success
	done
}

@test "batch bring-up on one connection: get-vring-base returns the base that was set" {
	qsd_null
	cat >"$BATS_TEST_TMPDIR/steps" <<'STEPS'
# a hypervisor's start sequence, by hand
get-features
set-features offered
set-owner
set-mem-table 64M
set-vring-num 0 128
set-vring-base 0 7
set-vring-addr 0 --auto
set-vring-kick 0
set-vring-call 0
set-vring-enable 0 on
get-vring-base 0
STEPS
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	echo "$output" | jq -e '.steps | length == 11'
	echo "$output" | jq -e '[.steps[].exit_status] | all(. == 0)'
	echo "$output" | jq -e '.steps[3].regions[0].memory_size == 67108864'
	echo "$output" | jq -e '.steps[10].base == 7'
	# `offered` leaves out the dirty log the export offers: vhuctl keeps none
	echo "$output" | jq -e '.steps[1].acked_features.names | index("VHOST_F_LOG_ALL") == null'
	echo "$output" | jq -e '.steps[1].warnings | any(test("leaves out VHOST_F_LOG_ALL"))'
}

@test "setup brings up every ring in one command" {
	qsd_null
	run "$VHUCTL" -s "$SOCK" setup -j
	assert_success
	echo "$output" | jq -e '.rings == 2'
	echo "$output" | jq -e '[.steps[] | select(.request == "SET_VRING_ENABLE") | .ring] == [0, 1]'
	echo "$output" | jq -e '.steps[0] == {"request": "SET_OWNER"}'
}

@test "a ring beyond the export's queue count is refused locally" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" --trace set-vring-num 2 128
	assert_failure 64
	echo "$stderr" | grep -q "SET_VRING_NUM: ring 2 is beyond the back-end's 2 queues"
	[[ "$stderr" != *"F>B SET_VRING_NUM"* ]]
}

@test "get-inflight-fd: QEMU 7.2 does not offer INFLIGHT_SHMFD (exit 3); forced, its buffer decodes" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" get-inflight-fd
	assert_failure 3
	echo "$stderr" | grep -q 'GET_INFLIGHT_FD: back-end does not offer VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD'
	run "$VHUCTL" -s "$SOCK" --force get-inflight-fd --queue-size 128 -j
	assert_success
	# 2 queues x round_up(16 + 16 * 128, 64) = 2 x 2112
	echo "$output" | jq -e '.inflight.mmap_size == 4224'
	echo "$output" | jq -e '.inflight.queues | length == 2'
	echo "$output" | jq -e '.inflight.queues[1].inflight == 0'
}

@test "set-log-base with LOG_SHMFD passes a log fd and gets its reply" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" --trace set-log-base 4K -j
	assert_success
	echo "$output" | jq -e '.fd == true and .size == 4096'
	echo "$stderr" | grep -q 'F>B SET_LOG_BASE flags=0x1 size=16 fds=1 mmap_size=4096'
	echo "$stderr" | grep -q 'B>F SET_LOG_BASE (reply)'
}

@test "rem-mem-reg: the region leaves the session, so no second REM_MEM_REG makes the daemon panic" {
	qsd_null
	printf '%s\n' 'set-features offered' set-owner 'set-mem-table 1M,1M' 'rem-mem-reg 0' 'rem-mem-reg 0' \
		'set-vring-num 0 128' 'set-vring-addr 0 --auto' get-features >"$BATS_TEST_TMPDIR/steps"
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j batch -k "$BATS_TEST_TMPDIR/steps"
	assert_failure 64
	echo "$output" | jq -e '[.steps[].exit_status] == [0, 0, 0, 0, 64, 0, 0, 0]'
	echo "$output" | jq -e '.steps[4].error | test("region 0 was removed earlier")'
	# The ring went into region 1, the one the daemon still maps.
	echo "$output" | jq -e '.steps[6].desc as $d | .steps[2].regions[1].userspace_addr as $u |
		($d | ltrimstr("0x") | length) > 0 and $d >= $u'
	! grep -q "Specified region not found" "$BATS_TEST_TMPDIR/qsd.log"
}

# The smoke script of the README (a CI check with --require, no jq).
readme_smoke() {
	awk '/^<!-- smoke-test -->$/ { on = 1; next } on && /^```sh$/ { inblk = 1; next }
		inblk && /^```$/ { exit } inblk { print }' "$VHU_SRC/README.md" >"$BATS_TEST_TMPDIR/smoke.sh"
	[ -s "$BATS_TEST_TMPDIR/smoke.sh" ] || fail "no smoke-test script in README.md"
}

@test "README smoke script: the 1 GiB 2-queue export meets its requirements (0)" {
	readme_smoke
	qsd_null
	PATH="$(dirname "$VHUCTL"):$PATH" run --separate-stderr sh "$BATS_TEST_TMPDIR/smoke.sh" "$SOCK"
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "README smoke script: a 1-queue export fails with 4, naming queues>=2 and the actual 1" {
	readme_smoke
	qsd_start --blockdev driver=null-co,node-name=n0,size=1073741824 \
		--export type=vhost-user-blk,id=e0,node-name=n0,addr.type=unix,addr.path="$BATS_TEST_TMPDIR/blk.sock",num-queues=1
	PATH="$(dirname "$VHUCTL"):$PATH" run --separate-stderr sh "$BATS_TEST_TMPDIR/smoke.sh" "$SOCK"
	assert_failure 4
	[ "$stderr" = "vhuctl: requirement not met: queues>=2 (actual: 1)" ] || fail "stderr: $stderr"
}

@test "probe -j without -T: FLUSH by bit number; requirements by name, config read as blk's 60 bytes" {
	qsd_null
	run --separate-stderr "$VHUCTL" -s "$SOCK" -j probe --require feature=VIRTIO_BLK_F_FLUSH \
		--require 'config.capacity>=2097152' --require 'config.capacity>2097152'
	assert_failure 4
	echo "$output" | jq -e '.features.bits | index(9) != null'
	echo "$output" | jq -e '.features.names | index("bit_9") != null'
	echo "$output" | jq -e '[.requirements[].met] == [true, true, false]'
	echo "$output" | jq -e '.requirements[2].actual == 2097152'
	echo "$output" | jq -e '.config.size == 60 and (.config.raw | length) == 120'
	[ "$stderr" = "vhuctl: requirement not met: config.capacity>2097152 (actual: 2097152)" ] ||
		fail "stderr: $stderr"
}
