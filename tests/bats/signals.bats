#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# SIGINT, SIGTERM, SIGHUP and SIGQUIT: the wait in progress ends at once,
# what was being written is removed, the error is reported as usual and the
# exit status is 128 + the signal number; watch ends normally on SIGINT.
# Each signal is sent once the mock's log shows that vhuctl is inside the
# wait in question (an event, never a delay).

load helpers

setup() {
	state_file_setup
}

signo() {
	case $1 in
	HUP) echo 1 ;;
	INT) echo 2 ;;
	QUIT) echo 3 ;;
	TERM) echo 15 ;;
	esac
}

# ---- device-state ----------------------------------------------------------

@test "device-state save: each of SIGINT, SIGTERM, SIGHUP, SIGQUIT mid-stream: 128+N, FILE untouched, no temporary" {
	local sig
	for sig in INT TERM HUP QUIT; do
		mock_start --fault SET_DEVICE_STATE_FD:ds-drip:20
		bg_vhu -s "$SOCK" -t 30 device-state save "$F"
		mock_wait_log '^SET_DEVICE_STATE_FD '
		kill "-$sig" "$BG_PID"
		bg_wait
		[ "$status" -eq $((128 + $(signo "$sig"))) ] || fail "SIG$sig: exit $status: $stderr"
		assert_one_line_error "SET_DEVICE_STATE_FD: interrupted by SIG$sig"
		assert_file_untouched
		mock_stop
	done
}

@test "device-state save -j: SIGINT gives the envelope with exit_status 130, \"interrupted\"" {
	mock_start --fault SET_DEVICE_STATE_FD:ds-drip:20
	bg_vhu -s "$SOCK" -t 30 -j device-state save "$F"
	mock_wait_log '^SET_DEVICE_STATE_FD '
	kill -INT "$BG_PID"
	bg_wait
	assert_failure 130
	assert_json '.vhuctl.exit_status == 130 and .vhuctl.exit_status_name == "interrupted"'
	assert_json '.error | startswith("SET_DEVICE_STATE_FD: interrupted by SIGINT")'
	assert_file_untouched
}

@test "device-state load: SIGTERM while the back-end is slow: 143, FILE unchanged" {
	head -c 4194304 /dev/zero >"$F"
	cp "$F" "$BATS_TEST_TMPDIR/orig"
	mock_start --fault SET_DEVICE_STATE_FD:ds-drip:20
	bg_vhu -s "$SOCK" -t 30 device-state load "$F"
	mock_wait_log '^SET_DEVICE_STATE_FD '
	kill -TERM "$BG_PID"
	bg_wait
	assert_failure 143
	assert_one_line_error "SET_DEVICE_STATE_FD: interrupted by SIGTERM"
	assert_file_untouched
}

# ---- any wait --------------------------------------------------------------

@test "a wait for a reply ends at once on SIGTERM: 143 naming the request" {
	mock_start --fault GET_FEATURES:silent
	bg_vhu -s "$SOCK" -t 30 get-features
	mock_wait_log '^GET_FEATURES '
	kill -TERM "$BG_PID"
	bg_wait
	assert_failure 143
	assert_one_line_error "GET_FEATURES: interrupted by SIGTERM"
}

@test "a signal inherited as ignored stays ignored (nohup)" {
	mock_start --fault GET_FEATURES:silent
	( trap '' HUP && exec "$VHUCTL" -s "$SOCK" -t 30 get-features ) \
		>"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	BG_PID=$!
	mock_wait_log '^GET_FEATURES '
	kill -HUP "$BG_PID"
	# Caught, SIGHUP would have ended it with 129 (and this SIGTERM
	# would be a second signal, an immediate exit without the message).
	kill -TERM "$BG_PID"
	bg_wait
	assert_failure 143
	assert_one_line_error "GET_FEATURES: interrupted by SIGTERM"
}

# ---- watch -----------------------------------------------------------------

@test "watch: SIGINT inside a half-read message ends it at once, 0, message dropped with a warning" {
	# The mock sends the header and half the payload of VRING_CALL once
	# the SET_BACKEND_REQ_FD ack is out, and logs when vhuctl has read
	# all of that: vhuctl then waits for the rest of the payload.
	mock_start --backend-msg VRING_CALL:stall:after
	bg_vhu -s "$SOCK" -t 30 -j watch
	mock_wait_log '^BACKEND_CONSUMED VRING_CALL$'
	kill -INT "$BG_PID"
	bg_wait
	assert_success
	assert_json '.stopped_by == "interrupt" and .received == 0 and .vhuctl.exit_status == 0'
	assert_json '.warnings[0] | test("BACKEND_VRING_CALL: interrupted by SIGINT inside the payload \\(4 of 8 bytes\\); the message was dropped")'
}

@test "watch: SIGINT while the set-up waits for its ack: 130 naming the request" {
	mock_start --fault SET_BACKEND_REQ_FD:silent
	bg_vhu -s "$SOCK" -t 30 -j watch
	mock_wait_log '^SET_BACKEND_REQ_FD '
	kill -INT "$BG_PID"
	bg_wait
	assert_failure 130
	assert_json '.vhuctl.exit_status_name == "interrupted" and (.error | startswith("SET_BACKEND_REQ_FD: interrupted by SIGINT"))'
}

@test "watch: SIGTERM completes the document and exits 143" {
	mock_start --backend-msg VRING_CALL:after
	bg_vhu -s "$SOCK" -t 30 -j watch
	mock_wait_log '^BACKEND_SENT VRING_CALL '
	kill -TERM "$BG_PID"
	bg_wait
	assert_failure 143
	assert_json '.stopped_by == "interrupt" and .vhuctl.exit_status == 143 and .vhuctl.exit_status_name == "interrupted"'
}

# ---- batch -----------------------------------------------------------------

@test "batch -k: a signal ends the whole batch, not just the step: 130, later steps not run" {
	mock_start --fault SET_DEVICE_STATE_FD:ds-drip:20
	printf '%s\n' "device-state save $F" get-queue-num >"$BATS_TEST_TMPDIR/steps"
	bg_vhu -s "$SOCK" -t 30 -j batch -k "$BATS_TEST_TMPDIR/steps"
	mock_wait_log '^SET_DEVICE_STATE_FD '
	kill -INT "$BG_PID"
	bg_wait
	assert_failure 130
	assert_json '(.steps | length) == 1 and .steps[0].exit_status == 130 and .vhuctl.exit_status_name == "interrupted"'
	[ "$(mock_count GET_QUEUE_NUM)" -eq 0 ] || fail "log: $(mock_log)"
	assert_file_untouched
}
