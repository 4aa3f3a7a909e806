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
