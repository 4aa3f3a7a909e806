#!/usr/bin/env bats
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
	dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --no-huge -m 512 --file-prefix "vhuctl$$_$BATS_TEST_NUMBER" \
		--vdev "net_vhost0,iface=$SOCK,queues=1" -- -i --total-num-mbufs=16384 --no-mlockall \
		<>"$FIFO" >"$BATS_TEST_TMPDIR/testpmd.log" 2>&1 &
	TP_PID=$!
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
