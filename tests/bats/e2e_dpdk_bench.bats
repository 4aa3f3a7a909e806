#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# bench -T net end to end against DPDK testpmd's vhost-user port (no
# hugepages; Debian 12: DPDK 22.11): tx into `rxonly`, rx from `txonly`.
# The counts are exact, not rates: the port's own counters (`show port
# stats all`, read after `stop`, which waits for the forwarding core) must
# equal what vhuctl reports, since vhuctl's measured window closes only
# once its ring is quiet (tx: every frame in flight used; rx: the ring
# disabled and its used entries collected) and there is no --ramp.
#   tx: testpmd RX-packets / RX-bytes == vhuctl tx.packets / tx.bytes
#   rx: testpmd TX-packets / TX-bytes == vhuctl rx.packets / rx.bytes;
#       testpmd's TX-dropped counts the frames it made while no receive
#       buffer was posted (or no front-end was there), which vhuctl never
#       saw, so its TX-total is larger.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load dpdk
bats_require_minimum_version 1.5.0

setup() {
	tp_require
	SOCK=$BATS_TEST_TMPDIR/net.sock
	tp_start "$SOCK"
}

teardown() {
	tp_stop
}

# Stop forwarding (waits for the forwarding core), then the port's
# counters: sets TP_RX, TP_RX_BYTES, TP_TX, TP_TX_BYTES.
tp_port_stats() {
	tp_cmd stop
	tp_wait '^Done\.'
	tp_cmd 'show port stats all'
	# the last line of the block: the numbers above it are all there
	tp_wait 'Tx-pps: .*Tx-bps'
	read -r TP_RX TP_RX_BYTES TP_TX TP_TX_BYTES < <(awk '
		/NIC statistics for port 0/ { on = 1 }
		on && /RX-packets:/ { rx = $2; rxb = $6 }
		on && /TX-packets:/ { tx = $2; txb = $6 }
		END { print rx, rxb, tx, txb }' "$TP_LOG")
}

bench_tx_counted() {
	tp_forward rxonly
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 -T net -j bench --rw tx --runtime 1 "$@"
	assert_success
	echo "$output" | jq -e '.jobs[0] | .ended_by == "runtime" and .tx.pps > 0 and .tx.bps > 0 and .errors == 0
		and .tx.bytes == 64 * .tx.packets and .job_options.bs == 64'
	local n bytes
	n=$(jq '.jobs[0].tx.packets' <<<"$output")
	bytes=$(jq '.jobs[0].tx.bytes' <<<"$output")
	# without --ramp every frame the device used was measured
	[ "$(jq '.driver.queues[1].completed' <<<"$output")" = "$n" ] || fail "$output"
	tp_port_stats
	[ "$TP_RX" = "$n" ] || fail "testpmd counted $TP_RX packets, vhuctl $n"
	[ "$TP_RX_BYTES" = "$bytes" ] || fail "testpmd counted $TP_RX_BYTES bytes, vhuctl $bytes"
}

@test "DPDK rxonly: bench -T net --rw tx on a split ring: testpmd counts exactly vhuctl's packets" {
	bench_tx_counted --ring split --notify poll
}

@test "DPDK rxonly: bench -T net --rw tx on a packed ring: testpmd counts exactly vhuctl's packets" {
	bench_tx_counted --ring packed --notify event
}

bench_rx_counted() {
	tp_forward txonly
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 -T net -j bench --rw rx --runtime 1 "$@"
	assert_success
	# testpmd txonly sends 64-byte frames (set txpkts: 64)
	echo "$output" | jq -e '.jobs[0] | .ended_by == "runtime" and .rx.packets > 0 and .rx.pps > 0
		and .rx.bytes == 64 * .rx.packets and .errors == 0 and .job_options.rx_buffer == 2048'
	local n bytes
	n=$(jq '.jobs[0].rx.packets' <<<"$output")
	bytes=$(jq '.jobs[0].rx.bytes' <<<"$output")
	tp_port_stats
	[ "$TP_TX" = "$n" ] || fail "testpmd sent $TP_TX packets, vhuctl received $n"
	[ "$TP_TX_BYTES" = "$bytes" ] || fail "testpmd sent $TP_TX_BYTES bytes, vhuctl received $bytes"
}

@test "DPDK txonly: bench -T net --rw rx on a split ring: vhuctl counts exactly what testpmd sent" {
	bench_rx_counted --ring split --notify event
}

@test "DPDK txonly: bench -T net --rw rx on a packed ring: vhuctl counts exactly what testpmd sent" {
	bench_rx_counted --ring packed --notify poll
}

@test "DPDK: bench -T net --indirect on: header and frame through an indirect table, counted exactly" {
	tp_forward rxonly
	run --separate-stderr "$VHUCTL" -s "$SOCK" --wait 20 -t 30 -T net -j bench --rw tx --runtime 1 \
		--indirect on --bs 1514 --qd 64
	assert_success
	echo "$output" | jq -e '.driver.indirect and .driver.queues[1].indirect == .driver.queues[1].requests'
	echo "$output" | jq -e '.jobs[0] | .tx.packets > 0 and .tx.bytes == 1514 * .tx.packets and .job_options.iodepth == 64'
	local n
	n=$(jq '.jobs[0].tx.packets' <<<"$output")
	tp_port_stats
	[ "$TP_RX" = "$n" ] || fail "testpmd counted $TP_RX packets, vhuctl $n"
}
