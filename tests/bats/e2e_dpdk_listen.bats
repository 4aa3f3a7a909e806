#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# End-to-end: DPDK testpmd's vhost port in client mode (client=1) connects
# to the socket vhuctl listens on (-L), as it would to QEMU's server=on.

load helpers
load dpdk

setup() {
	tp_require
	listen_path
	tp_start "$LSOCK" client=1
}

teardown() {
	tp_stop
	mock_stop
	listen_cleanup
}

@test "DPDK client=1: -L probe reports DPDK's features and protocol features" {
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 30 -T net -j probe
	assert_success
	assert_json '.role == "listen" and (.features.names | index("VIRTIO_NET_F_MQ") != null)
		and (.features.names | index("VHOST_USER_F_PROTOCOL_FEATURES") != null)
		and (.protocol_features.names | index("VHOST_USER_PROTOCOL_F_STATUS") != null)
		and (.protocol_features.names | index("VHOST_USER_PROTOCOL_F_REPLY_ACK") != null)
		and .queue_num == 128'
	tp_wait 'read message VHOST_USER_GET_PROTOCOL_FEATURES'
	[ ! -e "$LSOCK" ]
}

@test "DPDK client=1: -L -T net setup brings the queue pair up (testpmd: ready for processing)" {
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 30 -T net -j setup
	assert_success
	assert_json '.rings == 2 and ([.steps[] | select(.request == "SET_VRING_ENABLE") | .ring] == [0, 1])'
	tp_wait 'set queue enable: 1 to qp idx: 0'
	tp_wait 'set queue enable: 1 to qp idx: 1'
	tp_wait 'virtio is now ready for processing'
}

# net send through the listen role against rxonly: testpmd counts
# exactly what the device took.
listen_send_counted() {
	local n
	tp_forward rxonly
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 30 -T net -j net send --count 10000 --ring "$1"
	assert_success
	assert_json ".net.frames == 10000 and .net.bytes == 600000
		and .driver.ring == \"$1\" and .driver.queues[1].completed == 10000"
	n=$(tp_rx_packets)
	[ "$n" = 10000 ] || fail "testpmd counted $n packets, not 10000"
	[ ! -e "$LSOCK" ]
}

@test "DPDK client=1 rxonly: -L net send --count 10000 on a split ring is counted exactly" {
	listen_send_counted split
}

@test "DPDK client=1 rxonly: -L net send --count 10000 on a packed ring is counted exactly" {
	listen_send_counted packed
}

@test "DPDK client=1 restarted under -L --reconnect batch (setup, watch): accepted again and set up again" {
	local out=$BATS_TEST_TMPDIR/bg.out err=$BATS_TEST_TMPDIR/bg.err pid st=0
	printf '%s\n' '-T net setup' watch >"$BATS_TEST_TMPDIR/steps"
	env --default-signal "$VHUCTL" -L "$LSOCK" -t 30 --reconnect=60 --trace -j batch "$BATS_TEST_TMPDIR/steps" \
		>"$out" 2>"$err" 3>&- &
	pid=$!
	# the watch is running once its channel is acknowledged
	wait_grep "$err" '^trace: B>F SET_BACKEND_REQ_FD \(reply\)'
	tp_wait 'virtio is now ready for processing'
	# testpmd crashes and comes back; it connects to vhuctl's socket again
	kill -KILL "$TP_PID"
	wait "$TP_PID" 2>/dev/null || true
	tp_start "$LSOCK" client=1
	wait_grep "$err" '^vhuctl: reconnect: .*a back-end connected again to '
	tp_wait 'set queue enable: 1 to qp idx: 1'
	tp_wait 'virtio is now ready for processing'
	tp_wait 'read message VHOST_USER_SET_(SLAVE|BACKEND)_REQ_FD'
	kill -INT "$pid"
	wait_gone "$pid" || fail "vhuctl still running"
	wait "$pid" || st=$?
	[ "$st" -eq 0 ] || fail "exit $st: $(grep -v '^trace:' "$err")"
	output=$(cat "$out")
	assert_json '[.steps[].exit_status] == [0, 0] and .steps[1].stopped_by == "interrupt"
		and (.reconnects | length) == 1 and .reconnects[0].line == 2
		and ([.reconnects[0].replayed[] | select(.request == "SET_VRING_ENABLE") | .ring] == [0, 1])
		and .reconnects[0].replayed[-1].request == "SET_BACKEND_REQ_FD"'
	[ ! -e "$LSOCK" ]
}
