# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the vhuctl CLI suites (cli, features, faults, config,
# batch).  ctest sets VHUCTL, VHU_MOCK and VHU_SRC; when run by hand they
# default to the in-tree build directory.
#
#   mock_start [mock args...]  start vhu-mock-backend on a fresh socket ($SOCK)
#   mock_stop                  stop it (called from teardown)
#   mock_log                   print the mock's request log
#   mock_count REQ             how many REQ lines the log holds
#   vhu ARGS...                "$VHUCTL" -s "$SOCK" ARGS...
#   run_timed [run flags] CMD  `run`, and ELAPSED_MS = wall time in ms
#   vhu_valgrind ARGS...       vhu under valgrind --track-fds=yes, inherited fds closed
#   assert_no_fd_leak          the last vhu_valgrind run left only stdio open
#   assert_one_line_error REQ  $stderr is exactly one line naming REQ
#   bg_vhu ARGS...             "$VHUCTL" ARGS... in the background ($BG_PID)
#   bg_wait                    wait for it; status, output, stderr... as `run`
#   bg_reap                    kill and reap it if still running (teardown)

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

bats_require_minimum_version 1.5.0

VHU_SRC=${VHU_SRC:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
VHUCTL=${VHUCTL:-$VHU_SRC/build/src/vhuctl}
VHU_MOCK=${VHU_MOCK:-$VHU_SRC/build/tests/vhu-mock-backend}

# Not inherited from the caller: tests give -s explicitly.
unset VHUCTL_SOCKET

MOCK_PID=
MOCK_SEQ=0
BG_PID=

# Start the mock on a fresh socket and wait (at most 60 s) for its pidfile,
# which it writes after listen().  Sets SOCK, MOCK_PID, MOCK_LOG.
mock_start() {
	local dir=$BATS_TEST_TMPDIR i
	MOCK_CONNECT=
	MOCK_SEQ=$((MOCK_SEQ + 1))
	# sun_path holds 107 bytes; a deep TMPDIR must not break the suite.
	if [ $((${#dir} + 16)) -gt 100 ]; then
		dir=$(mktemp -d /tmp/vhu-bats.XXXXXX)
		MOCK_SHORT_DIR=$dir
	fi
	SOCK=$dir/mock$MOCK_SEQ.sock
	MOCK_PIDFILE=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.pid
	MOCK_LOG=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.log
	MOCK_STDERR=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.stderr
	rm -f "$SOCK" "$MOCK_PIDFILE"
	: >"$MOCK_LOG"
	# fd 3 is bats' own: a background child holding it would stall bats.
	"$VHU_MOCK" --socket "$SOCK" --pidfile "$MOCK_PIDFILE" --log "$MOCK_LOG" "$@" \
		</dev/null >/dev/null 2>"$MOCK_STDERR" 3>&- &
	MOCK_PID=$!
	for ((i = 0; i < 3000; i++)); do
		[ -s "$MOCK_PIDFILE" ] && return 0
		if ! kill -0 "$MOCK_PID" 2>/dev/null; then
			wait "$MOCK_PID" 2>/dev/null || true
			echo "mock exited early (args: $*): $(cat "$MOCK_STDERR")" >&2
			MOCK_PID=
			return 1
		fi
		sleep 0.02
	done
	echo "mock did not write $MOCK_PIDFILE within 60 s" >&2
	mock_stop
	return 1
}

# Start the mock as a client on socket $1 (--connect, what DPDK's client=1
# is): it connects, retrying every 20 ms while nobody listens, and again
# after each disconnect.  Waits for its pidfile like mock_start; sets
# MOCK_PID, MOCK_LOG.  The log has CONNECTED / DISCONNECTED lines.
mock_connect() {
	local path=$1 i
	shift
	MOCK_CONNECT=$path
	MOCK_SEQ=$((MOCK_SEQ + 1))
	MOCK_PIDFILE=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.pid
	MOCK_LOG=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.log
	MOCK_STDERR=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.stderr
	rm -f "$MOCK_PIDFILE"
	: >"$MOCK_LOG"
	"$VHU_MOCK" --connect "$path" --pidfile "$MOCK_PIDFILE" --log "$MOCK_LOG" "$@" \
		</dev/null >/dev/null 2>"$MOCK_STDERR" 3>&- &
	MOCK_PID=$!
	for ((i = 0; i < 3000; i++)); do
		[ -s "$MOCK_PIDFILE" ] && return 0
		kill -0 "$MOCK_PID" 2>/dev/null || fail "mock exited early: $(cat "$MOCK_STDERR")"
		sleep 0.02
	done
	fail "mock did not write $MOCK_PIDFILE within 60 s"
}

# Kill the mock at once (SIGKILL: a back-end that crashes) and start a new
# one on the same $SOCK (or, after mock_connect, connecting to the same
# path) with arguments "$@": a back-end restarting.  The new mock logs to
# a new $MOCK_LOG.
mock_restart() {
	kill -KILL "$MOCK_PID" 2>/dev/null || true
	wait "$MOCK_PID" 2>/dev/null || true
	MOCK_PID=
	MOCK_SEQ=$((MOCK_SEQ + 1))
	MOCK_PIDFILE=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.pid
	MOCK_LOG=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.log
	MOCK_STDERR=$BATS_TEST_TMPDIR/mock$MOCK_SEQ.stderr
	: >"$MOCK_LOG"
	local where=(--socket "$SOCK")
	[ -z "${MOCK_CONNECT:-}" ] || where=(--connect "$MOCK_CONNECT")
	# A killed listening mock left its socket file: a stale socket, replaced.
	"$VHU_MOCK" "${where[@]}" --pidfile "$MOCK_PIDFILE" --log "$MOCK_LOG" "$@" \
		</dev/null >/dev/null 2>"$MOCK_STDERR" 3>&- &
	MOCK_PID=$!
	wait_file "$MOCK_PIDFILE"
}

# A path for -L in a directory short enough for sun_path: $LSOCK.
# listen_cleanup (teardown) removes that directory when it is not
# $BATS_TEST_TMPDIR.
listen_path() {
	local dir=$BATS_TEST_TMPDIR
	if [ $((${#dir} + 16)) -gt 100 ]; then
		dir=$(mktemp -d /tmp/vhu-bats.XXXXXX)
		LISTEN_SHORT_DIR=$dir
	fi
	LSOCK=$dir/listen.sock
}

listen_cleanup() {
	if [ -n "${LISTEN_SHORT_DIR:-}" ]; then
		rm -rf "$LISTEN_SHORT_DIR"
		LISTEN_SHORT_DIR=
	fi
}

# Stop the mock: SIGTERM, at most 2 s for it to go, then SIGKILL.
mock_stop() {
	local i
	[ -n "$MOCK_PID" ] || return 0
	kill -TERM "$MOCK_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.02
	done
	kill -KILL "$MOCK_PID" 2>/dev/null || true
	wait "$MOCK_PID" 2>/dev/null || true
	MOCK_PID=
	if [ -n "${MOCK_SHORT_DIR:-}" ]; then
		rm -rf "$MOCK_SHORT_DIR"
		MOCK_SHORT_DIR=
	fi
	return 0
}

# True while the mock process is alive (--once mocks exit by themselves).
mock_alive() {
	[ -n "$MOCK_PID" ] && kill -0 "$MOCK_PID" 2>/dev/null
}

mock_log() {
	cat "$MOCK_LOG"
}

# Forget what the mock logged so far (it appends; truncation is seen).
mock_log_clear() {
	: >"$MOCK_LOG"
}

# Wait (at most 60 s) until the mock's log has a line matching ERE $1.
mock_wait_log() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qE -- "$1" "$MOCK_LOG" && return 0
		sleep 0.02
	done
	fail "mock log never showed /$1/: $(cat "$MOCK_LOG")"
}

# Wait (at most 60 s) until process $1 catches signal $2 (INT, TERM, ...):
# its handler is installed, so the signal will not kill it outright.
wait_sigcatch() {
	local pid=$1 bit i mask
	bit=$(kill -l "$2") || return 1
	for ((i = 0; i < 3000; i++)); do
		mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) ||
			fail "process $pid is gone"
		[ -n "$mask" ] || fail "process $pid is gone"
		(((0x$mask >> (bit - 1)) & 1)) && return 0
		sleep 0.02
	done
	fail "process $pid never caught SIG$2"
}

# Wait (at most 60 s) until process $1 sleeps (state S): e.g. vhuctl
# between two connect attempts under --wait.
wait_sleeping() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -q '^State:.*S (sleeping)' "/proc/$1/status" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || fail "process $1 is gone"
		sleep 0.02
	done
	fail "process $1 never slept"
}

# Wait (at most 60 s) until process $1 is gone; false if it is not.
wait_gone() {
	local i
	for ((i = 0; i < 3000; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.02
	done
	return 1
}

# vhuctl ARGS... in the background, for a test that acts while it runs
# (restarts the back-end, sends a signal); sets BG_PID.  Every signal is at
# its default disposition: a non-interactive shell starts background jobs
# with SIGINT and SIGQUIT ignored, and vhuctl keeps what it inherits as
# ignored.  fd 3 (bats' own) and fd 8 (a test's FIFO writer) are not
# inherited: a child holding them would stall bats or the FIFO's reader.
# Stdout and stderr go to $BATS_TEST_TMPDIR/bg.out and bg.err.
bg_vhu() {
	env --default-signal "$VHUCTL" "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- 8>&- &
	BG_PID=$!
}

# Wait (wait_gone's bound) for the background vhuctl to end; sets status,
# output, lines, stderr and stderr_lines as `run --separate-stderr` does.
# Still running after the bound: killed, and the test fails.
bg_wait() {
	if ! wait_gone "$BG_PID"; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
		BG_PID=
		fail "vhuctl was still running: $(grep -v '^trace:' "$BATS_TEST_TMPDIR/bg.err")"
	fi
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	output=$(cat "$BATS_TEST_TMPDIR/bg.out")
	stderr=$(cat "$BATS_TEST_TMPDIR/bg.err")
	mapfile -t lines <"$BATS_TEST_TMPDIR/bg.out"
	mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/bg.err"
}

# Teardown: the background vhuctl of a test that failed before bg_wait is
# killed and reaped (a no-op when there is none).
bg_reap() {
	if [ -n "${BG_PID:-}" ]; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
		BG_PID=
	fi
	return 0
}

# Wait (at most 60 s) until file $1 exists.
wait_file() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.02
	done
	fail "$1 never appeared"
}

# Wait (at most 60 s) until file $1 has a line matching ERE $2 (the output
# of a command running in the background, say).
wait_grep() {
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "$1 never showed /$2/: $(cat "$1" 2>/dev/null)"
}

# An output FILE ($F) with known contents, alone in its directory ($D),
# and a copy to compare against: for commands that write a file.
state_file_setup() {
	D=$BATS_TEST_TMPDIR/d
	mkdir -p "$D"
	F=$D/state.bin
	printf 'previous state, must survive\n' >"$F"
	cp "$F" "$BATS_TEST_TMPDIR/orig"
}

# FILE still holds what state_file_setup put there, and is alone in $D.
assert_file_untouched() {
	cmp -s "$F" "$BATS_TEST_TMPDIR/orig" || fail "FILE was modified: $(od -c "$F" | head -3)"
	[ "$(ls -A "$D")" = "state.bin" ] || fail "left next to FILE: $(ls -A "$D")"
}

mock_count() {
	grep -c "^$1 " "$MOCK_LOG" || true
}

vhu() {
	"$VHUCTL" -s "$SOCK" "$@"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

run_timed() {
	local t0
	t0=$(date +%s%N)
	run "$@"
	ELAPSED_MS=$((($(date +%s%N) - t0) / 1000000))
}

require_valgrind() {
	command -v valgrind >/dev/null || skip "valgrind not installed"
	# valgrind cannot run an ASan binary (its runtime must come first);
	# the sanitizer build covers memory errors, the normal build runs these.
	[ -z "${VHU_SANITIZED:-}" ] || skip "sanitizer build: valgrind checks run in the normal build"
}

# vhu under valgrind.  Every fd above 2 is closed first, so that whatever
# valgrind reports open at exit was opened by vhuctl.  Exit status 99 means
# valgrind found memory errors.
vhu_valgrind() {
	local VG_LOG=$BATS_TEST_TMPDIR/valgrind.log
	bash -c 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done
		exec "$@"' vg valgrind --track-fds=yes --error-exitcode=99 --log-file="$VG_LOG" \
		"$VHUCTL" -s "$SOCK" "$@"
}

# valgrind prints "FILE DESCRIPTORS: N open (M std) at exit." and then one
# block per non-std fd ("Open file descriptor 5: /dev/null",
# "Open AF_UNIX socket 4: ...") followed by where it was opened, or by
# "<inherited from parent>" (only valgrind's own log file here, since
# vhu_valgrind closes everything else).  A leak is a block opened by vhuctl.
assert_no_fd_leak() {
	local VG_LOG=$BATS_TEST_TMPDIR/valgrind.log leaked
	grep -q 'FILE DESCRIPTORS: [0-9]* open' "$VG_LOG" ||
		fail "no FILE DESCRIPTORS line in the valgrind log: $(cat "$VG_LOG")"
	leaked=$(awk '
		{ sub(/^==[0-9]+== ?/, "") }
		/^Open / { if (cur != "") print cur; cur = $0; next }
		cur != "" && /<inherited from parent>/ { cur = ""; next }
		cur != "" && /[^ ]/ { print cur; cur = "" }
		END { if (cur != "") print cur }' "$VG_LOG")
	[ -z "$leaked" ] || fail "vhuctl left fds open at exit: $leaked"
	! grep -q 'Invalid \(read\|write\|free\)\|uninitialised\|ERROR SUMMARY: [1-9]' "$VG_LOG" ||
		fail "valgrind memory errors: $(cat "$VG_LOG")"
}

# $stderr (from run --separate-stderr) is one line that names $1.
assert_one_line_error() {
	[ "${#stderr_lines[@]}" -eq 1 ] ||
		fail "expected one stderr line, got ${#stderr_lines[@]}: $stderr"
	[[ $stderr == *"$1"* ]] || fail "stderr does not name $1: $stderr"
}

# Stdout ($output) is exactly one JSON document and jq -e FILTER holds.
assert_json() {
	local n
	n=$(jq -s length <<<"$output") || fail "stdout is not JSON: $output"
	[ "$n" -eq 1 ] || fail "stdout holds $n JSON documents: $output"
	jq -e "$1" >/dev/null <<<"$output" || fail "jq -e '$1' is false for: $output"
	json_corpus_add
}

# ctest sets VHU_JSON_CORPUS: keep $output (one JSON document) there for the
# json_schema test, which validates every document against doc/json.
json_corpus_add() {
	[ -n "${VHU_JSON_CORPUS:-}" ] || return 0
	jq -c --arg test "${BATS_TEST_FILENAME##*/}: $BATS_TEST_DESCRIPTION" '{test: $test, document: .}' \
		<<<"$output" >>"$VHU_JSON_CORPUS/${BATS_TEST_FILENAME##*/}.jsonl"
}

# jq -r FILTER on $output.
jqr() {
	jq -r "$1" <<<"$output"
}

teardown() {
	bg_reap
	mock_stop
}

# System calls of the data-path threads (every thread but the main one)
# in the strace -f log $ST: "COUNT NAME" lines.
worker_calls() {
	local main
	main=$(awk 'NR == 1 { print $1 }' "$ST")
	awk -v m="$main" '$1 != m && $2 !~ /^<\.\.\./ { sub(/\(.*/, "", $2); print $2 }' "$ST" | sort | uniq -c
}

# The count of NAME in worker_calls output $1.
ncalls() {
	awk -v n="$2" '$2 == n { print $1; f = 1 } END { if (!f) print 0 }' <<<"$1"
}

# Little-endian hex of value $1 in $2 bytes.
le() {
	local v=$1 n=$2 out= i
	for ((i = 0; i < n; i++)); do
		out+=$(printf '%02x' $(((v >> (8 * i)) & 0xff)))
	done
	echo "$out"
}

# $1 zero bytes as hex.
zeros() {
	local n=$1 out= i
	for ((i = 0; i < n; i++)); do out+=00; done
	echo "$out"
}
