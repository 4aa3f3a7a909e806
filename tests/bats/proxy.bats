#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl proxy between vhuctl (or a scripted front-end, frontend.py) and
# the mock back-end: results through the proxy equal the direct ones, the
# JSON lines pair every reply with its request, fds are described, the
# back-end channel is relayed, and a peer that misbehaves ends only its
# own session.  Every wait is for an event (an output line, a socket, a
# process), bounded at 60 s.

load helpers

FRONTEND="python3 $BATS_TEST_DIRNAME/frontend.py"

# A long --timeout for vhuctl: a loaded machine must not turn a pass into 75.
vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

# vhuctl through the proxy.
vhp() {
	"$VHUCTL" -s "$PSOCK" -t 30 "$@"
}

# Wait (at most 60 s) until file $1 has a line matching ERE $2.
wait_line() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "$1 never showed /$2/: $(cat "$1")"
}

# Start the proxy in front of the mock ($SOCK) on $PSOCK; arguments go to
# the proxy.  Waits for its "listen" line, which comes after listen().
proxy_start() {
	PSOCK=$(dirname "$SOCK")/front.sock
	POUT=$BATS_TEST_TMPDIR/proxy.out
	PERR=$BATS_TEST_TMPDIR/proxy.err
	"$VHUCTL" proxy --listen "$PSOCK" --connect "$SOCK" "$@" >"$POUT" 2>"$PERR" 3>&- &
	PROXY_PID=$!
	wait_line "$POUT" 'listening on|"event":"listen"'
}

# Stop it with signal $1 (default TERM); its exit status in PROXY_RC.
proxy_stop() {
	[ -n "${PROXY_PID:-}" ] || return 0
	kill -"${1:-TERM}" "$PROXY_PID" 2>/dev/null || true
	PROXY_RC=0
	wait "$PROXY_PID" || PROXY_RC=$?
	PROXY_PID=
}

# Wait for the proxy to exit by itself (--sessions); status in PROXY_RC.
proxy_wait() {
	wait_gone "$PROXY_PID" || fail "the proxy did not stop: $(cat "$POUT")"
	PROXY_RC=0
	wait "$PROXY_PID" || PROXY_RC=$?
	PROXY_PID=
}

teardown() {
	proxy_stop KILL
	mock_stop
}

# JSON lines of the proxy matching jq filter $1, counted.
jcount() {
	jq -c "select($1)" "$POUT" | wc -l
}

@test "proxy: usage errors are 64 with one line; --raw needs -j" {
	run --separate-stderr "$VHUCTL" proxy --connect /nonexistent
	assert_failure 64
	assert_one_line_error "--listen"
	run --separate-stderr "$VHUCTL" proxy --listen "$BATS_TEST_TMPDIR/f.sock"
	assert_failure 64
	assert_one_line_error "--connect"
	run --separate-stderr "$VHUCTL" proxy --listen "$BATS_TEST_TMPDIR/f.sock" --connect x --raw
	assert_failure 64
	assert_one_line_error "--raw"
	run --separate-stderr "$VHUCTL" proxy --listen "$BATS_TEST_TMPDIR/f.sock" --connect x --sessions 0
	assert_failure 64
	local long
	long=/tmp/$(printf 'x%.0s' $(seq 120))
	run --separate-stderr "$VHUCTL" proxy --listen "$BATS_TEST_TMPDIR/f.sock" --connect "$long"
	assert_failure 64
	assert_one_line_error "socket path too long"
	run --separate-stderr "$VHUCTL" proxy --connect-front "$long" --connect x
	assert_failure 64
	assert_one_line_error "socket path too long"
	[ ! -e "$BATS_TEST_TMPDIR/f.sock" ]
}

@test "proxy: a socket path another proxy listens on is 69; a stale one is taken over" {
	mock_start
	proxy_start
	run --separate-stderr "$VHUCTL" proxy --listen "$PSOCK" --connect "$SOCK"
	assert_failure 69
	assert_one_line_error "$PSOCK"
	proxy_stop KILL
	# SIGKILL left the socket behind: nobody listens on it any more.
	[ -S "$PSOCK" ]
	proxy_start --sessions 1
	run vhp get-features
	assert_success
	proxy_wait
	[ "$PROXY_RC" -eq 0 ]
	[ ! -e "$PSOCK" ] || fail "the socket was left behind"
}

@test "proxy: probe and setup give the same output as direct; each line is flushed as it happens" {
	mock_start
	run vhu probe
	assert_success
	direct_probe=$(grep -v '^Socket:' <<<"$output")
	proxy_start
	run vhp probe
	assert_success
	[ "$(grep -v '^Socket:' <<<"$output")" = "$direct_probe" ] || fail "probe differs: $output"
	# The proxy is still running: what it printed is already in the file.
	wait_line "$POUT" 's1 +-- session ended: front-end closed the connection'
	grep -qE 's1 +F>B main GET_CONFIG flags=0x1 size=268 ' "$POUT"
	grep -qE 's1 +B>F main GET_CONFIG reply flags=0x5 size=268 rtt=[0-9]+us offset=0 size=256' "$POUT"
	grep -qE 's1 +B>F main GET_FEATURES reply flags=0x5 size=8 rtt=[0-9]+us features=0x170000000 ' "$POUT"
	run vhu -j setup
	assert_success
	direct_setup=$(jq -S 'del(.vhuctl)' <<<"$output")
	run vhp -j setup
	assert_success
	[ "$(jq -S 'del(.vhuctl)' <<<"$output")" = "$direct_setup" ] || fail "setup differs: $output"
	# Memory and notification fds are described and passed on.
	wait_line "$POUT" 's2 +F>B main SET_MEM_TABLE flags=0x9 size=40 fds=1 \[memfd:[0-9]+\] nregions=1 \[gpa='
	grep -qE 's2 +F>B main SET_VRING_KICK flags=0x9 size=8 fds=1 \[eventfd\] vring=0' "$POUT"
	proxy_stop TERM
	[ "$PROXY_RC" -eq 0 ] || fail "exit $PROXY_RC: $(cat "$PERR")"
	[ ! -e "$PSOCK" ]
}

@test "proxy -j: JSON lines, replies paired with their requests, fds described" {
	mock_start
	proxy_start -j --sessions 1
	run vhp setup
	assert_success
	proxy_wait
	[ "$PROXY_RC" -eq 0 ] || fail "exit $PROXY_RC: $(cat "$PERR")"
	# Every line is one JSON object; no envelope document at the end.
	jq -e . "$POUT" >/dev/null || fail "not JSON lines: $(cat "$POUT")"
	[ "$(jcount '.vhuctl')" -eq 0 ]
	[ "$(jcount '.event == "listen"')" -eq 1 ]
	[ "$(jcount '.event == "stop"')" -eq 1 ]
	[ "$(jcount '.event == "end" and .session == 1')" -eq 1 ]
	# Every request that expects an answer got exactly one, with an RTT,
	# and no reply came unasked.
	local asked answered
	asked=$(jcount '.event == "message" and .dir == "F>B" and .expect != null')
	answered=$(jcount '.event == "message" and .dir == "B>F" and .reply and .rtt_us >= 0')
	[ "$asked" -gt 10 ] && [ "$asked" -eq "$answered" ] || fail "asked $asked, answered $answered"
	[ "$(jcount '.invalid != null')" -eq 0 ] || fail "$(jq -c 'select(.invalid)' "$POUT")"
	[ "$(jcount '.event == "message" and .dir == "B>F" and (.reply | not)')" -eq 0 ]
	# Field names and values.
	jq -e -s 'map(select(.name == "GET_FEATURES" and .reply)) | .[0] |
		.session == 1 and .chan == false and .code == 1 and .flags == "0x5" and .size == 8 and
		.decoded.features.mask == "0x0000000170000000" and
		(.decoded.features.names | index("VIRTIO_F_VERSION_1") != null) and (.ts | test("Z$")) and .t > 0' \
		"$POUT" >/dev/null || fail "$(grep GET_FEATURES "$POUT")"
	jq -e -s 'map(select(.name == "SET_MEM_TABLE" and (.reply | not))) | .[0] |
		.need_reply and .expect == "ack" and .fds == 1 and .fd_info[0].type == "memfd" and
		.fd_info[0].size > 0 and .decoded.nregions == 1 and (.decoded.regions[0].gpa | startswith("0x"))' \
		"$POUT" >/dev/null || fail "$(grep SET_MEM_TABLE "$POUT")"
	jq -e -s 'map(select(.name == "SET_MEM_TABLE" and .reply)) | .[0] | .decoded.ack == 0 and .rtt_us >= 0' \
		"$POUT" >/dev/null
	jq -e -s 'map(select(.name == "SET_VRING_CALL" and (.reply | not))) | .[0] | .fd_info == [{"type": "eventfd"}]' \
		"$POUT" >/dev/null
}

@test "proxy -j --raw: the bytes of each message, header first" {
	mock_start
	proxy_start -j --raw --sessions 1
	run vhp get-features
	assert_success
	proxy_wait
	jq -e -s 'map(select(.name == "GET_FEATURES")) | .[0].raw == "010000000100000000000000" and
		.[1].raw == "010000000500000008000000" + "0000007001000000"' "$POUT" >/dev/null ||
		fail "$(grep GET_FEATURES "$POUT")"
}

@test "proxy: device-state save through the proxy writes the same bytes as direct" {
	mock_start
	run vhu device-state save "$BATS_TEST_TMPDIR/direct.bin"
	assert_success
	proxy_start -j --sessions 1
	run vhp device-state save "$BATS_TEST_TMPDIR/proxied.bin"
	assert_success
	proxy_wait
	cmp "$BATS_TEST_TMPDIR/direct.bin" "$BATS_TEST_TMPDIR/proxied.bin"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/proxied.bin")" -eq 4096 ]
	# The pipe went through with SET_DEVICE_STATE_FD.
	jq -e -s 'map(select(.name == "SET_DEVICE_STATE_FD" and (.reply | not))) | .[0].fd_info[0].type == "pipe"' \
		"$POUT" >/dev/null || fail "$(grep DEVICE_STATE "$POUT")"
}

@test "proxy: blk read through the proxy equals the disk" {
	DISK=$BATS_TEST_TMPDIR/disk.img
	head -c 2M /dev/urandom >"$DISK"
	# Packed rings offered too (bit 34), so both layouts are driven.
	mock_start --blk "$DISK" --features 0x570007244
	proxy_start
	vhp blk read 0 1M --ring split | cmp - <(head -c 1M "$DISK") || fail "blk read through the proxy differs"
	vhp blk read 512 64K --ring packed --event-idx off | cmp - <(tail -c +513 "$DISK" | head -c 64K) ||
		fail "blk read (packed) through the proxy differs"
	grep -qE 'B>F main GET_VRING_BASE reply .*rtt=' "$POUT"
}

@test "proxy: a second session after the first ended works; each has its own number" {
	mock_start
	proxy_start -j --sessions 2
	run vhp get-queue-num
	assert_success
	assert_output --regexp 'Queues: +2'
	run vhp get-queue-num
	assert_success
	proxy_wait
	[ "$PROXY_RC" -eq 0 ]
	[ "$(jcount '.event == "open"')" -eq 2 ]
	[ "$(jcount '.name == "GET_QUEUE_NUM" and .reply and .session == 2')" -eq 1 ]
	[ "$(mock_count GET_QUEUE_NUM)" -eq 2 ]
}

@test "proxy: messages read together are relayed apart, each with its own fds" {
	local ready=$BATS_TEST_TMPDIR/ready pid
	mock_start
	proxy_start -j --sessions 1
	# Stopped, the proxy reads nothing: both messages are queued when it
	# reads again, and one read takes them together.
	kill -STOP "$PROXY_PID"
	python3 - "$PSOCK" "$ready" >"$BATS_TEST_TMPDIR/fe.out" <<'PY' &
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
efd = os.eventfd(0)
s.sendmsg([struct.pack("<III", 1, 1, 0)])  # GET_FEATURES
s.sendmsg([struct.pack("<IIIQ", 13, 1, 8, 0)],  # SET_VRING_CALL ring 0, an eventfd
          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", efd))])
open(sys.argv[2], "w").close()
data = b""
while len(data) < 20:
    data += s.recv(64)
code, flags, size, features = struct.unpack("<IIIQ", data[:20])
print(code, hex(flags), size, hex(features))
PY
	pid=$!
	wait_file "$ready"
	kill -CONT "$PROXY_PID"
	wait "$pid" || fail "front-end: $(cat "$BATS_TEST_TMPDIR/fe.out")"
	proxy_wait
	[ "$PROXY_RC" -eq 0 ]
	grep -q '^1 0x5 8 0x' "$BATS_TEST_TMPDIR/fe.out"
	# Each message its own line, the fd with the second, nothing invalid.
	jq -se '[.[] | select(.event == "message" and .dir == "F>B")] as $m
		| ($m | map(.name)) == ["GET_FEATURES", "SET_VRING_CALL"]
		and $m[0].fds == 0 and $m[1].fds == 1 and $m[1].fd_info[0].type == "eventfd"
		and all($m[]; has("invalid") | not)' "$POUT"
	grep -q '^SET_VRING_CALL flags=0x1 size=8 fds=1' "$MOCK_LOG"
}

@test "proxy: back-end channel messages are relayed both ways and paired" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply --backend-msg IOTLB_MSG:need-reply
	proxy_start -j
	run vhp watch --count 2
	assert_success
	mock_wait_log 'BACKEND_ACK IOTLB_MSG value=0'
	grep -q 'BACKEND_ACK CONFIG_CHANGE_MSG value=0' "$MOCK_LOG"
	wait_line "$POUT" '"event":"end"'
	[ "$(jcount '.name == "SET_BACKEND_REQ_FD" and .interposed and .fd_info[0].type == "socket"')" -eq 1 ]
	[ "$(jcount '.event == "channel"')" -ge 1 ]
	[ "$(jcount '.chan and .dir == "B>F" and .name == "BACKEND_IOTLB_MSG" and .expect == "ack" and
		.decoded.iova == "0x100000"')" -eq 1 ]
	[ "$(jcount '.chan and .dir == "F>B" and .reply and .name == "BACKEND_IOTLB_MSG" and .rtt_us >= 0 and
		.decoded.ack == 0')" -eq 1 ]
	[ "$(jcount '.chan and .dir == "F>B" and .reply and .name == "BACKEND_CONFIG_CHANGE_MSG"')" -eq 1 ]
}

@test "proxy: a channel answer sent just before the front-end leaves still reaches the back-end" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply
	proxy_start
	run $FRONTEND "$PSOCK" answer-and-leave "$PROXY_PID"
	assert_success
	mock_wait_log 'BACKEND_ACK CONFIG_CHANGE_MSG value=0'
	wait_line "$POUT" 's1 +F>B chan BACKEND_CONFIG_CHANGE_MSG reply flags=0x5 size=8 rtt=[0-9]+us ack=0'
}

@test "proxy: a back-end that blocks on its channel ack while a main reply is due is served" {
	# The mock sends IOTLB_MSG on GET_QUEUE_NUM and waits for the answer
	# before it replies to GET_QUEUE_NUM: one loop must serve both sockets.
	mock_start --backend-msg IOTLB_MSG:need-reply:block:on=GET_QUEUE_NUM
	proxy_start -j
	printf '%s\n' set-backend-req-fd get-queue-num >"$BATS_TEST_TMPDIR/steps"
	run vhp batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	assert_output --regexp 'Queues: +2'
	mock_wait_log 'BACKEND_ACK IOTLB_MSG value=0'
	wait_line "$POUT" '"name":"GET_QUEUE_NUM","reply":true'
}

@test "proxy: invalid replies are relayed and flagged; the front-end sees what it sees directly" {
	mock_start --fault GET_QUEUE_NUM:wrong-code
	run --separate-stderr vhu get-queue-num
	assert_failure 2
	direct=$stderr
	proxy_start -j
	run --separate-stderr vhp get-queue-num
	assert_failure 2
	[ "$stderr" = "$direct" ] || fail "direct: $direct, proxied: $stderr"
	wait_line "$POUT" '"event":"end"'
	# The reply came with the code of SET_VRING_ENABLE: nobody asked for it.
	[ "$(jcount '.name == "SET_VRING_ENABLE" and .reply and (.invalid | test("no request awaits"))')" -eq 1 ] ||
		fail "$(cat "$POUT")"
}

@test "proxy: a front-end sending garbage ends only its own session" {
	mock_start
	proxy_start
	run $FRONTEND "$PSOCK" garbage
	assert_success
	wait_line "$POUT" 's2 +-- session ended: front-end sent a header announcing 2147483647 payload bytes'
	# Session 1 went on: two GET_FEATURES round trips.
	[ "$(grep -cE 's1 +B>F main GET_FEATURES reply' "$POUT")" -eq 2 ]
	run vhp get-features
	assert_success
}

@test "proxy: a front-end that stalls inside a message does not block another; it ends after --timeout" {
	mock_start
	proxy_start -t 30
	run $FRONTEND "$PSOCK" stall
	assert_success
	proxy_stop TERM
	proxy_start -t 1
	run $FRONTEND "$PSOCK" stall wait
	assert_success
	wait_line "$POUT" 's2 +-- session ended: front-end stalls inside a message: 5 of 12 bytes within 1000 ms'
	[ "$(grep -cE 's1 +B>F main GET_FEATURES reply' "$POUT")" -eq 2 ]
}

@test "proxy: a front-end that leaves inside a message, or never reads, ends its session" {
	mock_start
	proxy_start -t 1
	run $FRONTEND "$PSOCK" half-close
	assert_success
	wait_line "$POUT" 's1 +-- session ended: front-end closed the connection inside a message \(15 of 20 bytes\)'
	run $FRONTEND "$PSOCK" no-read
	assert_success
	wait_line "$POUT" 's2 +-- session ended: front-end does not read: [0-9]+ messages queued for 1000 ms'
	run vhp get-features
	assert_success
}

@test "proxy: a back-end that stalls inside a reply, or is not there, ends the session" {
	mock_start --fault GET_QUEUE_NUM:short-silence
	proxy_start -t 1
	run --separate-stderr vhp get-queue-num
	assert_failure 74
	[[ $stderr == *"GET_QUEUE_NUM: back-end closed the connection"* ]] || fail "$stderr"
	wait_line "$POUT" 's1 +-- session ended: back-end stalls inside a message: [0-9]+ of 20 bytes within 1000 ms'
	mock_stop
	run --separate-stderr vhp get-features
	assert_failure 74
	wait_line "$POUT" 's2 +-- session ended: cannot connect to the back-end at '
}

@test "proxy --connect-front: the proxy connects to a front-end in server mode" {
	mock_start
	local F
	F=$(dirname "$SOCK")/server-front.sock
	$FRONTEND "$F" serve-front >"$BATS_TEST_TMPDIR/front.out" 2>&1 3>&- &
	local fpid=$!
	POUT=$BATS_TEST_TMPDIR/proxy.out
	run "$VHUCTL" proxy --connect-front "$F" --connect "$SOCK" --sessions 1
	assert_success
	wait "$fpid" || fail "front-end: $(cat "$BATS_TEST_TMPDIR/front.out")"
	[ "$(cat "$BATS_TEST_TMPDIR/front.out")" = 0x170000000 ]
	assert_output --regexp 's1 +-- front-end connected at .*server-front.sock; back-end connected at '
	assert_output --regexp 's1 +B>F main GET_FEATURES reply flags=0x5 size=8 rtt=[0-9]+us features=0x170000000'
}

@test "proxy --listen-back: a back-end in client mode connects to the proxy; a front-end may not wait for it" {
	local B
	B=$BATS_TEST_TMPDIR/b.sock
	SOCK=$BATS_TEST_TMPDIR/unused.sock
	PSOCK=$BATS_TEST_TMPDIR/f.sock
	POUT=$BATS_TEST_TMPDIR/proxy.out
	"$VHUCTL" proxy --listen "$PSOCK" --listen-back "$B" >"$POUT" 2>&1 3>&- &
	PROXY_PID=$!
	wait_line "$POUT" 'back-end: listening on'
	# No back-end yet: the front-end waits, gives up, and that ends it.
	run --separate-stderr vhp -t 0.5 get-features
	assert_failure 75
	wait_line "$POUT" 's1 +-- session ended: front-end closed the connection before a back-end connected'
	# A back-end connects; before or after the front-end, they are paired.
	$FRONTEND "$B" client-back >"$BATS_TEST_TMPDIR/back.out" 2>&1 3>&- &
	local bpid=$!
	run vhp get-features
	assert_success
	assert_output --regexp 'Features: +0x0000000140000000'
	wait "$bpid" || fail "back-end: $(cat "$BATS_TEST_TMPDIR/back.out")"
	wait_line "$POUT" 's2 +-- session ended'
	proxy_stop TERM
	[ "$PROXY_RC" -eq 0 ]
	[ ! -e "$B" ] && [ ! -e "$PSOCK" ] || fail "a socket was left behind"
}

@test "proxy --pcapng: vhuctl decode prints the capture exactly as the proxy printed it live" {
	mock_start --backend-msg IOTLB_MSG:need-reply
	local CAP=$BATS_TEST_TMPDIR/cap.pcapng
	proxy_start -j --raw --sessions 2 --pcapng "$CAP"
	run vhp setup
	assert_success
	run vhp watch --count 1
	assert_success
	proxy_wait
	[ "$PROXY_RC" -eq 0 ]
	run "$VHUCTL" -j decode --raw "$CAP"
	assert_success
	[ "$output" = "$(cat "$POUT")" ] || fail "decode differs from the live lines: $(diff <(echo "$output") "$POUT")"
	# Text too, and from standard input.
	run "$VHUCTL" -T blk decode - <"$CAP"
	assert_success
	assert_output --regexp 's2 +B>F chan BACKEND_IOTLB_MSG flags=0x9 size=32 iova=0x100000'
	assert_output --regexp 's1 +F>B main SET_MEM_TABLE flags=0x9 size=40 fds=1 \[memfd:[0-9]+\] nregions=1'
}

@test "decode: a file that is not a capture, or a capture cut short, is 64 with one line" {
	printf 'not a capture at all' >"$BATS_TEST_TMPDIR/x"
	run --separate-stderr "$VHUCTL" decode "$BATS_TEST_TMPDIR/x"
	assert_failure 64
	assert_one_line_error "not a pcapng capture"
	run --separate-stderr "$VHUCTL" decode "$BATS_TEST_TMPDIR/missing"
	assert_failure 74
	assert_one_line_error "cannot open"
	mock_start
	local CAP=$BATS_TEST_TMPDIR/cap.pcapng
	# --quiet prints nothing to wait for: the front-end retries (--wait)
	# until the socket accepts.
	PSOCK=$(dirname "$SOCK")/front.sock
	POUT=$BATS_TEST_TMPDIR/proxy.out
	"$VHUCTL" proxy --quiet --sessions 1 --pcapng "$CAP" --listen "$PSOCK" --connect "$SOCK" >"$POUT" 2>&1 3>&- &
	PROXY_PID=$!
	run vhp -w 30 get-features
	assert_success
	proxy_wait
	[ ! -s "$POUT" ] || fail "--quiet printed: $(cat "$POUT")"
	head -c $(($(stat -c %s "$CAP") - 10)) "$CAP" >"$BATS_TEST_TMPDIR/cut.pcapng"
	run --separate-stderr "$VHUCTL" decode "$BATS_TEST_TMPDIR/cut.pcapng"
	assert_failure 64
	assert_one_line_error "cut short"
	# What came before the cut is printed.
	assert_output --regexp 's1 +B>F main GET_FEATURES reply'
	run --separate-stderr "$VHUCTL" proxy --listen "$BATS_TEST_TMPDIR/f.sock" --connect x --quiet
	assert_failure 64
}

@test "Wireshark: the Lua dissector lists the same messages as the JSON lines, and knows every request" {
	command -v tshark >/dev/null || skip "tshark not installed"
	local LUA=$VHU_SRC/contrib/wireshark/vhost-user.lua n
	# Every front-end request of the catalog has its name in the dissector.
	for n in $("$VHUCTL" list -j requests | jq -r '.requests[].name'); do
		grep -q "\"$n\"" "$LUA" || fail "the dissector does not know $n"
	done
	mock_start --backend-msg IOTLB_MSG:need-reply
	local CAP=$BATS_TEST_TMPDIR/cap.pcapng
	proxy_start -j --sessions 2 --pcapng "$CAP"
	run vhp setup
	assert_success
	run vhp watch --count 1
	assert_success
	proxy_wait
	run tshark -X lua_script:"$LUA" -r "$CAP" -Y 'vhost_user.kind == 0' \
		-T fields -e vhost_user.session -e vhost_user.dir -e vhost_user.chan -e vhost_user.name -e vhost_user.flags
	assert_success
	[ "$(grep -cE 'BACKEND_IOTLB_MSG' <<<"$output")" -eq 2 ] || fail "$output"
	local want
	want=$(jq -r 'select(.event == "message") | [.session, .dir, (if .chan then "1" else "0" end), .name,
		.flags] | @tsv' "$POUT" | sed 's/\t0x\([0-9a-f]*\)$/\t0x0000000\1/')
	diff <(grep -v '^Running as' <<<"$output") <(echo "$want") || fail "tshark and the JSON lines differ"
}

@test "proxy: when nobody reads its output any more it ends every session and exits 74" {
	mock_start
	PSOCK=$(dirname "$SOCK")/front.sock
	PERR=$BATS_TEST_TMPDIR/proxy.err
	mkfifo "$BATS_TEST_TMPDIR/out"
	"$VHUCTL" proxy --listen "$PSOCK" --connect "$SOCK" >"$BATS_TEST_TMPDIR/out" 2>"$PERR" 3>&- &
	PROXY_PID=$!
	# Read the first line (written after listen()), then go away.
	exec 4<"$BATS_TEST_TMPDIR/out"
	read -r line <&4
	exec 4<&-
	[[ $line == *"listening on"* ]] || fail "first line: $line"
	run vhp get-features
	proxy_wait
	[ "$PROXY_RC" -eq 74 ] || fail "exit $PROXY_RC: $(cat "$PERR")"
	assert_equal "$(cat "$PERR")" "vhuctl: cannot write standard output: Broken pipe"
	[ ! -e "$PSOCK" ]
}

@test "proxy: no fd is left open after sessions end; SIGINT ends it with 0" {
	mock_start
	proxy_start
	# Settle the fds the process opens once (stdio buffers, locale).
	run vhp get-features
	assert_success
	wait_line "$POUT" 's1 +-- session ended'
	before=$(ls /proc/"$PROXY_PID"/fd | wc -l)
	run vhp setup
	assert_success
	run vhp set-backend-req-fd
	assert_success
	run $FRONTEND "$PSOCK" garbage
	assert_success
	wait_line "$POUT" 's4 +-- session ended'
	wait_line "$POUT" 's5 +-- session ended'
	after=$(ls /proc/"$PROXY_PID"/fd | wc -l)
	[ "$before" -eq "$after" ] || fail "fds: $before before, $after after: $(ls -l /proc/"$PROXY_PID"/fd)"
	proxy_stop INT
	[ "$PROXY_RC" -eq 0 ] || fail "exit $PROXY_RC"
	grep -qE -- '-- [0-9]+ sessions relayed' "$POUT"
	[ ! -e "$PSOCK" ]
}
