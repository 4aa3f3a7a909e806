# SPDX-License-Identifier: Apache-2.0
# DPDK testpmd with a vhost-user net port (net_vhost vdev), no hugepages
# (Debian 12: DPDK 22.11), for the e2e suites.  testpmd's interactive mode
# needs a stdin that stays open: a FIFO opened read-write.  Its console is
# line-buffered so tests can wait for what it prints.
#
#   tp_require            skip unless dpdk-testpmd and two cores are there
#   tp_start IFACE [ARGS] start testpmd, vdev "net_vhost0,iface=IFACE,queues=1[,ARGS]"
#   tp_stop               quit it (at most 5 s), then SIGKILL
#   tp_cmd LINE           a command on its console
#   tp_wait ERE           wait (at most 60 s) for a console line
#   tp_forward MODE       set fwd MODE (rxonly, txonly) and start it
#   tp_rx_packets         stop forwarding, print the accumulated RX-packets
#   TP_LOG, TP_PID

tp_require() {
	command -v dpdk-testpmd >/dev/null || skip "dpdk-testpmd not installed"
	[ "$(nproc)" -ge 2 ] || skip "testpmd needs two cores"
}

TP_SEQ=0

tp_start() {
	local iface=$1 extra=${2:+,$2}
	TP_SEQ=$((TP_SEQ + 1))
	TP_FIFO=$BATS_TEST_TMPDIR/tp$TP_SEQ.in
	TP_LOG=$BATS_TEST_TMPDIR/testpmd$TP_SEQ.log
	mkfifo "$TP_FIFO"
	stdbuf -oL dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --no-huge -m 512 \
		--file-prefix "vhuctl$$_${BATS_TEST_NUMBER}_$TP_SEQ" \
		--vdev "net_vhost0,iface=$iface,queues=1$extra" -- -i --total-num-mbufs=16384 --no-mlockall \
		<>"$TP_FIFO" >"$TP_LOG" 2>&1 3>&- &
	TP_PID=$!
}

tp_stop() {
	local i
	[ -n "${TP_PID:-}" ] || return 0
	echo quit >"$TP_FIFO" 2>/dev/null &
	for ((i = 0; i < 50; i++)); do
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$TP_PID" 2>/dev/null || true
	wait "$TP_PID" 2>/dev/null || true
	TP_PID=
}

tp_cmd() {
	echo "$1" >"$TP_FIFO"
}

tp_wait() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qE -- "$1" "$TP_LOG" && return 0
		kill -0 "$TP_PID" 2>/dev/null || break
		sleep 0.02
	done
	fail "testpmd never printed /$1/: $(tail -20 "$TP_LOG")"
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
	awk '/Accumulated forward statistics/ { on = 1 } on && /RX-packets:/ { print $2; exit }' "$TP_LOG"
}
