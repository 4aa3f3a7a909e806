#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# End-to-end against DPDK's vhost-user net back-end: dpdk-testpmd with a
# net_vhost vdev, no hugepages (Debian 12: DPDK 22.11).  testpmd's
# interactive mode needs a stdin that stays open: a FIFO opened read-write.

load helpers
load dpdk

setup() {
	tp_require
	SOCK="$BATS_TEST_TMPDIR/net.sock"
	tp_start "$SOCK"
}

teardown() {
	tp_stop
}

@test "DPDK: probe (--wait covers testpmd's slow first accept)" {
	run "$VHUCTL" -s "$SOCK" --wait 20 -t 10 -T net probe -j
	assert_success
	echo "$output" | jq -e '.features.names | index("VIRTIO_NET_F_MQ") != null'
	echo "$output" | jq -e '.protocol_features.names | index("VHOST_USER_PROTOCOL_F_STATUS") != null'
	# DPDK reports its maximum, 128, whatever queues= says
	echo "$output" | jq -e '.queue_num == 128'
	echo "$output" | jq -e '.skipped.config | test("CONFIG")'
}

@test "DPDK: setup brings up both rings of a queue pair" {
	run "$VHUCTL" -s "$SOCK" --wait 20 -t 10 -T net setup -j
	assert_success
	echo "$output" | jq -e '.rings == 2'
	echo "$output" | jq -e '[.steps[] | select(.request == "SET_VRING_ENABLE") | .ring] == [0, 1]'
	echo "$output" | jq -e '.steps[-1].request == "SET_STATUS" and (.steps[-1] | has("ring") | not)'
	grep -q 'set queue enable: 1 to qp idx: 1' "$TP_LOG"
}

@test "DPDK: GET_CONFIG is refused locally (DPDK closes the connection on it)" {
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 10 --trace -T net get-config
	assert_failure 3
	echo "$stderr" | grep -q 'GET_CONFIG: back-end does not offer VHOST_USER_PROTOCOL_F_CONFIG'
	[[ "$stderr" != *"F>B GET_CONFIG"* ]]
}

# net send against rxonly: testpmd counts exactly what the device took.
net_send_counted() {
	local n
	tp_forward rxonly
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 -j net send --count 10000 --ring "$1"
	assert_success
	echo "$output" | jq -e --arg r "$1" '.net.frames == 10000 and .net.bytes == 600000 and .net.header_size == 12
		and .driver.ring == $r and .driver.queues[1].completed == 10000'
	n=$(tp_rx_packets)
	[ "$n" = 10000 ] || fail "testpmd counted $n packets, not 10000"
}

@test "DPDK rxonly: net send --count 10000 on a split ring is counted exactly" {
	net_send_counted split
}

@test "DPDK rxonly: net send --count 10000 on a packed ring is counted exactly" {
	net_send_counted packed
}

# net recv against txonly: a pcap tcpdump reads, 100 frames of testpmd's
# UDP flow (198.18.0.1 > 198.18.0.2, port 9).
net_recv_pcap() {
	local pcap=$BATS_TEST_TMPDIR/f.pcap
	command -v tcpdump >/dev/null || skip "tcpdump not installed"
	tp_forward txonly
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 -j net recv --count 100 -w "$pcap" "$@"
	assert_success
	echo "$output" | jq -e '.net.frames == 100 and .net.output != null'
	run --separate-stderr tcpdump -n -r "$pcap"
	assert_success
	[ "${#lines[@]}" -eq 100 ] || fail "tcpdump read ${#lines[@]} frames: $output"
	[ "$(grep -c '198\.18\.0\.1\.9 > 198\.18\.0\.2\.9: UDP' <<<"$output")" -eq 100 ] ||
		fail "not testpmd's flow: ${lines[0]}"
}

@test "DPDK txonly: net recv --count 100 -w FILE on a split ring: tcpdump reads 100 frames" {
	net_recv_pcap --ring split
}

@test "DPDK txonly: net recv --count 100 -w FILE on a packed ring: tcpdump reads 100 frames" {
	net_recv_pcap --ring packed
}

@test "DPDK txonly: 32-byte receive buffers: every frame merged from 3 buffers (MRG_RXBUF), split and packed" {
	local ring
	tp_forward txonly
	for ring in split packed; do
		run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 -j net recv --count 100 --rx-buffer 32 \
			--ring $ring -w "$BATS_TEST_TMPDIR/$ring.pcap"
		assert_success
		# 12-byte header + 64-byte frame = 76 bytes: 3 buffers each
		echo "$output" | jq -e '.net.mrg_rxbuf and .net.frames == 100 and .net.merged == 100 and .net.buffers == 300'
		[ "$(tcpdump -n -r "$BATS_TEST_TMPDIR/$ring.pcap" 2>/dev/null | grep -c '198\.18\.0\.1\.9 > 198\.18\.0\.2\.9: UDP')" -eq 100 ]
	done
	# without MRG_RXBUF a receive buffer holds a whole frame: refused before the bring-up
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 net recv --rx-buffer 32 --mrg-rxbuf off
	assert_failure 64
	[ "${#stderr_lines[@]}" -eq 1 ] && [[ $stderr == *"VIRTIO_NET_F_MRG_RXBUF"* ]] || fail "stderr: $stderr"
}

@test "DPDK: GET_QUEUE_NUM counts queue pairs; with -T net rings up to 2 x 128 - 1 are accepted" {
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 10 get-queue-num -j
	assert_success
	echo "$output" | jq -e '.queue_num == 128'
	# Ring 200 is the rx ring of pair 100: refused without -T net ...
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 10 set-vring-num 200 256
	assert_failure 64
	[[ "$stderr" == *"-T net"* ]] || fail "$stderr"
	# ... sent and acknowledged with it.
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 10 -T net set-vring-num 200 256
	assert_success
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 10 -T net set-vring-num 256 256
	assert_failure 64
}
