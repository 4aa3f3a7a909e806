#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# End to end: DPDK virtio-user (dpdk-testpmd, txonly) -> vhuctl proxy ->
# DPDK vhost (dpdk-testpmd, rxonly), no hugepages (Debian 12: DPDK 22.11).
# The data path never touches the proxy: packets reach the rxonly side
# only if the guest memory and the kick and call eventfds were relayed
# intact.  testpmd's interactive mode reads commands from a FIFO opened
# read-write (it stays open).  Every wait is for an event: a socket, a
# proxy line, a counter in testpmd's output, a process exit.

load helpers

setup() {
	command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd not installed"
	[ "$(nproc)" -ge 2 ] || skip "testpmd needs two cores"
	D=$(mktemp -d /tmp/vhu-pd.XXXXXX)
	BSOCK=$D/back.sock
	PSOCK=$D/front.sock
	BIN=$D/back.in
	FIN=$D/front.in
	POUT=$BATS_TEST_TMPDIR/proxy.jsonl
	mkfifo "$BIN" "$FIN"
}

# Ask testpmd ($1: its FIFO, $2: its pid) to quit; SIGKILL after 5 s.
testpmd_quit() {
	local i
	[ -n "$2" ] || return 0
	echo quit >"$1" 2>/dev/null &
	for ((i = 0; i < 250; i++)); do
		kill -0 "$2" 2>/dev/null || break
		sleep 0.02
	done
	kill -9 "$2" 2>/dev/null || true
	wait "$2" 2>/dev/null || true
}

teardown() {
	testpmd_quit "$FIN" "${FE_PID:-}"
	testpmd_quit "$BIN" "${BE_PID:-}"
	if [ -n "${PROXY_PID:-}" ]; then
		kill "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
	fi
	rm -rf "$D"
}

# Wait (at most $3 s, default 60) until file $1 has a line matching ERE $2.
wait_line() {
	local i n=$((${3:-60} * 50))
	for ((i = 0; i < n; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "$1 never showed /$2/: $(tail -n 20 "$1")"
}

testpmd() {
	local prefix=$1
	shift
	dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --no-huge -m 512 --file-prefix "vhu$$_${prefix}_$BATS_TEST_NUMBER" \
		"$@" -- -i --total-num-mbufs=16384 --no-mlockall
}

# Wait for socket $1 (at most 60 s); $2 names who makes it, $3 its log.
wait_sock() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.02
	done
	fail "$2 made no socket $1: $(cat "$3")"
}

# The whole flow.  $1 = listen: the proxy creates FRONT.sock and connects
# to the back-end's socket (virtio-user client, vhost server); $1 = connect:
# the other way round on both sides (virtio-user server=1, vhost client=1,
# proxy --connect-front and --listen-back).
flow() {
	local i
	if [ "$1" = listen ]; then
		testpmd be --vdev "net_vhost0,iface=$BSOCK,queues=1" <>"$BIN" >"$BATS_TEST_TMPDIR/back.log" 2>&1 3>&- &
		BE_PID=$!
		wait_sock "$BSOCK" "testpmd (vhost)" "$BATS_TEST_TMPDIR/back.log"
		# From bind() to listen() the socket refuses: wait until it accepts.
		python3 "$BATS_TEST_DIRNAME/frontend.py" "$BSOCK" accepts
		"$VHUCTL" proxy -j -T net --listen "$PSOCK" --connect "$BSOCK" >"$POUT" \
			2>"$BATS_TEST_TMPDIR/proxy.err" 3>&- &
		PROXY_PID=$!
		wait_line "$POUT" '"event":"listen"'
		testpmd fe --vdev "net_virtio_user0,path=$PSOCK,queues=1" <>"$FIN" >"$BATS_TEST_TMPDIR/front.log" 2>&1 3>&- &
		FE_PID=$!
	else
		testpmd fe --vdev "net_virtio_user0,path=$PSOCK,queues=1,server=1" <>"$FIN" \
			>"$BATS_TEST_TMPDIR/front.log" 2>&1 3>&- &
		FE_PID=$!
		wait_sock "$PSOCK" "testpmd (virtio-user)" "$BATS_TEST_TMPDIR/front.log"
		"$VHUCTL" proxy -j -T net --connect-front "$PSOCK" --listen-back "$BSOCK" >"$POUT" \
			2>"$BATS_TEST_TMPDIR/proxy.err" 3>&- &
		PROXY_PID=$!
		wait_line "$POUT" '"event":"listen"'
		testpmd be --vdev "net_vhost0,iface=$BSOCK,queues=1,client=1" <>"$BIN" >"$BATS_TEST_TMPDIR/back.log" 2>&1 3>&- &
		BE_PID=$!
	fi
	printf '%s\n' 'set fwd rxonly' start >"$BIN"
	# DRIVER_OK sent: the device runs.
	wait_line "$POUT" '"name":"SET_STATUS","reply":false.*"mask":"0x0f"' 120
	printf '%s\n' 'set fwd txonly' start >"$FIN"
	# The rxonly side counts what the txonly side sends.
	for ((i = 0; i < 600; i++)); do
		echo 'show port stats 0' >"$BIN"
		sleep 0.1
		grep -qE 'RX-packets: +[1-9]' "$BATS_TEST_TMPDIR/back.log" && break
	done
	grep -qE 'RX-packets: +[1-9]' "$BATS_TEST_TMPDIR/back.log" ||
		fail "no packet arrived: $(tail -n 30 "$BATS_TEST_TMPDIR/back.log")"
	printf '%s\n' stop >"$FIN"
	testpmd_quit "$FIN" "$FE_PID"
	FE_PID=
	wait_line "$POUT" '"event":"end"'
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || fail "proxy exit $?: $(cat "$BATS_TEST_TMPDIR/proxy.err")"
	PROXY_PID=

	jq -e -s 'map(select(.name == "SET_MEM_TABLE" and (.reply | not))) | .[0] |
		.fd_info[0].type == "memfd" and .fd_info[0].size > 0 and .decoded.nregions == 1' "$POUT" >/dev/null ||
		fail "$(grep SET_MEM_TABLE "$POUT")"
	jq -e -s 'map(select(.name == "SET_VRING_KICK")) | length == 2 and all(.fd_info == [{"type": "eventfd"}])' \
		"$POUT" >/dev/null || fail "$(grep SET_VRING_KICK "$POUT")"
	jq -e -s 'map(select(.name == "GET_PROTOCOL_FEATURES" and .reply)) | .[0].decoded.protocol_features.names |
		index("VHOST_USER_PROTOCOL_F_STATUS") != null' "$POUT" >/dev/null
	# The tx ring (1) moved: its base at the stop is past 0.
	jq -e -s 'map(select(.name == "GET_VRING_BASE" and .reply and .decoded.vring == 1)) | .[0].decoded.num > 0' \
		"$POUT" >/dev/null || fail "$(grep GET_VRING_BASE "$POUT")"
	jq -e -s '(map(select(.event == "message" and .expect != null)) | length) ==
		(map(select(.event == "message" and .reply and .rtt_us != null)) | length)' "$POUT" >/dev/null
	jq -e -s 'map(select(.invalid != null)) | length == 0' "$POUT" >/dev/null ||
		fail "$(jq -c 'select(.invalid)' "$POUT")"
}

@test "DPDK virtio-user -> proxy -> DPDK vhost: packets flow, memory and eventfds relayed" {
	flow listen
}

@test "DPDK virtio-user server=1 <- proxy --connect-front --listen-back <- DPDK vhost client=1: packets flow" {
	flow connect
	jq -e -s 'map(select(.event == "open")) | .[0].note | test("front-end connected at .*; back-end accepted on ")' \
		"$POUT" >/dev/null || fail "$(grep open "$POUT")"
}
