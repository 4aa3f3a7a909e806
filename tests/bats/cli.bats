#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Command line: help, version, usage errors, exit statuses, list, JSON on errors.

load helpers

# Command names of --help's "Commands:" section (argp wraps long summaries
# onto lines of their own; those do not start with two spaces and a name).
help_commands() {
	"$VHUCTL" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z][a-z-]* / { print $1 }'
}

# Command names of the table in src/cmds/dispatch.c.
table_commands() {
	sed -n '/^static const struct vhu_cmd cmds\[\] = {/,/^};/p' "$VHU_SRC/src/cmds/dispatch.c" |
		sed -n 's/^[[:space:]]*{ \.name = "\([a-z-]*\)",.*/\1/p'
}

@test "--help exits 0 and lists every command of the command table" {
	run --separate-stderr "$VHUCTL" --help
	assert_success
	assert_output --partial 'Usage: vhuctl'
	assert_output --partial 'Exit status:'
	[ -z "$stderr" ]
	local table help
	table=$(table_commands | sort)
	help=$(help_commands | sort)
	[ "$(wc -l <<<"$table")" -ge 15 ] || fail "could not parse the command table: $table"
	[ "$table" = "$help" ] || fail "$(diff <(echo "$table") <(echo "$help"))"
}

@test "--help documents every exit status" {
	run "$VHUCTL" --help
	assert_success
	local s
	for s in 0 1 2 3 64 69 74 75; do
		assert_line --regexp "^  $s +[A-Za-z]"
	done
}

@test "COMMAND --help exits 0 with the command's usage for every command" {
	local c
	for c in $(help_commands); do
		run "$VHUCTL" "$c" --help
		[ "$status" -eq 0 ] || fail "$c --help exited $status: $output"
		[[ $output == *"Usage: vhuctl $c "* ]] || fail "$c --help lacks its usage line: $output"
		[[ $output == *"--socket=PATH"* ]] || fail "$c --help lacks the global options: $output"
	done
}

@test "COMMAND --help prints no error on stderr (commands with required operands too)" {
	local c bad=
	for c in $(help_commands); do
		run --separate-stderr "$VHUCTL" "$c" --help
		[ "$status" -eq 0 ] || bad+="$c: exit $status; "
		[ -z "$stderr" ] || bad+="$c: $stderr; "
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "COMMAND --help's usage line starts at column 0" {
	local c bad=
	for c in $(help_commands); do
		run --separate-stderr "$VHUCTL" "$c" --help
		[[ ${lines[0]} == "Usage: vhuctl $c "* ]] || bad+="$c: '${lines[0]}'; "
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "--help works without a socket and sends nothing" {
	mock_start
	run "$VHUCTL" get-features --help -s "$SOCK"
	assert_success
	[ ! -s "$MOCK_LOG" ] || fail "help connected: $(mock_log)"
}

@test "--version prints the program version" {
	run --separate-stderr "$VHUCTL" --version
	assert_success
	assert_output --regexp '^vhuctl [0-9]+\.[0-9]+\.[0-9]+'
	[ "${#lines[@]}" -eq 1 ]
	run "$VHUCTL" -V
	assert_success
	assert_output --regexp '^vhuctl [0-9]+\.[0-9]+'
}

@test "--usage exits 0" {
	run "$VHUCTL" --usage
	assert_success
	assert_output --partial 'Usage: vhuctl'
}

@test "unknown command: 64 with a message naming it" {
	run --separate-stderr "$VHUCTL" frobnicate
	assert_failure 64
	[[ $stderr == *"unknown command 'frobnicate'"* ]] || fail "stderr: $stderr"
	[ -z "$output" ]
}

@test "missing command: 64" {
	run --separate-stderr "$VHUCTL"
	assert_failure 64
	[[ $stderr == *COMMAND* ]] || fail "stderr: $stderr"
}

@test "bad global option: 64" {
	run --separate-stderr "$VHUCTL" --no-such-option get-features
	assert_failure 64
	[[ $stderr == *"--no-such-option"* ]] || fail "stderr: $stderr"
}

@test "bad command option: 64 and nothing sent" {
	mock_start
	run --separate-stderr vhu get-features --no-such-option
	assert_failure 64
	[[ $stderr == *"--no-such-option"* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "stray operand: 64" {
	mock_start
	run --separate-stderr vhu get-features extra
	assert_failure 64
	[[ $stderr == *extra* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ]
}

@test "invalid --timeout and --type values: 64" {
	run "$VHUCTL" -t 0 -s /nonexistent get-features
	assert_failure 64
	assert_output --partial 'timeout'
	run "$VHUCTL" -t abc -s /nonexistent get-features
	assert_failure 64
	run "$VHUCTL" -T no-such-type -s /nonexistent get-features
	assert_failure 64
	assert_output --partial 'no-such-type'
}

@test "missing socket: 64, the message mentions -s" {
	run --separate-stderr "$VHUCTL" get-features
	assert_failure 64
	[[ $stderr == *"-s"* ]] || fail "stderr: $stderr"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "stderr: $stderr"
}

@test "VHUCTL_SOCKET is the default socket" {
	mock_start
	VHUCTL_SOCKET=$SOCK run "$VHUCTL" get-queue-num
	assert_success
	assert_output --regexp 'Queues: +2'
}

@test "nonexistent socket: 69 with the path in the message" {
	run --separate-stderr "$VHUCTL" -s "$BATS_TEST_TMPDIR/nothing.sock" get-features
	assert_failure 69
	[[ $stderr == *nothing.sock* ]] || fail "stderr: $stderr"
}

@test "socket path that nobody listens on: 69" {
	mock_start
	mock_stop # the mock unlinks its socket; leave a dead one behind
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
	run "$VHUCTL" -s "$SOCK" get-features
	assert_failure 69
}

@test "-s on a directory or a regular file: 69 saying it is not a socket, at once even with --wait" {
	mkdir "$BATS_TEST_TMPDIR/dir"
	: >"$BATS_TEST_TMPDIR/file"
	run --separate-stderr "$VHUCTL" -s "$BATS_TEST_TMPDIR/dir" -w 30 probe
	assert_failure 69
	assert_one_line_error "$BATS_TEST_TMPDIR/dir: not a socket (a directory)"
	run --separate-stderr "$VHUCTL" -s "$BATS_TEST_TMPDIR/file" -j get-features
	assert_failure 69
	assert_json '.error | test("not a socket \\(a regular file\\)")'
}

@test "--wait retries until the socket appears" {
	local out=$BATS_TEST_TMPDIR/wait.out pid rc=0
	SOCK=$BATS_TEST_TMPDIR/mock1.sock
	"$VHUCTL" -s "$SOCK" -w 60 get-queue-num >"$out" 2>&1 3>&- &
	pid=$!
	# Start the back-end only once vhuctl sleeps between its attempts.
	wait_sleeping "$pid"
	[ ! -e "$SOCK" ]
	mock_start
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit status $rc: $(cat "$out")"
	grep -Eq 'Queues: +2' "$out" || fail "$(cat "$out")"
}

@test "--wait gives up after SECONDS: 69" {
	run_timed "$VHUCTL" -s "$BATS_TEST_TMPDIR/never.sock" -w 0.3 get-features
	assert_failure 69
	[ "$ELAPSED_MS" -ge 250 ] && [ "$ELAPSED_MS" -lt 10000 ] || fail "took $ELAPSED_MS ms"
}

@test "global options after the command: get-features -s SOCK -j" {
	mock_start
	run --separate-stderr "$VHUCTL" get-features -s "$SOCK" -j
	assert_success
	assert_json '.vhuctl.command == "get-features" and .vhuctl.exit_status == 0'
	assert_json '.features.mask == "0x0000000170000000"'
}

@test "global options mixed before and after the command" {
	mock_start
	run --separate-stderr "$VHUCTL" -j get-features -T blk -s "$SOCK" -t 2
	assert_success
	assert_json '.features.names | index("VIRTIO_F_VERSION_1") != null'
}

@test "-p pretty-prints JSON" {
	mock_start
	run --separate-stderr vhu -p get-queue-num
	assert_success
	assert_json '.queue_num == 2'
	[ "${#lines[@]}" -gt 3 ] || fail "not pretty: $output"
}

@test "list works without a socket" {
	run --separate-stderr "$VHUCTL" list
	assert_success
	assert_output --partial 'GET_FEATURES'
	assert_output --partial 'VHOST_USER_PROTOCOL_F_REPLY_ACK'
	assert_output --partial 'VIRTIO_F_VERSION_1'
}

@test "list -j is one JSON document with every section" {
	run --separate-stderr "$VHUCTL" -j list
	assert_success
	assert_json '.vhuctl.exit_status == 0 and .vhuctl.command == "list"'
	assert_json 'has("requests") and has("protocol_features") and has("features") and has("status") and has("types")'
	assert_json '[.requests[] | select(.name == "GET_FEATURES")] | length == 1'
}

@test "list types contains blk and fs (text and JSON)" {
	run "$VHUCTL" list types
	assert_success
	assert_line --regexp '^ +blk +2 '
	assert_line --regexp '^ +fs +26 '
	run --separate-stderr "$VHUCTL" list types -j
	assert_success
	assert_json '[.types[].name] | index("blk") != null and index("fs") != null'
	assert_json '.types[] | select(.name == "blk") | .device_id == 2'
}

@test "list features --type blk names device bits" {
	run "$VHUCTL" -T blk list features
	assert_success
	assert_output --partial 'VIRTIO_BLK_F_FLUSH'
}

@test "list with an unknown section: 64" {
	run "$VHUCTL" list no-such-section
	assert_failure 64
}

@test "-j on usage errors: one JSON document with error and exit_status 64" {
	local args
	for args in "frobnicate" "get-features --no-such-option" "get-features" "set-features" \
		"get-features extra -s /x" "--no-such-option get-features" "get-config -n 300 -s /x"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$VHUCTL" -j $args
		[ "$status" -eq 64 ] || fail "$args: exit $status"
		assert_json '.vhuctl.exit_status == 64'
		assert_json '.error | type == "string" and length > 0'
		[ -n "$stderr" ] || fail "$args: no message on stderr"
	done
}

@test "-j after the command on a usage error still gives JSON" {
	run --separate-stderr "$VHUCTL" get-features -j --no-such-option
	assert_failure 64
	assert_json '.vhuctl.exit_status == 64 and (.error | length > 0)'
}

@test "-j on a connect error: JSON with exit_status 69" {
	run --separate-stderr "$VHUCTL" -j -s "$BATS_TEST_TMPDIR/nothing.sock" get-features
	assert_failure 69
	assert_json '.vhuctl.exit_status == 69 and (.error | test("nothing.sock"))'
	assert_json '.vhuctl.exit_status_name | type == "string"'
}
