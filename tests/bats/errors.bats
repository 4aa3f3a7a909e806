#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Which side a failure is blamed on, failures writing stdout, JSON that
# strict parsers accept whatever the input bytes, text that cannot drive a
# terminal, and the wording of messages.

load helpers

# vhuctl with RLIMIT_NOFILE $1 and nothing but stdio open: its socket is
# fd 3, so with a limit of 4 the next fd it needs is over the limit.
vhu_nofile() {
	local limit=$1
	shift
	bash -c 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done
		ulimit -n "$0" && exec "$@"' "$limit" "$VHUCTL" -s "$SOCK" "$@"
}

# vhuctl with stdout redirected as $1 says (">/dev/full", ">&-").
vhu_stdout() {
	local redir=$1
	shift
	bash -c 'eval "exec \"\$@\" $0"' "$redir" "$VHUCTL" -s "$SOCK" "$@"
}

# $output is one JSON document that a strict parser accepts: valid UTF-8
# included (Python decodes stdin leniently in the C locale unless told).
assert_strict_json() {
	printf '%s' "$output" |
		PYTHONIOENCODING=utf-8:strict python3 -c 'import json, sys; json.load(sys.stdin)' ||
		fail "a strict parser rejects: $(printf '%s' "$output" | od -c | head -20)"
}

# ---- blame the right side ----

@test "out of fds: a reply's fd we cannot take is a local I/O error (74), not the back-end's" {
	mock_start
	run --separate-stderr vhu_nofile 4 get-inflight-fd
	assert_failure 74
	assert_one_line_error "GET_INFLIGHT_FD"
	[[ $stderr == *"vhuctl ran out of file descriptors (RLIMIT_NOFILE 4)"* ]] || fail "stderr: $stderr"
	[[ $stderr != *carries* ]] || fail "blamed on the back-end: $stderr"
	run --separate-stderr vhu_nofile 4 -j get-inflight-fd
	assert_failure 74
	assert_json '.vhuctl.exit_status_name == "io_error"'
	assert_json '.error | test("RLIMIT_NOFILE 4")'
}

@test "out of fds: an eventfd we cannot create says so (74)" {
	mock_start
	run --separate-stderr vhu_nofile 4 set-vring-kick 0
	assert_failure 74
	assert_one_line_error "SET_VRING_KICK: eventfd: vhuctl ran out of file descriptors (RLIMIT_NOFILE 4)"
	[ "$(mock_count SET_VRING_KICK)" -eq 0 ]
}

@test "a back-end offering INBAND_NOTIFICATIONS without BACKEND_REQ is at fault (2), nothing sent" {
	# REPLY_ACK (bit 3) and INBAND_NOTIFICATIONS (bit 14), no BACKEND_REQ (bit 5)
	mock_start --protocol-features 0x4008
	run --separate-stderr vhu set-protocol-features offered
	assert_failure 2
	assert_one_line_error "SET_PROTOCOL_FEATURES: inconsistent offer: the back-end offers INBAND_NOTIFICATIONS but not BACKEND_REQ"
	[ "$(mock_count SET_PROTOCOL_FEATURES)" -eq 0 ]
}

@test "asking for INBAND_NOTIFICATIONS without BACKEND_REQ that is offered stays a usage error" {
	mock_start --protocol-features 0x4028
	run --separate-stderr vhu set-protocol-features INBAND_NOTIFICATIONS,REPLY_ACK
	assert_failure 64
	assert_one_line_error "INBAND_NOTIFICATIONS needs BACKEND_REQ and REPLY_ACK"
	[ "$(mock_count SET_PROTOCOL_FEATURES)" -eq 0 ]
}

# ---- output errors ----

@test "stdout on a full device: 74 with one message (text, JSON, --help, --version)" {
	mock_start
	local args
	for args in "get-queue-num" "-j get-queue-num" "--help" "get-features --help" "--version"; do
		# shellcheck disable=SC2086
		run --separate-stderr vhu_stdout ">/dev/full" $args
		[ "$status" -eq 74 ] || fail "$args: exit $status, stderr: $stderr"
		assert_one_line_error "vhuctl: cannot write standard output: No space left on device"
	done
}

@test "closed stdout: 74 with one message, the socket never stands in for it" {
	mock_start
	run --separate-stderr vhu_stdout ">&-" get-queue-num
	assert_failure 74
	assert_one_line_error "vhuctl: cannot write standard output: Bad file descriptor"
	[ "$(mock_count GET_QUEUE_NUM)" -eq 1 ]
}

@test "a failure of its own keeps its exit status when stdout fails too" {
	mock_start --fault SET_OWNER:nak
	run --separate-stderr vhu_stdout ">/dev/full" -j set-owner
	assert_failure 1
	[[ $stderr == *"SET_OWNER"*"refused"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"cannot write standard output"* ]] || fail "stderr: $stderr"
}

@test "batch in text mode stops at the step whose output cannot be written" {
	mock_start
	printf 'get-queue-num\nget-max-mem-slots\n' >"$BATS_TEST_TMPDIR/steps"
	run --separate-stderr vhu_stdout ">/dev/full" batch "$BATS_TEST_TMPDIR/steps"
	assert_failure 74
	assert_one_line_error "cannot write standard output"
	[ "$(mock_count GET_QUEUE_NUM)" -eq 1 ]
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 0 ] || fail "went on writing to nowhere: $(mock_log)"
}

# ---- one valid JSON document ----

@test "-j: invalid UTF-8 in batch lines still gives a document strict parsers accept" {
	mock_start
	printf 'get-queue-num\n\xff\xfe-oops\nget-\xc3(x\n' >"$BATS_TEST_TMPDIR/steps"
	run --separate-stderr vhu -j batch -k "$BATS_TEST_TMPDIR/steps"
	assert_failure 64
	assert_strict_json
	assert_json '.steps | length == 3'
	assert_json '.steps[1].command == "\ufffd\ufffd-oops" and .steps[2].command == "get-\ufffd(x"'
	assert_json '.steps[1].error | test("unknown command .\ufffd\ufffd-oops.")'
}

@test "-j: invalid UTF-8 in a command or a file name gives a strict document" {
	mock_start
	run --separate-stderr vhu -j $'\xff'
	assert_failure 64
	assert_strict_json
	assert_json '.vhuctl.command == "\ufffd"'
	run --separate-stderr vhu -j batch "$BATS_TEST_TMPDIR/"$'\xe9t\xe9'
	assert_failure 64
	assert_strict_json
	assert_json '.error | test("\ufffdt\ufffd")'
}

@test "CMD --help inside a -j batch: help on stderr, stdout one JSON document" {
	mock_start
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-features --help
		get-queue-num
	EOF
	assert_success
	assert_strict_json
	assert_json '[.steps[].command] == ["get-features", "get-queue-num"]'
	assert_json '.steps[1].queue_num == 2'
	[[ $stderr == *"Usage: vhuctl get-features"* ]] || fail "no help on stderr: $stderr"
}

# ---- text that cannot drive a terminal ----

@test "text: control characters in paths and user strings are escaped" {
	mock_start
	local dir link
	dir=$(dirname "$SOCK")
	link="$dir/l"$'\e'"[1m"$'\n'"x"
	ln -s "$SOCK" "$link"
	run --separate-stderr "$VHUCTL" -s "$link" --trace probe
	assert_success
	assert_line --partial 'l\x1b[1m\x0ax'
	[[ $output != *$'\e'* ]] || fail "raw ESC on stdout: $output"
	# the --trace note naming the socket too
	[[ $stderr == *'trace: -- connected to '*'l\x1b[1m\x0ax'* ]] || fail "stderr: $stderr"
	[[ $stderr != *$'\e'* ]] || fail "raw ESC on stderr: $stderr"
	# an error quoting the path stays one line
	run --separate-stderr "$VHUCTL" -s "$dir/no"$'\n'"such" get-features
	assert_failure 69
	assert_one_line_error 'no\x0asuch'
	# a batch step's title line and its error
	run --separate-stderr vhu batch - <<<$'get\e]0;t\afeatures'
	assert_failure 64
	assert_line '[1] get\x1b]0;t\x07features'
	assert_one_line_error 'get\x1b]0;t\x07features'
	[[ $output$stderr != *$'\e'* ]] || fail "raw ESC: $output $stderr"
}

# ---- messages ----

@test "usage errors: one line, 'vhuctl: ' first, the command named" {
	mock_start
	run --separate-stderr vhu get-features --bogus
	assert_failure 64
	assert_equal "$stderr" "vhuctl: get-features: unrecognized option '--bogus' (see \`vhuctl get-features --help\`)"
	run --separate-stderr vhu get-features extra
	assert_failure 64
	assert_equal "$stderr" "vhuctl: get-features: unexpected argument 'extra' (see \`vhuctl get-features --help\`)"
	run --separate-stderr "$VHUCTL" --bogus
	assert_failure 64
	assert_equal "$stderr" "vhuctl: unrecognized option '--bogus' (see \`vhuctl --help\`)"
	run --separate-stderr "$VHUCTL" -t abc get-features
	assert_failure 64
	assert_one_line_error "vhuctl: invalid --timeout 'abc'"
	# JSON carries the same message
	run --separate-stderr vhu -j get-features -T nope
	assert_failure 64
	assert_json '.error == "get-features: unknown device type '"'nope'"' (see `vhuctl list types`)"'
	assert_one_line_error "vhuctl: get-features: unknown device type 'nope'"
	[ ! -s "$MOCK_LOG" ]
}

@test "batch: usage errors are one line each, the line number once" {
	mock_start
	run --separate-stderr vhu batch -k - <<-'EOF'
		set-status "DRIVER
		get-features --bogus
	EOF
	assert_failure 64
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "${stderr_lines[0]}" "vhuctl: line 1: unbalanced quote or too many words"
	assert_equal "${stderr_lines[1]}" \
		"vhuctl: line 2: get-features: unrecognized option '--bogus' (see \`vhuctl get-features --help\`)"
}

@test "messages: one queue, not 1 queues" {
	mock_start --queues 1
	run --separate-stderr vhu set-vring-num 1 64
	assert_failure 64
	assert_one_line_error "ring 1 is beyond the back-end's 1 queue"
	[[ $stderr != *"1 queues"* ]] || fail "stderr: $stderr"
}
