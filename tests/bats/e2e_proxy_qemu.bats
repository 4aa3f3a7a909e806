#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# End to end: QEMU (qemu-system-x86_64, TCG) -> vhuctl proxy ->
# qemu-storage-daemon (Debian 12: QEMU 7.2).  QEMU realizes a
# vhost-user-blk-pci device through the proxy while paused (-S); after
# `cont` SeaBIOS drives the disk, so QEMU starts the device (features,
# memory, rings, enable); `quit` stops it.  The proxy's JSON lines must
# show QEMU's and the daemon's real values, every descriptor described and
# every reply paired.  Every wait is for an event: a socket, the QMP
# greeting, a proxy line, a process exit.

load helpers

# QEMU 7.2's export (also recorded in the hypervisor trace): see
# e2e_qsd.bats.
QSD_FEATURES=0x0000000175007e46
QSD_PROTOCOL=0x0000000000008f2b

setup() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (qemu-system-x86)"
	command -v qemu-storage-daemon >/dev/null || skip "qemu-storage-daemon not installed"
	# Unix socket paths hold 107 bytes.
	D=$(mktemp -d /tmp/vhu-pq.XXXXXX)
	BSOCK=$D/blk.sock
	PSOCK=$D/front.sock
	QMP=$D/qmp.sock
	POUT=$BATS_TEST_TMPDIR/proxy.jsonl
}

teardown() {
	local p
	for p in ${QEMU_PID:-} ${PROXY_PID:-} ${QSD_PID:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$D"
}

# Wait (at most $3 s, default 60) until file $1 has a line matching ERE $2.
wait_line() {
	local i n=$((${3:-60} * 50))
	for ((i = 0; i < n; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "$1 never showed /$2/: $(cat "$1")"
}

qsd_start() {
	qemu-storage-daemon --blockdev driver=null-co,node-name=n0,size=67108864 \
		--export type=vhost-user-blk,id=e0,node-name=n0,addr.type=unix,addr.path="$BSOCK",writable=on \
		>"$BATS_TEST_TMPDIR/qsd.log" 2>&1 3>&- &
	QSD_PID=$!
	local i
	for ((i = 0; i < 3000; i++)); do
		[ -S "$BSOCK" ] && break
		sleep 0.02
	done
	# The socket exists from bind(), before listen(): one round trip
	# (retried while refused) says the daemon accepts.
	[ -S "$BSOCK" ] && "$VHUCTL" -s "$BSOCK" -w 60 get-features >/dev/null ||
		fail "qemu-storage-daemon does not accept on $BSOCK: $(cat "$BATS_TEST_TMPDIR/qsd.log")"
}

proxy_start() {
	"$VHUCTL" proxy -j -T blk --listen "$PSOCK" --connect "$BSOCK" "$@" >"$POUT" \
		2>"$BATS_TEST_TMPDIR/proxy.err" 3>&- &
	PROXY_PID=$!
	wait_line "$POUT" '"event":"listen"'
}

# jq -e FILTER over the JSON lines as one array.
jl() {
	jq -e -s "$1" "$POUT" >/dev/null || fail "jq -e '$1' is false; lines: $(cat "$POUT")"
}

@test "QEMU realizes and starts vhost-user-blk through the proxy; the JSON lines carry the real values" {
	qsd_start
	proxy_start --pcapng "$D/cap.pcapng"
	qemu-system-x86_64 -accel tcg -machine q35,memory-backend=mem -m 256M \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-nographic -nodefaults -serial none -monitor none -S \
		-chardev socket,id=c0,path="$PSOCK" -device vhost-user-blk-pci,chardev=c0,num-queues=1 \
		-qmp unix:"$QMP",server=on,wait=off >"$BATS_TEST_TMPDIR/qemu.log" 2>&1 3>&- &
	QEMU_PID=$!
	# The QMP greeting comes once the device was realized (GET_CONFIG).
	run python3 "$BATS_TEST_DIRNAME/qmp.py" "$QMP" cont
	assert_success
	jl 'map(select(.name == "GET_CONFIG" and .reply)) | length == 1'
	# SeaBIOS probes the disk: QEMU starts the device, ring 0 enabled.
	wait_line "$POUT" '"name":"SET_VRING_ENABLE".*"decoded":\{"vring":0,"num":1\}' 120
	run python3 "$BATS_TEST_DIRNAME/qmp.py" "$QMP" quit
	assert_success
	wait "$QEMU_PID" || fail "QEMU failed: $(cat "$BATS_TEST_TMPDIR/qemu.log")"
	QEMU_PID=
	wait_line "$POUT" '"event":"end"'
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || fail "proxy exit $?: $(cat "$BATS_TEST_TMPDIR/proxy.err")"
	PROXY_PID=

	# One session, from the bring-up to QEMU's disconnect.
	jl 'map(select(.event == "open")) | length == 1'
	jl 'map(select(.event == "end")) | .[0].note | test("front-end closed the connection")'
	# The daemon's offer and QEMU's choices, as on the wire.
	jl "map(select(.name == \"GET_FEATURES\" and .reply)) | length >= 1 and
		all(.decoded.features.mask == \"$QSD_FEATURES\" and .rtt_us >= 0 and .flags == \"0x5\")"
	jl "map(select(.name == \"GET_FEATURES\" and .reply)) | .[0].decoded.features.names |
		index(\"VIRTIO_BLK_F_SEG_MAX\") != null"
	jl "map(select(.name == \"GET_PROTOCOL_FEATURES\" and .reply)) | .[0].decoded.protocol_features.mask == \"$QSD_PROTOCOL\""
	jl 'map(select(.name == "SET_PROTOCOL_FEATURES")) | .[0] | .dir == "F>B" and .size == 8 and (.expect == null)'
	jl 'map(select(.name == "SET_BACKEND_REQ_FD" and (.reply | not))) | .[0] |
		.interposed and .fd_info == [{"type": "socket"}] and .need_reply and .expect == "ack"'
	jl 'map(select(.name == "GET_CONFIG" and .reply)) | .[0].decoded | .offset == 0 and .size > 0'
	jl 'map(select(.name == "SET_FEATURES")) | length >= 1 and
		all(.decoded.features.names | index("VIRTIO_F_VERSION_1") != null)'
	# Guest memory: QEMU's 256 MiB memfd, at guest-physical 0.
	jl 'map(select((.name == "ADD_MEM_REG" or .name == "SET_MEM_TABLE") and (.reply | not))) | .[0] |
		.fd_info[0].type == "memfd" and .fd_info[0].size == 268435456'
	jl 'map(select(.name == "ADD_MEM_REG" and (.reply | not))) | .[0].decoded | .gpa == "0x0" and .size == "0x10000000"'
	jl 'map(select(.name == "SET_VRING_NUM")) | .[0].decoded == {"vring": 0, "num": 128}'
	jl 'map(select(.name == "SET_VRING_KICK" or .name == "SET_VRING_CALL")) | length >= 2 and
		all(.fd_info == [{"type": "eventfd"}])'
	jl 'map(select(.name == "GET_VRING_BASE" and .reply)) | length >= 1 and all(.rtt_us >= 0)'
	# Every request that expects an answer got exactly one; nothing invalid.
	jl '(map(select(.event == "message" and .expect != null)) | length) ==
		(map(select(.event == "message" and .reply and .rtt_us != null)) | length)'
	jl 'map(select(.invalid != null)) | length == 0'

	# The capture: vhuctl decode prints the same lines; Wireshark's Lua
	# dissector lists the same messages.
	run "$VHUCTL" -j -T blk decode "$D/cap.pcapng"
	assert_success
	[ "$output" = "$(cat "$POUT")" ] || fail "decode differs: $(diff <(echo "$output") "$POUT")"
	if command -v tshark >/dev/null; then
		run tshark -X lua_script:"$VHU_SRC/contrib/wireshark/vhost-user.lua" -r "$D/cap.pcapng" \
			-Y 'vhost_user.kind == 0' -T fields -e vhost_user.session -e vhost_user.dir -e vhost_user.name
		assert_success
		diff <(grep -v '^Running as' <<<"$output") \
			<(jq -r 'select(.event == "message") | [.session, .dir, .name] | @tsv' "$POUT") ||
			fail "tshark and the JSON lines differ"
	fi
}

@test "vhuctl probe through the proxy against qemu-storage-daemon equals the direct probe" {
	qsd_start
	run "$VHUCTL" -s "$BSOCK" -T blk -j probe
	assert_success
	direct=$(jq -S 'del(.vhuctl, .socket)' <<<"$output")
	proxy_start --sessions 1
	run "$VHUCTL" -s "$PSOCK" -T blk -j probe
	assert_success
	[ "$(jq -S 'del(.vhuctl, .socket)' <<<"$output")" = "$direct" ] || fail "direct: $direct; proxied: $output"
	wait "$PROXY_PID" || fail "proxy exit $?"
	PROXY_PID=
	jl 'map(select(.event == "message")) | length > 8'
}
