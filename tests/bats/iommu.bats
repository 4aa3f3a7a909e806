#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# --iommu: vhuctl as the IOMMU-aware front-end (spec "IOMMU support").
# The mock (--iommu) offers VIRTIO_F_ACCESS_PLATFORM and, once it is
# acked, sends a BACKEND_IOTLB_MSG miss for each ring's descriptor table
# at SET_VRING_KICK, as DPDK does; its device side (--net) then reaches
# ring and buffer addresses only through the IOTLB_MSG updates it got, so
# frames arrive only when the updates are right.

load helpers

vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

# Guest memory: 64 MiB at 4 GiB (the driver's defaults); the first ring's
# descriptor table is the first allocation.
GPA=0x100000000
SIZE=0x4000000

@test "net send --iommu: each miss is answered with an identity update of its region, then the data path works" {
	mock_start --net --iommu
	run --separate-stderr vhu -j -T net net send --iommu --count 20
	assert_success
	echo "$output" | jq -e '.net.frames == 20 and .driver.iommu == true
		and .driver.iotlb_misses == 2 and .driver.iotlb_updates == 2
		and .driver.queues[1].completed == 20'
	# One miss per ring, each answered by an update of the whole region,
	# read-write, iova = guest-physical address, uaddr at the same offset.
	[ "$(grep -c '^IOTLB_MISS_SENT' "$MOCK_LOG")" -eq 2 ]
	grep -q "^IOTLB_MISS_SENT ring=0 iova=$GPA perm=3" "$MOCK_LOG"
	[ "$(grep -c "^IOTLB_UPDATE iova=$GPA size=$SIZE perm=3 identity=yes\$" "$MOCK_LOG")" -eq 2 ]
	! grep -q 'IOTLB_FAULT\|BAD_RING_ADDR' "$MOCK_LOG"
	[ "$(grep -c '^NET_TX ' "$MOCK_LOG")" -eq 20 ]
	# The features acked carry ACCESS_PLATFORM, the protocol features
	# BACKEND_REQ and REPLY_ACK, and the channel came before SET_OWNER.
	awk '/^SET_BACKEND_REQ_FD/ { c = NR } /^SET_OWNER/ { o = NR } END { exit !(c && o && c < o) }' "$MOCK_LOG"
}

@test "net send --iommu: a miss with NEED_REPLY is acked after its update" {
	mock_start --net --iommu=ack
	run --separate-stderr vhu -j -T net net send --iommu --count 5 --notify poll
	assert_success
	echo "$output" | jq -e '.net.frames == 5 and .driver.iotlb_updates == 2'
	[ "$(grep -c '^IOTLB_ACK value=0$' "$MOCK_LOG")" -eq 2 ]
	! grep -q 'IOTLB_ACK_EARLY\|IOTLB_BADACK' "$MOCK_LOG"
	# Each ack follows the update of its miss.
	awk '/^IOTLB_UPDATE/ { u++ } /^IOTLB_ACK value/ { if (++a > u) exit 1 } END { exit !(a == 2) }' "$MOCK_LOG"
}

@test "net send --iommu: ring addresses are iovas, and the trace shows the miss and the update" {
	mock_start --net --iommu
	run --separate-stderr vhu --trace -T net net send --iommu --count 1
	assert_success
	echo "$stderr" | grep -q "F>B SET_VRING_ADDR .*desc=$GPA"
	echo "$stderr" | grep -q "B>F chan BACKEND_IOTLB_MSG .*iova=$GPA .*type=1"
	echo "$stderr" | grep -q "F>B IOTLB_MSG flags=0x9 .*iova=$GPA size=$SIZE uaddr=0x[0-9a-f]* perm=3 type=2"
}

@test "setup --iommu against a back-end without ACCESS_PLATFORM: exit 3, nothing started" {
	mock_start --net
	run --separate-stderr vhu -T net setup --iommu
	assert_failure 3
	[[ "$stderr" == *"VIRTIO_F_ACCESS_PLATFORM: the back-end does not offer it (--iommu)"* ]]
	! grep -q '^SET_OWNER\|^SET_FEATURES' "$MOCK_LOG"
}

@test "setup --iommu without BACKEND_REQ: exit 3 naming the protocol feature" {
	# The mock's default protocol features without BACKEND_REQ (0x20).
	mock_start --net --iommu --protocol-features db20b
	run --separate-stderr vhu -T net setup --iommu
	assert_failure 3
	[[ "$stderr" == *"--iommu: needs protocol features BACKEND_REQ and REPLY_ACK (BACKEND_REQ not negotiated)"* ]]
}

@test "without --iommu, ACCESS_PLATFORM is not acked and no miss comes" {
	mock_start --net --iommu
	run --separate-stderr vhu -j -T net net send --count 3
	assert_success
	echo "$output" | jq -e '.net.frames == 3 and (.driver | has("iommu") | not)'
	! grep -q '^IOTLB' "$MOCK_LOG"
}

# --iommu=late: no miss during the bring-up; a kicked ring that is not
# mapped sends its miss and waits, so only a driver that serves the
# back-end channel while it waits for completions gets its frames through.
iommu_late() {
	mock_start --net --iommu=late
	run --separate-stderr vhu -j -T net net send --iommu --count 20 --notify "$1"
	assert_success
	echo "$output" | jq -e '.net.frames == 20 and .driver.iotlb_misses >= 1
		and .driver.iotlb_updates == .driver.iotlb_misses and .driver.queues[1].completed == 20'
	grep -q '^IOTLB_RING_MISS q=1 ' "$MOCK_LOG"
	grep -q '^IOTLB_MISS_SENT ring=late ' "$MOCK_LOG"
	grep -q "^IOTLB_UPDATE iova=$GPA size=$SIZE perm=3 identity=yes\$" "$MOCK_LOG"
	[ "$(grep -c '^NET_TX ' "$MOCK_LOG")" -eq 20 ]
}

@test "net send --iommu --notify event: a miss during I/O is answered while waiting on the call eventfd" {
	iommu_late event
}

@test "net send --iommu --notify poll: a miss during I/O is answered by the busy loop's periodic check" {
	iommu_late poll
}
