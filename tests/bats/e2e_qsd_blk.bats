#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl blk end to end against qemu-storage-daemon (Debian 12: QEMU 7.2)
# exporting a raw file of random bytes: what vhuctl reads is what dd reads,
# what it writes lands in the file.  qemu-storage-daemon offers split
# rings only (no RING_PACKED), with EVENT_IDX and INDIRECT_DESC, so both
# are tried on and off.  The daemon serves one client at a time: the
# commands run one after another.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0
load qsd

IMG_SIZE=$((16 * 1048576))

# A raw image of random bytes; discard=unmap so that discarded ranges read
# back as zeroes.  $1: on or off (writable).
qsd_raw() {
	IMG="$BATS_TEST_TMPDIR/disk.img"
	SOCK="$BATS_TEST_TMPDIR/blk.sock"
	head -c $IMG_SIZE /dev/urandom >"$IMG"
	local ro=off
	[ "$1" = on ] || ro=on
	qsd_start --blockdev driver=file,filename="$IMG",node-name=f0,discard=unmap,read-only=$ro \
		--blockdev driver=raw,file=f0,node-name=r0,discard=unmap,read-only=$ro \
		--export type=vhost-user-blk,id=e0,node-name=r0,addr.type=unix,addr.path="$SOCK",writable="$1",num-queues=2
}

teardown() {
	qsd_stop
}

vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

img_bytes() {
	dd if="$IMG" bs=512 skip=$(($1 / 512)) count=$(($2 / 512)) status=none
}

@test "qsd: blk read equals dd of the image (first sector, 1 MiB span, last sector), event idx and indirect on and off" {
	local ei ind opts last=$((IMG_SIZE - 512))
	qsd_raw on
	for ei in on off; do
		for ind in on off; do
			opts="--event-idx $ei --indirect $ind"
			vhu blk read 0 512 $opts | cmp - <(img_bytes 0 512) || fail "first sector ($opts)"
			vhu blk read 3584 1M $opts | cmp - <(img_bytes 3584 1048576) || fail "1 MiB span ($opts)"
			vhu blk read $last 512 $opts | cmp - <(img_bytes $last 512) || fail "last sector ($opts)"
		done
	done
	# polling for completions works the same
	vhu blk read 5M 2M --notify poll | cmp - <(img_bytes 5242880 2097152)
	run --separate-stderr vhu -j blk read 5M 2M -o "$BATS_TEST_TMPDIR/out.bin"
	assert_success
	cmp "$BATS_TEST_TMPDIR/out.bin" <(img_bytes 5242880 2097152)
	echo "$output" | jq -e ".blk.sha256 == \"$(img_bytes 5242880 2097152 | sha256sum | cut -d' ' -f1)\""
	# 512 pages, at most seg_max (126) per request
	echo "$output" | jq -e '.blk.requests == 5 and .driver.queues[0].stop_base == 5'
}

@test "qsd: blk write from a random file appears in the image; a flush follows" {
	qsd_raw on
	head -c 3M /dev/urandom >"$BATS_TEST_TMPDIR/in.bin"
	run --separate-stderr vhu -j blk write 1M -i "$BATS_TEST_TMPDIR/in.bin" --indirect off
	assert_success
	echo "$output" | jq -e ".blk.bytes == 3145728 and .blk.sha256 == \"$(sha256sum <"$BATS_TEST_TMPDIR/in.bin" | cut -d' ' -f1)\""
	run vhu blk flush
	assert_success
	cmp <(img_bytes 1048576 3145728) "$BATS_TEST_TMPDIR/in.bin"
	vhu blk write 9M -i "$BATS_TEST_TMPDIR/in.bin" --event-idx off
	cmp <(img_bytes 9437184 3145728) "$BATS_TEST_TMPDIR/in.bin"
}

@test "qsd: discard and write-zeroes read back as zeroes" {
	qsd_raw on
	run vhu blk discard 2M 1M
	assert_success
	run vhu blk write-zeroes 6M 20M
	assert_failure 64 # beyond the 16 MiB image: refused before anything is sent
	run --separate-stderr vhu -j blk write-zeroes 6M 5M
	assert_success
	# max_write_zeroes_sectors is 32768 (16 MiB): one request
	echo "$output" | jq -e '.blk.requests == 1 and .blk.bytes == 5242880'
	vhu blk read 2M 1M | cmp - <(head -c 1048576 /dev/zero)
	vhu blk read 6M 5M | cmp - <(head -c 5242880 /dev/zero)
	cmp <(img_bytes 6291456 5242880) <(head -c 5242880 /dev/zero)
	cmp <(img_bytes 2097152 1048576) <(head -c 1048576 /dev/zero)
}

@test "qsd: blk get-id is the export's serial" {
	qsd_raw on
	# QEMU 7.2's vhost-user-blk export has no serial option: it is fixed
	run --separate-stderr vhu -j blk get-id
	assert_success
	echo "$output" | jq -e '.blk.serial == "vhost_user_blk"'
}

@test "qsd: blk write on a writable=off export exits 1 naming the OUT request and IOERR" {
	qsd_raw off
	cp "$IMG" "$BATS_TEST_TMPDIR/before.img"
	run --separate-stderr vhu blk write 4K --pattern 0xff --length 8K
	assert_failure 1
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "stderr: $stderr"
	[[ $stderr == *"blk write: OUT request at sector 8 (8192 bytes) failed with status IOERR"* ]] ||
		fail "stderr: $stderr"
	cmp "$IMG" "$BATS_TEST_TMPDIR/before.img"
	# reads still work
	vhu blk read 4K 8K | cmp - <(img_bytes 4096 8192)
}

@test "qsd: packed rings are refused locally (qemu-storage-daemon does not offer RING_PACKED)" {
	qsd_raw on
	run --separate-stderr vhu --trace blk read 0 4K --ring packed
	assert_failure 3
	[[ $stderr == *"VIRTIO_F_RING_PACKED: the back-end does not offer packed rings"* ]]
	[[ $stderr != *"F>B SET_OWNER"* ]]
}
