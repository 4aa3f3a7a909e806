#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# device-state save/load/check against the mock back-end (and, for the
# stalls the mock cannot stage, a tiny Python back-end).  Every failure
# checks the exit status, a one-line stderr naming the request, that FILE
# kept its content and that no temporary was left next to it.

load helpers

# The mock's SAVE stream: byte i = (i*31+7) & 0xff.
pattern_sha() {
	python3 -c 'import hashlib,sys
n=int(sys.argv[1]); h=hashlib.sha256(); b=bytes((i*31+7)&0xff for i in range(256))
h.update(b*(n//256)+b[:n%256]); print(h.hexdigest())' "$1"
}

setup() {
	D=$BATS_TEST_TMPDIR/d
	mkdir -p "$D"
	F=$D/state.bin
	printf 'previous state, must survive\n' >"$F"
	cp "$F" "$BATS_TEST_TMPDIR/orig"
}

# FILE still holds what setup put there, and is alone in its directory.
assert_file_untouched() {
	cmp -s "$F" "$BATS_TEST_TMPDIR/orig" || fail "FILE was modified: $(od -c "$F" | head -3)"
	[ "$(ls -A "$D")" = "state.bin" ] || fail "left next to FILE: $(ls -A "$D")"
}

# ---- success paths --------------------------------------------------------

@test "save, load, save of a 16 MiB state: same SHA-256, same bytes, mock sees match=1" {
	mock_start --state-size 16777216
	run --separate-stderr vhu -j device-state save "$F"
	assert_success
	assert_json '.device_state == {"direction":"save","bytes":16777216,"sha256":.device_state.sha256,"file":.device_state.file,"backend_fd":false}'
	sha1=$(jqr .device_state.sha256)
	[ "$sha1" = "$(sha256sum "$F" | cut -d' ' -f1)" ] || fail "reported sha $sha1 is not the file's"
	[ "$sha1" = "$(pattern_sha 16777216)" ] || fail "file is not the mock's stream"
	[ "$(jqr .device_state.file)" = "$F" ]
	[ "$(ls -A "$D")" = "state.bin" ]
	cp "$F" "$BATS_TEST_TMPDIR/first"

	before=$(sha256sum "$F")
	run --separate-stderr vhu -j device-state load "$F"
	assert_success
	assert_json '.device_state.direction == "load" and .device_state.bytes == 16777216 and .device_state.backend_fd == false'
	[ "$(jqr .device_state.sha256)" = "$sha1" ]
	[ "$(sha256sum "$F")" = "$before" ] || fail "load modified FILE"
	grep -qx 'LOADED bytes=16777216 match=1' "$MOCK_LOG" || fail "log: $(mock_log)"

	run --separate-stderr vhu -j device-state save "$F"
	assert_success
	[ "$(jqr .device_state.sha256)" = "$sha1" ]
	cmp "$F" "$BATS_TEST_TMPDIR/first"
	[ "$(ls -A "$D")" = "state.bin" ]
}

@test "save: text output, request order, pipe end passed, file mode 0600" {
	mock_start --state-size 5000
	run --separate-stderr vhu device-state save "$F"
	assert_success
	assert_line --regexp '^Device state:$'
	assert_line --regexp '^  Direction: +save$'
	assert_line --regexp '^  Bytes: +5000$'
	assert_line --regexp "^  SHA-256: +$(pattern_sha 5000)\$"
	assert_line --regexp "^  Back-end's own fd: +no\$"
	[ -z "$stderr" ]
	[ "$(grep -v '^GET_FEATURES' "$MOCK_LOG" | cut -d' ' -f1 | paste -sd' ')" = \
		"GET_PROTOCOL_FEATURES SET_PROTOCOL_FEATURES SET_OWNER SET_DEVICE_STATE_FD CHECK_DEVICE_STATE" ] ||
		fail "log: $(mock_log)"
	grep -qx 'SET_DEVICE_STATE_FD flags=0x1 size=8 fds=1' "$MOCK_LOG"
	[ "$(stat -c %a "$F")" = 600 ]
	[ "$(stat -c %s "$F")" = 5000 ]
}

@test "save of an empty state gives an empty FILE" {
	mock_start --state-size 0
	run --separate-stderr vhu -j device-state save "$F"
	assert_success
	assert_json '.device_state.bytes == 0'
	[ "$(jqr .device_state.sha256)" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]
	[ ! -s "$F" ]
}

@test "ds-own-fd: save and load go through the back-end's fd (backend_fd true)" {
	mock_start --state-size 100000 --fault SET_DEVICE_STATE_FD:ds-own-fd
	run --separate-stderr vhu -j device-state save "$F"
	assert_success
	assert_json '.device_state.backend_fd == true and .device_state.bytes == 100000'
	[ "$(jqr .device_state.sha256)" = "$(pattern_sha 100000)" ]
	[ "$(sha256sum <"$F" | cut -d' ' -f1)" = "$(pattern_sha 100000)" ]
	run --separate-stderr vhu -j device-state load "$F"
	assert_success
	assert_json '.device_state.backend_fd == true and .device_state.bytes == 100000'
	grep -qx 'LOADED bytes=100000 match=1' "$MOCK_LOG" || fail "log: $(mock_log)"
	run vhu device-state save "$F"
	assert_line --regexp "^  Back-end's own fd: +yes\$"
}

@test "check alone sends CHECK_DEVICE_STATE and no transfer" {
	mock_start
	run --separate-stderr vhu -j device-state check
	assert_success
	assert_json '.device_state == {"direction":"check","check_status":0}'
	[ "$(mock_count CHECK_DEVICE_STATE)" -eq 1 ]
	[ "$(mock_count SET_DEVICE_STATE_FD)" -eq 0 ]
	[ "$(mock_count GET_VRING_BASE)" -eq 0 ]
}

@test "rings started earlier in the batch are stopped with GET_VRING_BASE first" {
	mock_start --state-size 1000
	printf '%s\n' 'set-vring-kick 0' 'set-vring-kick 1' "device-state save $F" >"$BATS_TEST_TMPDIR/steps"
	run --separate-stderr vhu batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	[[ $stderr == *"ring 0 was started in this session: stopped it with GET_VRING_BASE"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"ring 1 was started"* ]] || fail "stderr: $stderr"
	[ "$(grep -E '^(GET_VRING_BASE|SET_DEVICE_STATE_FD|CHECK_DEVICE_STATE) ' "$MOCK_LOG" | cut -d' ' -f1 | paste -sd' ')" = \
		"GET_VRING_BASE GET_VRING_BASE SET_DEVICE_STATE_FD CHECK_DEVICE_STATE" ] || fail "log: $(mock_log)"
	[ "$(stat -c %s "$F")" = 1000 ]
}

@test "without started rings no GET_VRING_BASE is sent" {
	mock_start
	run --separate-stderr vhu device-state save "$F"
	assert_success
	[ "$(mock_count GET_VRING_BASE)" -eq 0 ]
}

@test "batch: save then check on one connection" {
	mock_start --once --state-size 3000
	printf '%s\n' "device-state save $F" 'device-state check' "device-state load $F" >"$BATS_TEST_TMPDIR/steps"
	run --separate-stderr vhu -j batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	assert_json '.steps[0].device_state.bytes == 3000 and .steps[1].device_state.check_status == 0'
	assert_json '.steps[2].device_state.direction == "load"'
	[ "$(mock_count SET_OWNER)" -eq 1 ]
	grep -qx 'LOADED bytes=3000 match=1' "$MOCK_LOG"
}

# ---- failures: FILE untouched, no temporary --------------------------------

@test "ds-error: save exits 1, FILE untouched, no temporary" {
	mock_start --fault SET_DEVICE_STATE_FD:ds-error
	run --separate-stderr vhu device-state save "$F"
	assert_failure 1
	assert_one_line_error SET_DEVICE_STATE_FD
	[[ $stderr == *"refused the transfer (error 1, reply 0x101)"* ]] || fail "stderr: $stderr"
	assert_file_untouched
	[ "$(mock_count CHECK_DEVICE_STATE)" -eq 0 ]
}

@test "ds-error: load exits 1, FILE unchanged" {
	mock_start --fault SET_DEVICE_STATE_FD:ds-error
	run --separate-stderr vhu -j device-state load "$F"
	assert_failure 1
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_json '.vhuctl.exit_status == 1 and (.error | startswith("SET_DEVICE_STATE_FD:"))'
	assert_file_untouched
}

@test "ds-bad-fds: no-fd flag with an fd is a protocol violation (2)" {
	mock_start --fault SET_DEVICE_STATE_FD:ds-bad-fds
	run --separate-stderr vhu device-state save "$F"
	assert_failure 2
	assert_one_line_error SET_DEVICE_STATE_FD
	[[ $stderr == *"says no fd follows (bit 8) but carries 1"* ]] || fail "stderr: $stderr"
	assert_file_untouched
	run --separate-stderr vhu device-state load "$F"
	assert_failure 2
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_file_untouched
}

@test "ds-own-fd + ds-bad-fds: an fd with bit 8 set is refused (2)" {
	mock_start --fault SET_DEVICE_STATE_FD:ds-own-fd --fault SET_DEVICE_STATE_FD:ds-bad-fds
	run --separate-stderr vhu device-state save "$F"
	assert_failure 2
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_file_untouched
}

@test "too many fds in the reply: 2" {
	mock_start --fault SET_DEVICE_STATE_FD:too-many-fds
	run --separate-stderr vhu device-state save "$F"
	assert_failure 2
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_file_untouched
}

@test "check-fail: save exits 1 after the transfer, FILE untouched, no temporary" {
	mock_start --state-size 200000 --fault CHECK_DEVICE_STATE:check-fail
	run --separate-stderr vhu device-state save "$F"
	assert_failure 1
	assert_one_line_error CHECK_DEVICE_STATE
	[[ $stderr == *"CHECK_DEVICE_STATE: back-end reports the transfer failed (1)"* ]] || fail "stderr: $stderr"
	assert_file_untouched
}

@test "check-fail: load exits 1, FILE unchanged; check alone exits 1 with check_status" {
	mock_start --fault CHECK_DEVICE_STATE:check-fail
	run --separate-stderr vhu device-state load "$F"
	assert_failure 1
	assert_one_line_error CHECK_DEVICE_STATE
	assert_file_untouched
	run --separate-stderr vhu -j device-state check
	assert_failure 1
	assert_one_line_error CHECK_DEVICE_STATE
	assert_json '.device_state.check_status == 1 and .vhuctl.exit_status == 1'
}

@test "ds-truncate: a short SAVE the back-end vouches for cannot be told apart (mock semantics)" {
	# The stream has no length: EOF is the end.  The mock closes after N
	# bytes and CHECK_DEVICE_STATE still answers 0, so the save succeeds
	# with N bytes; only the back-end's check could have caught it.
	mock_start --state-size 100000 --fault SET_DEVICE_STATE_FD:ds-truncate:1234
	run --separate-stderr vhu -j device-state save "$F"
	assert_success
	assert_json '.device_state.bytes == 1234'
	[ "$(stat -c %s "$F")" = 1234 ]
}

@test "ds-truncate + check-fail: exit 1, FILE untouched, no temporary" {
	mock_start --state-size 100000 --fault SET_DEVICE_STATE_FD:ds-truncate \
		--fault CHECK_DEVICE_STATE:check-fail
	run --separate-stderr vhu device-state save "$F"
	assert_failure 1
	assert_one_line_error CHECK_DEVICE_STATE
	assert_file_untouched
}

@test "the back-end closes the connection on SET_DEVICE_STATE_FD: 74" {
	mock_start --fault SET_DEVICE_STATE_FD:close
	run --separate-stderr vhu device-state save "$F"
	assert_failure 74
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_file_untouched
}

@test "no SET_DEVICE_STATE_FD reply within -t: 75" {
	mock_start --fault SET_DEVICE_STATE_FD:silent
	run_timed --separate-stderr vhu -t 1 device-state save "$F"
	assert_failure 75
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_file_untouched
	[ "$ELAPSED_MS" -lt 15000 ]
}

@test "gating: no DEVICE_STATE offered: 3, nothing transferred, no SET_OWNER" {
	mock_start --protocol-features 0x5b22b
	for sub in save load; do
		run --separate-stderr vhu device-state $sub "$F"
		assert_failure 3
		assert_one_line_error VHOST_USER_PROTOCOL_F_DEVICE_STATE
		[[ $stderr == *SET_DEVICE_STATE_FD* ]] || fail "stderr: $stderr"
		assert_file_untouched
	done
	run --separate-stderr vhu device-state check
	assert_failure 3
	assert_one_line_error CHECK_DEVICE_STATE
	! grep -qE '^(SET_DEVICE_STATE_FD|CHECK_DEVICE_STATE|SET_OWNER) ' "$MOCK_LOG" || fail "log: $(mock_log)"
}

@test "gating: no protocol features at all: 3" {
	mock_start --features 0x100000000
	run --separate-stderr vhu device-state save "$F"
	assert_failure 3
	assert_one_line_error SET_DEVICE_STATE_FD
	assert_file_untouched
	[ "$(mock_count SET_DEVICE_STATE_FD)" -eq 0 ]
}

# ---- usage: refused before connecting --------------------------------------

@test "usage errors send nothing: 64" {
	mock_start
	run --separate-stderr vhu device-state
	assert_failure 64
	run --separate-stderr vhu device-state dump "$F"
	assert_failure 64
	[[ $stderr == *"unknown device-state subcommand 'dump'"* ]] || fail "stderr: $stderr"
	run --separate-stderr vhu device-state save
	assert_failure 64
	run --separate-stderr vhu device-state check "$F"
	assert_failure 64
	run --separate-stderr vhu device-state load "$D/missing"
	assert_failure 64
	assert_one_line_error "$D/missing"
	run --separate-stderr vhu device-state save "$D/no/such/dir/f"
	assert_failure 64
	assert_one_line_error "cannot create a temporary file"
	run --separate-stderr vhu device-state save "$D"
	assert_failure 64
	assert_file_untouched
	[ ! -s "$MOCK_LOG" ] || fail "log: $(mock_log)"
}

@test "--help" {
	run "$VHUCTL" device-state --help
	assert_success
	assert_output --partial 'save FILE'
	assert_output --partial 'CHECK_DEVICE_STATE'
}

# ---- fd hygiene ------------------------------------------------------------

@test "valgrind: no fd left open after save, load, a back-end fd and a bad reply" {
	require_valgrind
	# valgrind cannot run an ASan binary (the runtime must come first).
	if [ -n "${VHU_SANITIZED:-}" ] || ldd "$VHUCTL" 2>/dev/null | grep -q libasan; then
		skip "vhuctl is built with ASan: valgrind cannot run it"
	fi
	mock_start --state-size 70000
	run vhu_valgrind device-state save "$F"
	assert_success
	assert_no_fd_leak
	run vhu_valgrind device-state load "$F"
	assert_success
	assert_no_fd_leak
	mock_stop
	mock_start --fault SET_DEVICE_STATE_FD:ds-own-fd
	run vhu_valgrind device-state save "$F"
	assert_success
	assert_no_fd_leak
	mock_stop
	mock_start --fault SET_DEVICE_STATE_FD:ds-bad-fds
	run vhu_valgrind device-state save "$F"
	assert_failure 2
	assert_no_fd_leak
}

# ---- stalls: a Python back-end that keeps the pipe open and idle -------------

# Serves one connection: features with bit 30, DEVICE_STATE only, acks on
# NEED_REPLY; SET_DEVICE_STATE_FD answers 0x100 and then, by MODE:
#   stall  keep the pipe end, never read or write it
#   close  close it at once (LOAD: the front-end's writes hit EPIPE)
stall_backend() {
	command -v python3 >/dev/null || skip "python3 not installed: no back-end to stage a stall with"
	local dir=$BATS_TEST_TMPDIR
	if [ $((${#dir} + 16)) -gt 100 ]; then
		dir=$(mktemp -d /tmp/vhu-bats.XXXXXX)
		MOCK_SHORT_DIR=$dir
	fi
	SOCK=$dir/stall.sock
	cat >"$BATS_TEST_TMPDIR/stall.py" <<'EOF'
import array, os, socket, struct, sys, time
path, pidfile, mode = sys.argv[1:4]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); srv.listen(1)
with open(pidfile + ".tmp", "w") as f: f.write(str(os.getpid()))
os.rename(pidfile + ".tmp", pidfile)
c, _ = srv.accept()
kept = []
def reply(code, v):
    c.sendall(struct.pack("<IIIQ", code, 0x5, 8, v))
while True:
    fds = array.array("i")
    data, anc, _, _ = c.recvmsg(12, socket.CMSG_SPACE(8 * 4))
    if len(data) < 12:
        break
    for lvl, typ, d in anc:
        fds.frombytes(d[:len(d) - len(d) % 4])
    code, flags, size = struct.unpack("<III", data)
    body = c.recv(size, socket.MSG_WAITALL) if size else b""
    if code == 1: reply(1, (1 << 30) | (1 << 32))
    elif code == 15: reply(15, 1 << 19)
    elif code == 42:
        reply(42, 0x100)
        if mode == "close":
            for fd in fds: os.close(fd)
        else:
            kept.extend(fds)
    elif code == 43: reply(43, 0)
    elif flags & 0x8: reply(code, 0)
time.sleep(30)
EOF
	python3 "$BATS_TEST_TMPDIR/stall.py" "$SOCK" "$BATS_TEST_TMPDIR/stall.pid" "$1" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/stall.err" 3>&- &
	MOCK_PID=$!
	for _ in $(seq 3000); do
		[ -s "$BATS_TEST_TMPDIR/stall.pid" ] && return 0
		sleep 0.02
	done
	fail "stall back-end did not start: $(cat "$BATS_TEST_TMPDIR/stall.err")"
}

@test "stall: SAVE with no data within -t: 75, FILE untouched, no temporary" {
	stall_backend stall
	run_timed --separate-stderr vhu -t 1 device-state save "$F"
	assert_failure 75
	assert_one_line_error "SET_DEVICE_STATE_FD: no state data within 1000 ms"
	assert_file_untouched
	[ "$ELAPSED_MS" -ge 950 ] && [ "$ELAPSED_MS" -lt 15000 ] || fail "took $ELAPSED_MS ms"
}

@test "stall: LOAD the back-end never reads: 75, FILE unchanged" {
	head -c 1048576 /dev/zero >"$F"
	cp "$F" "$BATS_TEST_TMPDIR/orig"
	stall_backend stall
	run_timed --separate-stderr vhu -t 1 device-state load "$F"
	assert_failure 75
	assert_one_line_error "SET_DEVICE_STATE_FD: back-end took no state data within 1000 ms"
	assert_file_untouched
}

@test "LOAD: the back-end closes its end early: short stream, 74" {
	head -c 1048576 /dev/zero >"$F"
	cp "$F" "$BATS_TEST_TMPDIR/orig"
	stall_backend close
	run --separate-stderr vhu -t 2 device-state load "$F"
	assert_failure 74
	assert_one_line_error "SET_DEVICE_STATE_FD: back-end closed its end of the state pipe"
	assert_file_untouched
}
