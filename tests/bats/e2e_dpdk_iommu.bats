#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# End to end: DPDK's vhost-user net back-end with iommu-support=1
# (dpdk-testpmd, net_vhost vdev, no hugepages; Debian 12: DPDK 22.11)
# against vhuctl as the IOMMU-aware front-end (--iommu).  DPDK offers
# VIRTIO_F_ACCESS_PLATFORM, translates every ring and buffer address
# through its IOTLB and asks for what it lacks with BACKEND_IOTLB_MSG
# misses on the back-end channel: packets reach testpmd's rxonly counter
# only if vhuctl's IOTLB_MSG updates were right.  Through `vhuctl proxy`
# the misses show as `chan` lines B>F and the updates as main-channel
# lines F>B.  Every wait is for an event: a socket, a console line, a
# proxy line.

load helpers
load dpdk

setup() {
	tp_require
	D=$(mktemp -d /tmp/vhu-io.XXXXXX)
	BSOCK=$D/back.sock
	PSOCK=$D/front.sock
	POUT=$BATS_TEST_TMPDIR/proxy.jsonl
	tp_start "$BSOCK" iommu-support=1
	wait_file "$BSOCK"
}

teardown() {
	tp_stop
	if [ -n "${PROXY_PID:-}" ]; then
		kill "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
	fi
	rm -rf "$D"
}

# net send --iommu --count $2 on socket $1, counted exactly by testpmd.
send_counted() {
	local n
	tp_forward rxonly
	run --separate-stderr "$VHUCTL" -s "$1" -t 30 -T net -j net send --iommu --count "$2" "${@:3}"
	assert_success
	assert_json ".net.frames == $2 and .driver.iommu == true and .driver.iotlb_misses >= 1
		and .driver.iotlb_updates == .driver.iotlb_misses and .driver.queues[1].completed == $2"
	n=$(tp_rx_packets)
	[ "$n" = "$2" ] || fail "testpmd counted $n packets, not $2"
}

@test "DPDK iommu-support=1: net send --iommu --count 10000 is counted exactly by rxonly" {
	send_counted "$BSOCK" 10000
	# DPDK took ACCESS_PLATFORM and found its rings through the IOTLB.
	tp_wait 'virtio is now ready for processing'
}

@test "DPDK iommu-support=1, busy-polling driver: net send --iommu --notify poll is counted exactly" {
	send_counted "$BSOCK" 2000 --notify poll
}

@test "DPDK iommu-support=1 without --iommu: ACCESS_PLATFORM is not acked, no IOTLB traffic" {
	tp_forward rxonly
	run --separate-stderr "$VHUCTL" -s "$BSOCK" -t 30 -T net --trace net send --count 10
	assert_success
	[[ "$stderr" != *IOTLB* ]]
}

@test "DPDK iommu-support=1 through the proxy: chan IOTLB misses B>F, main-channel updates F>B, packets counted" {
	"$VHUCTL" proxy -j -T net --listen "$PSOCK" --connect "$BSOCK" >"$POUT" 2>"$BATS_TEST_TMPDIR/proxy.err" 3>&- &
	PROXY_PID=$!
	wait_file "$PSOCK"
	send_counted "$PSOCK" 1000
	# Every line is flushed as it happens: the session is complete now.
	wait_grep "$POUT" '"name":"GET_VRING_BASE","reply":true'
	# Misses: back-end channel, B>F, type 1, the ring's iova.
	jq -se '[.[] | select(.event == "message" and .name == "BACKEND_IOTLB_MSG")] as $m
		| ($m | length) >= 1 and all($m[]; .chan == true and .dir == "B>F" and .decoded.type == 1)' "$POUT"
	# Updates: main channel, F>B, type 2, identity map of guest memory
	# (64 MiB at 4 GiB), each answered with ack 0.
	jq -se '[.[] | select(.event == "message" and .name == "IOTLB_MSG" and .reply == false)] as $u
		| ($u | length) >= 1 and all($u[]; .chan == false and .dir == "F>B" and .decoded.type == 2
			and .decoded.iova == "0x100000000" and .decoded.size == "0x4000000" and .decoded.perm == 3)' "$POUT"
	jq -se '[.[] | select(.event == "message" and .name == "IOTLB_MSG" and .reply == true)] as $r
		| ($r | length) >= 1 and all($r[]; .dir == "B>F" and .decoded.ack == 0 and .rtt_us >= 0)' "$POUT"
	# As many updates as misses, each miss before its update.
	jq -se '[.[] | select(.event == "message" and (.name == "BACKEND_IOTLB_MSG" or
		(.name == "IOTLB_MSG" and .reply == false))) | .name] as $s
		| ($s | length) % 2 == 0 and ([range(0; $s | length; 2) as $i | $s[$i:$i + 2]]
		| all(. == ["BACKEND_IOTLB_MSG", "IOTLB_MSG"]))' "$POUT"
}
