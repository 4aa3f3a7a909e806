#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The listen role (-L PATH): vhuctl creates the socket and a back-end
# connects to it.  The mock plays the client (--connect, as DPDK's
# client=1); every wait is on an event (a log line, a file, a pid).

load helpers

setup() {
	listen_path
}

teardown() {
	bg_reap
	mock_stop
	listen_cleanup
}

@test "-L: probe over the connection a client back-end made; the socket file is gone afterwards" {
	mock_connect "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -j probe
	assert_success
	assert_json '.features.mask == "0x0000000170000000" and .protocol_features.mask == "0x00000000000db22b"'
	assert_json '.role == "listen"'
	[ "$(jqr .socket)" = "$LSOCK" ]
	[ ! -e "$LSOCK" ] || fail "socket file left behind"
	grep -q '^CONNECTED' "$MOCK_LOG"
	grep -q '^GET_PROTOCOL_FEATURES ' "$MOCK_LOG"
}

@test "-L: a command started before the back-end waits for it (--wait)" {
	bg_vhu -L "$LSOCK" --wait 60 -j get-queue-num
	wait_file "$LSOCK"
	mock_connect "$LSOCK"
	bg_wait
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_json '.queue_num == 2'
	[ ! -e "$LSOCK" ]
}

@test "-L: batch, setup and set-backend-req-fd run over the accepted connection" {
	mock_connect "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -j batch - <<<$'get-features\nsetup --rings 2\nset-backend-req-fd\nget-vring-base 1'
	assert_success
	assert_json '[.steps[].exit_status] == [0, 0, 0, 0] and .steps[1].rings == 2'
	[ "$(mock_count SET_VRING_ENABLE)" -eq 2 ]
	[ "$(mock_count SET_BACKEND_REQ_FD)" -eq 1 ]
}

@test "-L and -s together: usage error (64), one line, nothing created or sent" {
	mock_start
	run --separate-stderr "$VHUCTL" -s "$SOCK" -L "$LSOCK" get-features
	assert_failure 64
	assert_one_line_error "-s and -L exclude each other"
	# after the command as well
	run --separate-stderr "$VHUCTL" -L "$LSOCK" get-features -s "$SOCK"
	assert_failure 64
	assert_one_line_error "-s and -L exclude each other"
	[ ! -e "$LSOCK" ]
	[ "$(mock_count GET_FEATURES)" -eq 0 ]
	# $VHUCTL_SOCKET is no -s: -L wins
	mock_stop
	mock_connect "$LSOCK"
	VHUCTL_SOCKET=$SOCK run --separate-stderr "$VHUCTL" -L "$LSOCK" get-features
	assert_success
}

@test "-L on a regular file: 64, the file untouched" {
	printf 'keep me\n' >"$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 0.2 get-features
	assert_failure 64
	assert_one_line_error "a regular file is there, not a stale socket; nothing removed"
	[ "$(cat "$LSOCK")" = "keep me" ]
}

@test "-L on a directory, a FIFO, a link to a socket: 64, nothing removed" {
	mkdir "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 0.2 get-features
	assert_failure 64
	assert_one_line_error "a directory is there"
	[ -d "$LSOCK" ]
	rmdir "$LSOCK"
	mkfifo "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 0.2 get-features
	assert_failure 64
	assert_one_line_error "a FIFO is there"
	[ -p "$LSOCK" ]
	rm "$LSOCK"
	mock_start
	ln -s "$SOCK" "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 0.2 get-features
	assert_failure 64
	assert_one_line_error "a symbolic link is there"
	[ -L "$LSOCK" ]
	[ -S "$SOCK" ]
}

@test "-L on a live socket another process listens on: 69, the socket stays and still serves" {
	mock_start
	run --separate-stderr "$VHUCTL" -L "$SOCK" -t 0.2 get-features
	assert_failure 69
	assert_one_line_error "a live socket (another process accepts connections on it); nothing removed"
	[ -S "$SOCK" ]
	run --separate-stderr "$VHUCTL" -s "$SOCK" get-features
	assert_success
}

@test "-L in a directory without write permission: 69, nothing created" {
	local d=$BATS_TEST_TMPDIR/ro
	command -v setpriv >/dev/null || skip "setpriv not installed"
	mkdir "$d"
	chmod 0555 "$d"
	chmod o+x "$BATS_TEST_TMPDIR"
	# root ignores directory permissions: run as nobody.
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$VHUCTL" -L "$d/s.sock" -t 0.2 get-features
	[ "$status" -ne 126 ] || skip "vhuctl cannot be run as nobody here: $stderr"
	assert_failure 69
	assert_one_line_error "cannot listen on $d/s.sock: Permission denied"
	[ -z "$(ls -A "$d")" ]
}

@test "-L over a stale socket (its listener died): replaced, and removed at exit" {
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$LSOCK"
	[ -S "$LSOCK" ]
	mock_connect "$LSOCK"
	run --separate-stderr "$VHUCTL" -L "$LSOCK" --trace get-features
	assert_success
	[[ $stderr == *"removed the stale socket $LSOCK"* ]] || fail "$stderr"
	[ ! -e "$LSOCK" ]
}

@test "-L: no back-end within max(--wait, --timeout): 69 naming the socket, the file removed" {
	run_timed --separate-stderr "$VHUCTL" -L "$LSOCK" -t 0.3 get-features
	assert_failure 69
	assert_one_line_error "no back-end connected to $LSOCK within 300 ms"
	[ ! -e "$LSOCK" ]
	[ "$ELAPSED_MS" -ge 300 ]
	run --separate-stderr "$VHUCTL" -L "$LSOCK" -t 0.1 --wait 0.4 get-features
	assert_failure 69
	assert_one_line_error "within 400 ms"
}

@test "-L: SIGTERM and SIGINT while waiting for a back-end: 143 / 130, the socket file removed" {
	local sig
	for sig in TERM INT; do
		bg_vhu -L "$LSOCK" -t 60 get-features
		wait_file "$LSOCK"
		kill "-$sig" "$BG_PID"
		bg_wait
		[ "$status" -eq "$([ $sig = TERM ] && echo 143 || echo 130)" ] || fail "SIG$sig: exit $status: $stderr"
		assert_one_line_error "interrupted by SIG$sig"
		[ ! -e "$LSOCK" ] || fail "SIG$sig: socket file left behind"
	done
}

@test "-L: SIGTERM in the middle of a session (watch): 143, the socket file removed" {
	mock_connect "$LSOCK" --backend-msg CONFIG_CHANGE_MSG
	bg_vhu -L "$LSOCK" -t 60 watch
	wait_grep "$BATS_TEST_TMPDIR/bg.out" '^channel: BACKEND_CONFIG_CHANGE_MSG'
	kill -TERM "$BG_PID"
	bg_wait
	[ "$status" -eq 143 ] || fail "exit $status: $stderr"
	[ ! -e "$LSOCK" ]
}

@test "-L: a socket path longer than sun_path is a usage error" {
	run --separate-stderr "$VHUCTL" -L "/tmp/$(printf 'x%.0s' {1..120})" get-features
	assert_failure 64
	assert_one_line_error "socket path too long"
}

@test "-L: another file put in place of our socket meanwhile is not removed at exit" {
	bg_vhu -L "$LSOCK" -t 60 --wait 60 get-features
	wait_file "$LSOCK"
	# Someone replaces the socket file while vhuctl waits ...
	rm "$LSOCK"
	printf 'not yours\n' >"$LSOCK"
	kill -TERM "$BG_PID"
	bg_wait
	[ "$status" -eq 143 ]
	# ... it is left alone.
	[ "$(cat "$LSOCK")" = "not yours" ]
}

@test "-L: no fd left open at exit (valgrind)" {
	require_valgrind
	mock_connect "$LSOCK"
	run bash -c 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done
		exec "$@"' vg valgrind --track-fds=yes --error-exitcode=99 --log-file="$BATS_TEST_TMPDIR/valgrind.log" \
		"$VHUCTL" -L "$LSOCK" -t 10 setup
	assert_success
	assert_no_fd_leak
}
