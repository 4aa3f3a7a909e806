#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# batch at a terminal: the interactive walkthrough on a pseudo-terminal
# (tests/bats/pty_drive.py), with libedit's line editing, history and
# completion.  Every step waits for the prompt or for the text it expects.

load helpers

PYTHON3=${VHU_PYTHON3:-/usr/bin/python3}

# Run `vhuctl -s SOCK batch` on a pty, typing what the script in $1 says.
drive() {
	printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/script"
	run "$PYTHON3" "$BATS_TEST_DIRNAME/pty_drive.py" "$BATS_TEST_TMPDIR/script" -- \
		"$VHUCTL" -s "$SOCK" batch
	[ "$status" -eq 0 ] || fail "pty_drive: $output"
}

# The exit status pty_drive reports last.
exit_status() {
	sed -n 's/^EXIT \([0-9]*\)\r*$/\1/p' <<<"$output" | tail -1
}

@test "interactive: prompt, a step, its output, quit ends with 0" {
	mock_start
	drive 'expect vhuctl> ' 'send get-queue-num\r' 'expect Queues:' 'expect vhuctl> ' 'send quit\r'
	[ "$(exit_status)" = 0 ] || fail "$output"
	[[ $output == *"connected to $SOCK"* ]] || fail "$output"
	[[ $output == *"[1] get-queue-num"* ]] || fail "$output"
}

@test "interactive: TAB completes a command name, a set option and a device type" {
	mock_start
	drive 'expect vhuctl> ' 'send get-max-m\t\r' 'expect Memory slots:' \
		'expect vhuctl> ' 'send set ty\tbl\t\r' 'expect type:' \
		'expect vhuctl> ' 'send quit\r'
	[ "$(exit_status)" = 0 ] || fail "$output"
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 1 ] || fail "log: $(mock_log)"
	[[ $output == *"blk"* ]] || fail "$output"
	grep -qE 'type: +blk' <<<"$output" || fail "$output"
}

@test "interactive: TAB lists the commands a prefix leaves open" {
	mock_start
	drive 'expect vhuctl> ' 'send set-vring-e\t' 'expect set-vring-err' 'send \x15quit\r'
	[ "$(exit_status)" = 0 ] || fail "$output"
	[[ $output == *"set-vring-enable  set-vring-err"* ]] || fail "$output"
}

@test "interactive: line editing (Ctrl-A, then insert) and history (up arrow) re-run a step" {
	mock_start
	# "et-queue-num", Ctrl-A to the start, "g": get-queue-num
	drive 'expect vhuctl> ' 'send et-queue-num\x01g\r' 'expect Queues:' \
		'expect vhuctl> ' 'send \x1b[A\r' 'expect [2] get-queue-num' 'expect Queues:' \
		'expect vhuctl> ' 'send quit\r'
	[ "$(exit_status)" = 0 ] || fail "$output"
	[ "$(mock_count GET_QUEUE_NUM)" -eq 2 ] || fail "log: $(mock_log)"
}

@test "interactive: state shows the owner after set-owner; a failed step does not end the session" {
	mock_start
	drive 'expect vhuctl> ' 'send bogus\r' "expect unknown command 'bogus'" \
		'expect vhuctl> ' 'send set-owner\r' 'expect Acknowledged:' \
		'expect vhuctl> ' 'send state\r' 'expect owner:' 'expect vhuctl> ' 'send quit\r'
	# the first failure is the batch's status, as for a file
	[ "$(exit_status)" = 64 ] || fail "$output"
	grep -qE 'owner: +yes' <<<"$output" || fail "$output"
}

@test "interactive: help lists the commands and the batch steps" {
	mock_start
	drive 'expect vhuctl> ' 'send help\r' 'expect quit' 'expect vhuctl> ' 'send quit\r'
	[ "$(exit_status)" = 0 ] || fail "$output"
	[[ $output == *"get-queue-num"* && $output == *"set OPTION VALUE"* && $output == *"state "* ]] ||
		fail "$output"
}

@test "interactive: a signal while waiting at the prompt ends the session with 130" {
	mock_start
	drive 'expect vhuctl> ' 'send get-q' 'signal INT'
	[ "$(exit_status)" = 130 ] || fail "$output"
}
