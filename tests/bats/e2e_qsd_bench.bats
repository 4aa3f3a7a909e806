#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl bench end to end against qemu-storage-daemon (Debian 12: QEMU
# 7.2): a null-co node for the figures and the request count the daemon
# reports at the stop, a raw file for --verify (the pattern must be in
# the image afterwards, where dd finds it).  Assertions are about counts
# and order, never about speed.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0
load qsd

teardown() {
	qsd_stop
}

vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

qsd_null() {
	SOCK="$BATS_TEST_TMPDIR/blk.sock"
	qsd_start --blockdev driver=null-co,node-name=n0,size=1073741824 \
		--export type=vhost-user-blk,id=e0,node-name=n0,addr.type=unix,addr.path="$SOCK",writable=on,num-queues=2
}

@test "qsd null-co: bench randread 4k QD16 -j: IOPS, ordered percentiles, no error, count = GET_VRING_BASE" {
	local notify
	qsd_null
	for notify in event poll; do
		run --separate-stderr vhu -T blk bench --rw randread --bs 4k --qd 16 --runtime 3 -j --notify $notify
		assert_success
		echo "$output" | jq -e '.jobs[0].read.iops > 0 and .jobs[0].read.total_ios > 0 and .jobs[0].errors == 0'
		echo "$output" | jq -e '.jobs[0].read.clat_ns | .percentile["50.000000"] <= .percentile["99.000000"] and
			.percentile["99.000000"] <= .max and .min <= .percentile["50.000000"]'
		# the daemon's GET_VRING_BASE (its next avail index) is the count of requests sent
		echo "$output" | jq -e '.driver.queues[0] | .requests > 0 and .completed == .requests and
			.stop_base == .requests % 65536'
		echo "$output" | jq -e '.driver.queues[0].requests >= .jobs[0].read.total_ios + 16'
	done
}

@test "qsd null-co: bench on both queues, sequential writes of 64 KiB" {
	qsd_null
	run --separate-stderr vhu -j bench --rw write --bs 64k --qd 4 --queues 2 --runtime 1
	assert_success
	echo "$output" | jq -e '.jobs[0].write.io_bytes == .jobs[0].write.total_ios * 65536 and .jobs[0].errors == 0'
	echo "$output" | jq -e '[.driver.queues[] | .requests > 0 and .stop_base == .requests % 65536] | all'
}

@test "qsd raw file: bench --verify finds no error and leaves the headed pattern in the image" {
	local img="$BATS_TEST_TMPDIR/disk.img"
	SOCK="$BATS_TEST_TMPDIR/blk.sock"
	head -c 16M /dev/urandom >"$img"
	qsd_start --blockdev driver=file,filename="$img",node-name=f0 \
		--blockdev driver=raw,file=f0,node-name=r0 \
		--export type=vhost-user-blk,id=e0,node-name=r0,addr.type=unix,addr.path="$SOCK",writable=on
	run --separate-stderr vhu -j bench --rw randrw --verify --size 4M --qd 8 --runtime 2
	assert_success
	echo "$output" | jq -e '.jobs[0].errors == 0 and .jobs[0].verify.filled_blocks == 1024'
	echo "$output" | jq -e '.jobs[0].verify.checked_blocks >= .jobs[0].read.total_ios + 1024'
	# block 5 in the file: the magic and its own offset
	[ "$(dd if="$img" bs=1 skip=20480 count=8 status=none)" = vhuBENCH ]
	[ "$(od -An -tu8 -j 20488 -N 8 "$img" | tr -d ' ')" = 20480 ]
	# sequential reads of another block size, polled (the fill rewrites the span first)
	run --separate-stderr vhu -j bench --rw read --verify --size 4M --bs 16k --runtime 1 --notify poll
	assert_success
	echo "$output" | jq -e '.jobs[0].errors == 0 and .jobs[0].verify.checked_blocks > 0'
}
