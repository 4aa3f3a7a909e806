#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl net send | recv against the mock's virtio-net device side
# (tests/mock/mock-dev.c, --net): the mock logs every transmitted frame
# with its header and hands out a fixed sequence of frames on receive, so
# frames are checked byte for byte on split and packed rings; ring faults
# a real back-end never makes are checked for the documented exit status.

load helpers

# A long --timeout wherever the timeout is not the outcome under test.
vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 "$@"
}

# The mock's net features (MRG_RXBUF, INDIRECT_DESC, EVENT_IDX, bit 30,
# VERSION_1), the same with RING_PACKED, and without MRG_RXBUF.
SPLIT_FEATURES=0x170008000
PACKED_FEATURES=0x570008000
NO_MRG_FEATURES=0x170000000

# vhuctl's default frame: 02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4
# 192.0.2.1:1024 > 192.0.2.2:9 UDP "vhuctl", 60 bytes.
DEFAULT_FRAME=02000000000202000000000108004500002e000140004011b6bac0000201c000020204000009001a177576687563746c000000000000000000000000

mock_net() {
	mock_start --net "$@"
}

# The frames the mock saw on its transmit ring, one hex line each.
tx_frames() {
	sed -n 's/^NET_TX q=[0-9]* len=[0-9]* hdr=[0-9a-f]* frame=//p' "$MOCK_LOG"
}

# Write a pcap file $1 (Ethernet, or link type $LINKTYPE) of the hex
# frames $2...
make_pcap() {
	python3 - "$@" <<'EOF'
import os, struct, sys
path, frames = sys.argv[1], sys.argv[2:]
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, int(os.environ.get("LINKTYPE", "1"))))
    for i, h in enumerate(frames):
        b = bytes.fromhex(h)
        f.write(struct.pack("<IIII", 1000 + i, 0, len(b), len(b)) + b)
EOF
}

# Check pcap $1 holds exactly the mock's receive frames $2 .. $2+$3-1
# (frame i: 60 + (i % 5) * 97 bytes, byte j = (7i + j) & 0xff).
check_mock_pcap() {
	python3 - "$@" <<'EOF'
import struct, sys
path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
assert magic == 0xa1b2c3d4 and (vmaj, vmin) == (2, 4) and link == 1, (hex(magic), vmaj, vmin, link)
off, n = 24, 0
while off < len(data):
    sec, usec, caplen, length = struct.unpack("<IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + caplen]
    i = first + n
    want = bytes((7 * i + j) & 0xff for j in range(60 + (i % 5) * 97))
    assert caplen == length == len(frame), (n, caplen, length)
    assert frame == want, "frame %d differs" % n
    off += 16 + caplen
    n += 1
assert n == count, "%d frames, not %d" % (n, count)
EOF
}

@test "net send: the default frame is a valid UDP datagram behind a zero 12-byte header" {
	mock_net
	run --separate-stderr vhu -j net send
	assert_success
	assert_json '.net.operation == "send" and .net.source == "default" and .net.frames == 1 and .net.bytes == 60
		and .net.header_size == 12 and .driver.queues[1].queue == 1 and .driver.queues[1].completed == 1'
	grep -q '^NET_TX q=1 len=60 hdr=000000000000000000000000 frame=' "$MOCK_LOG"
	[ "$(tx_frames)" = "$DEFAULT_FRAME" ]
	# IPv4 header and UDP (with its pseudo header) checksums add up
	python3 - "$(tx_frames)" <<'EOF'
import struct, sys
f = bytes.fromhex(sys.argv[1])
def fold(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s
ip, udp = f[14:34], f[34:]
assert f[12:14] == b"\x08\x00" and ip[9] == 17
assert fold(ip) == 0xffff, "IPv4 checksum"
assert fold(ip[12:20] + b"\0\x11" + struct.pack("!H", len(udp)) + udp) == 0xffff, "UDP checksum"
EOF
}

@test "net send --frame: every frame reaches the device, every ring layout and feature" {
	local frame=ffffffffffff020000000001080645000030 ring ei ind n
	for ring in split packed; do
		mock_stop
		if [ $ring = packed ]; then mock_net --features $PACKED_FEATURES; else mock_net; fi
		for ei in on off; do
			for ind in on off; do
				mock_log_clear
				run --separate-stderr vhu -j net send --count 300 --frame "$frame" --ring $ring \
					--event-idx $ei --indirect $ind --queue-size 64
				assert_success
				assert_json '.net.frames == 300 and .net.bytes == 5400 and .net.source == "frame"'
				n=$(tx_frames | grep -cx "$frame")
				[ "$n" -eq 300 ] || fail "$n frames of 300 seen ($ring, event-idx $ei, indirect $ind)"
				[ "$(tx_frames | wc -l)" -eq 300 ] || fail "other frames seen"
			done
		done
	done
}

@test "net send --pcap: the packets in order, round after round; --count defaults to the packets" {
	local a=0200000000020200000000010800aaaa b c
	b=ffffffffffff0200000000010806$(printf '%0100d' 0)
	c=$(python3 -c 'print("02" * 1514)')
	make_pcap "$BATS_TEST_TMPDIR/in.pcap" $a $b $c
	mock_net
	run --separate-stderr vhu -j net send --pcap "$BATS_TEST_TMPDIR/in.pcap"
	assert_success
	assert_json '.net.frames == 3 and .net.source == "pcap" and .net.bytes == (16 + 64 + 1514)'
	run tx_frames
	assert_output "$(printf '%s\n' $a $b $c)"
	mock_log_clear
	run --separate-stderr vhu net send --pcap "$BATS_TEST_TMPDIR/in.pcap" --count 7 --ring split
	assert_success
	run tx_frames
	assert_output "$(printf '%s\n' $a $b $c $a $b $c $a)"
}

@test "net recv -w FILE: a pcap of exactly the device's frames, every ring layout, with and without MRG_RXBUF" {
	local ring feat
	for ring in split packed; do
		for feat in mrg nomrg; do
			mock_stop
			case $ring-$feat in
			split-mrg) mock_net ;;
			split-nomrg) mock_net --features $NO_MRG_FEATURES ;;
			packed-mrg) mock_net --features $PACKED_FEATURES ;;
			packed-nomrg) mock_net --features 0x570000000 ;;
			esac
			run --separate-stderr vhu -j net recv --count 300 -w "$BATS_TEST_TMPDIR/$ring-$feat.pcap" \
				--ring $ring --queue-size 64
			assert_success
			assert_json '.net.operation == "recv" and .net.frames == 300 and .net.buffers == 300
				and .net.merged == 0 and .net.output != null'
			[ "$(jqr .net.mrg_rxbuf)" = "$([ $feat = mrg ] && echo true || echo false)" ]
			check_mock_pcap "$BATS_TEST_TMPDIR/$ring-$feat.pcap" 0 300
		done
	done
	# the total: sum of 60 + (i % 5) * 97 over 300 frames
	[ "$(jqr .net.bytes)" -eq $((300 * 60 + 60 * (0 + 97 + 194 + 291 + 388))) ]
}

@test "net recv: tcpdump reads the pcap; without -w the frames are only counted" {
	command -v tcpdump >/dev/null || skip "tcpdump not installed"
	mock_net
	run --separate-stderr vhu net recv --count 5 -w "$BATS_TEST_TMPDIR/f.pcap"
	assert_success
	assert_line --regexp '^  Frames: +5$'
	run --separate-stderr tcpdump -n -r "$BATS_TEST_TMPDIR/f.pcap"
	assert_success
	[ "$(grep -c "^[0-9][0-9]:" <<<"$output")" -eq 5 ] || fail "tcpdump: $output"
	assert_line --index 0 --partial 'length 60'
	run --separate-stderr vhu -j net recv --count 4
	assert_success
	assert_json '.net.frames == 4 and (.net | has("output") | not)'
}

@test "net: bad --frame, unusable --pcap, bad operands are usage errors (64), one line, nothing sent" {
	local p=$BATS_TEST_TMPDIR
	mock_net
	printf 'not a pcap file at all, just text\n' >"$p/garbage.pcap"
	make_pcap "$p/short.pcap" 0200000000020200000000010800aaaa 020000000002
	make_pcap "$p/long.pcap" "$(python3 -c 'print("02" * 1515)')"
	make_pcap "$p/empty.pcap"
	LINKTYPE=228 make_pcap "$p/ipv4.pcap" 450000140000000040110000c0000201c0000202
	make_pcap "$p/cut.pcap" 0200000000020200000000010800aaaa
	head -c 30 "$p/cut.pcap" >"$p/trunc.pcap"
	local -a cases=(
		"net send --frame xyz|invalid --frame: not hex bytes"
		"net send --frame 0200000000020200000000010|invalid --frame: not hex bytes"
		"net send --frame 0200000000020200|too short: an Ethernet frame has 14..1514 bytes"
		"net send --frame $(python3 -c 'print("ab" * 1515)')|too long"
		"net send --pcap $p/missing.pcap|--pcap $p/missing.pcap"
		"net send --pcap $p/garbage.pcap|--pcap $p/garbage.pcap"
		"net send --pcap $p/short.pcap|packet 2 has 6 bytes"
		"net send --pcap $p/long.pcap|packet 1 has 1515 bytes"
		"net send --pcap $p/empty.pcap|holds no packets"
		"net send --pcap $p/ipv4.pcap|not Ethernet"
		"net send --pcap $p/trunc.pcap|--pcap $p/trunc.pcap"
		"net send --frame 0200000000020200000000010800 --pcap $p/cut.pcap|not both"
		"net|net needs an operation"
		"net bounce|unknown net operation 'bounce'"
		"net recv --frame 0200000000020200000000010800|--frame and --pcap are for net send"
		"net send -w $p/x.pcap|-w is for net recv"
		"net send --count 0|invalid --count"
		"net recv --rx-buffer 0|invalid --rx-buffer"
		"net send --mrg-rxbuf maybe|invalid --mrg-rxbuf"
		"net send extra|unexpected argument 'extra'"
		"net recv -w $p|-w $p"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run --separate-stderr vhu ${c%%|*}
		[ "$status" -eq 64 ] || fail "'${c%%|*}': exit $status, not 64: $stderr"
		assert_one_line_error "${c#*|}"
		[ -z "$output" ] || fail "'${c%%|*}' printed: $output"
	done
	# none of them reached the back-end
	[ ! -s "$MOCK_LOG" ] || fail "requests sent: $(mock_log)"
}

@test "net recv --rx-buffer below header + 1514 without MRG_RXBUF: 64 before the bring-up" {
	mock_net --features $NO_MRG_FEATURES
	run --separate-stderr vhu net recv --rx-buffer 1525
	assert_failure 64
	assert_one_line_error "without VIRTIO_NET_F_MRG_RXBUF a receive buffer must hold the 12-byte header and a 1514-byte frame (1526 bytes)"
	[ "$(mock_count SET_OWNER)" -eq 0 ]
	run --separate-stderr vhu net recv --rx-buffer 1526 --count 2
	assert_success
	# with MRG_RXBUF offered but refused by the user: the same rule
	mock_stop
	mock_net
	run --separate-stderr vhu net recv --rx-buffer 100 --mrg-rxbuf off
	assert_failure 64
	run --separate-stderr vhu net recv --rx-buffer 11
	assert_failure 64
	assert_one_line_error "--rx-buffer 11 is smaller than the 12-byte virtio-net header"
}

@test "net: features the back-end does not offer are exit 3" {
	mock_net --features $NO_MRG_FEATURES
	run --separate-stderr vhu net recv --mrg-rxbuf on
	assert_failure 3
	assert_one_line_error "VIRTIO_NET_F_MRG_RXBUF"
	run --separate-stderr vhu net send --queue 1
	assert_failure 3
	assert_one_line_error "VIRTIO_NET_F_MQ"
	run --separate-stderr vhu net send --ring packed
	assert_failure 3
	assert_one_line_error "VIRTIO_F_RING_PACKED"
	[ "$(mock_count SET_OWNER)" -eq 0 ]
}

@test "net: a device that never completes ends at --timeout (75); -w FILE keeps its old content" {
	state_file_setup
	mock_net --ring-fault never-complete
	run_timed --separate-stderr "$VHUCTL" -s "$SOCK" -t 1 net send --count 1000
	assert_failure 75
	assert_one_line_error "net send: queue 1: the device took no frame within 1 s (0 of 1000 frames sent)"
	run_timed --separate-stderr "$VHUCTL" -s "$SOCK" -t 1 net recv --count 3 -w "$F"
	assert_failure 75
	assert_one_line_error "net recv: queue 0: no frame arrived within 1 s (0 of 3 frames received)"
	assert_file_untouched
	# a device that stops after 5 frames
	mock_stop
	mock_net --net-frames 5
	run --separate-stderr "$VHUCTL" -s "$SOCK" -t 1 -j net recv --count 10 -w "$F"
	assert_failure 75
	assert_one_line_error "(5 of 10 frames received)"
	assert_json '.net.frames == 5 and .vhuctl.exit_status == 75 and (.net | has("output") | not)'
	assert_file_untouched
}

@test "net: ring faults are protocol violations (2) naming the queue; transmit lengths are not believed" {
	state_file_setup
	mock_net --ring-fault bad-len
	run --separate-stderr vhu net recv --count 3 -w "$F"
	assert_failure 2
	assert_one_line_error "net recv: queue 0, used index 0: used length 2049 exceeds the 2048 device-writable bytes"
	assert_file_untouched
	# a transmit buffer has no writable bytes: its used length says nothing
	run --separate-stderr vhu -j net send --count 20
	assert_success
	assert_json '.net.frames == 20'
	mock_stop
	mock_net --ring-fault bad-id:5
	run --separate-stderr vhu net send --count 20
	assert_failure 2
	assert_one_line_error "net send: queue 1, used index 5: used id"
	mock_stop
	mock_net --features $PACKED_FEATURES --ring-fault wrong-wrap:2
	run --separate-stderr vhu net recv --count 20 --ring packed -w "$F"
	assert_failure 2
	assert_one_line_error "wrong wrap bits"
	assert_file_untouched
}

@test "net recv -w FILE replaces FILE whole and leaves no fd open" {
	require_valgrind
	state_file_setup
	mock_net
	run vhu_valgrind -t 30 net recv --count 50 -w "$F"
	assert_success
	assert_no_fd_leak
	check_mock_pcap "$F" 0 50
	[ "$(ls -A "$D")" = "state.bin" ]
}

# vhuctl in the background with default signal dispositions (a shell's
# background job would ignore SIGINT); bg_wait collects it like `run`.
bg_vhu() {
	env --default-signal "$VHUCTL" -s "$SOCK" "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	BG_PID=$!
}

bg_wait() {
	if ! wait_gone "$BG_PID"; then
		kill -KILL "$BG_PID"
		wait "$BG_PID" 2>/dev/null || true
		fail "vhuctl was still running long after the signal: $(cat "$BATS_TEST_TMPDIR/bg.err")"
	fi
	status=0
	wait "$BG_PID" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/bg.out")
	stderr=$(cat "$BATS_TEST_TMPDIR/bg.err")
	mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/bg.err"
}

@test "net recv waiting for frames: SIGINT / SIGTERM end it at once (130 / 143), -w FILE untouched; both notify modes" {
	local sig notify
	state_file_setup
	for notify in event poll; do
		for sig in INT TERM; do
			mock_net --net-frames 3
			bg_vhu -t 60 -j net recv --count 10 -w "$F" --notify $notify
			mock_wait_log '^NET_RX q=0 frame=2 '
			kill "-$sig" "$BG_PID"
			bg_wait
			[ "$status" -eq "$([ $sig = INT ] && echo 130 || echo 143)" ] ||
				fail "SIG$sig ($notify): exit $status: $stderr"
			assert_one_line_error "net recv: queue 0: interrupted by SIG$sig (3 of 10 frames received)"
			assert_json '.net.frames == 3 and .vhuctl.exit_status_name == "interrupted"'
			assert_file_untouched
			mock_stop
		done
	done
}

@test "libpcap is loaded only by the commands that need it: vhuctl does not link it" {
	command -v ldd >/dev/null || skip "no ldd"
	run ldd "$VHUCTL"
	assert_success
	refute_output --partial libpcap
	refute_output --partial libdbus
}
