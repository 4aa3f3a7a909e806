#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# End-to-end against DPDK's vhost-user net back-end: dpdk-testpmd with a
# net_vhost vdev, no hugepages (Debian 12: DPDK 22.11).  testpmd's
# interactive mode needs a stdin that stays open: a FIFO opened read-write.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

setup() {
	command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd not installed"
	[ "$(nproc)" -ge 2 ] || skip "testpmd needs two cores"
	SOCK="$BATS_TEST_TMPDIR/net.sock"
	FIFO="$BATS_TEST_TMPDIR/in"
	mkfifo "$FIFO"
	# Line-buffered: tests wait for what it prints on its console.
	stdbuf -oL dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --no-huge -m 512 --file-prefix "vhuctl$$_$BATS_TEST_NUMBER" \
		--vdev "net_vhost0,iface=$SOCK,queues=1" -- -i --total-num-mbufs=16384 --no-mlockall \
		<>"$FIFO" >"$BATS_TEST_TMPDIR/testpmd.log" 2>&1 &
	TP_PID=$!
}

# A command on testpmd's console.
tp_cmd() {
	echo "$1" >"$FIFO"
}

# Wait (at most 60 s) until testpmd's log has a line matching ERE $1.
tp_wait() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qE -- "$1" "$BATS_TEST_TMPDIR/testpmd.log" && return 0
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.02
	done
	fail "testpmd never printed /$1/: $(tail -20 "$BATS_TEST_TMPDIR/testpmd.log")"
}

# Forward mode $1 (rxonly, txonly), started.
tp_forward() {
	tp_cmd "set fwd $1"
	tp_cmd start
	tp_wait "^$1 packet forwarding"
}

# Stop forwarding and print the RX-packets of the accumulated statistics
# (stop waits for the forwarding core, so the count is final).
tp_rx_packets() {
	tp_cmd stop
	tp_wait 'Accumulated forward statistics'
	tp_wait 'Done\.'
	awk '/Accumulated forward statistics/ { on = 1 } on && /RX-packets:/ { print $2; exit }' \
		"$BATS_TEST_TMPDIR/testpmd.log"
}

teardown() {
	if [ -n "${TP_PID:-}" ]; then
		echo quit >"$FIFO" 2>/dev/null &
		for _ in $(seq 50); do
			kill -0 "$TP_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$TP_PID" 2>/dev/null || true
		wait "$TP_PID" 2>/dev/null || true
	fi
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
	grep -q 'set queue enable: 1 to qp idx: 1' "$BATS_TEST_TMPDIR/testpmd.log"
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
