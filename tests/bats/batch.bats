#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# batch: many steps on one connection.  The mock runs with --once, so a
# second connection would be refused: every passing batch below proves it
# used one connection.

load helpers

@test "batch FILE: steps run in order on one connection, one negotiation" {
	mock_start --once
	cat >"$BATS_TEST_TMPDIR/steps" <<-'EOF'
		set-owner
		get-queue-num
		get-max-mem-slots
		get-status
	EOF
	run --separate-stderr vhu batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	assert_line --regexp '^\[1\] set-owner$'
	assert_line --regexp '^Queues: +2$'
	assert_line --regexp '^Memory slots: +32$'
	assert_line --regexp '^Status: +0x00$'
	[ "$(mock_count SET_OWNER)" -eq 1 ]
	[ "$(mock_count GET_QUEUE_NUM)" -eq 1 ]
	# features are negotiated once for the session, not once per step
	[ "$(mock_count GET_FEATURES)" -eq 1 ] || fail "log: $(mock_log)"
	[ "$(mock_count GET_PROTOCOL_FEATURES)" -eq 1 ] || fail "log: $(mock_log)"
	[ "$(mock_count SET_PROTOCOL_FEATURES)" -eq 1 ] || fail "log: $(mock_log)"
	assert_equal "$(grep -oE '^[A-Z_]+' "$MOCK_LOG" | tr '\n' ' ')" \
		"GET_FEATURES GET_PROTOCOL_FEATURES SET_PROTOCOL_FEATURES SET_OWNER GET_QUEUE_NUM GET_MAX_MEM_SLOTS GET_STATUS "
}

@test "batch: the --once mock served exactly one connection" {
	mock_start --once
	printf 'get-queue-num\nget-queue-num\n' >"$BATS_TEST_TMPDIR/steps"
	run vhu batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	# the mock exits after its one connection closes
	wait_gone "$MOCK_PID" || fail "the --once mock is still waiting"
	# and a second plain run cannot connect: the first was the only one
	run vhu get-queue-num
	assert_failure 69
}

@test "batch from stdin (- and no operand)" {
	mock_start
	run --separate-stderr vhu batch - <<<"get-queue-num"
	assert_success
	assert_line --regexp '^Queues: +2$'
	run --separate-stderr vhu batch <<<"get-max-mem-slots"
	assert_success
	assert_line --regexp '^Memory slots: +32$'
}

@test "batch: comments and blank lines are ignored" {
	mock_start --once
	printf '# a comment\n\nget-queue-num   # trailing comment\n   # indented comment\n \t \nget-max-mem-slots\n' \
		>"$BATS_TEST_TMPDIR/steps"
	run --separate-stderr vhu -j batch "$BATS_TEST_TMPDIR/steps"
	assert_success
	assert_json '.steps | length == 2'
	assert_json '[.steps[].command] == ["get-queue-num", "get-max-mem-slots"]'
	assert_json '.steps[0].line == 3 and .steps[1].line == 6'
}

@test "batch -j: steps[] with each step's result and exit_status" {
	mock_start --once --queues 5
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-features
		set-owner
		get-queue-num
	EOF
	assert_success
	assert_json '.vhuctl.command == "batch" and .vhuctl.exit_status == 0'
	assert_json '.steps | length == 3'
	assert_json '[.steps[].exit_status] == [0, 0, 0]'
	assert_json '.steps[0].features.mask == "0x0000000170000000"'
	assert_json '.steps[1].request == "SET_OWNER" and .steps[1].acked == true'
	assert_json '.steps[2].queue_num == 5'
	assert_json 'has("error") | not'
}

@test "batch: stops at the first failing step with its status" {
	mock_start --once --fault SET_OWNER:nak
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-queue-num
		set-owner
		get-max-mem-slots
	EOF
	assert_failure 1
	assert_json '.vhuctl.exit_status == 1'
	assert_json '[.steps[].exit_status] == [0, 1]'
	assert_json '.steps[1].error | test("refused")'
	[[ $stderr == *"line 2"*SET_OWNER* ]] || fail "stderr: $stderr"
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 0 ] || fail "ran past the failure: $(mock_log)"
}

@test "batch: a usage error in a step stops the batch with 64" {
	mock_start --once
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-queue-num
		no-such-command
		get-max-mem-slots
	EOF
	assert_failure 64
	assert_json '[.steps[].exit_status] == [0, 64]'
	assert_json '.steps[1].command == "no-such-command"'
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 0 ]
}

@test "batch --keep-going: runs every step, exits with the first failure" {
	mock_start --once --fault SET_OWNER:nak
	run --separate-stderr vhu -j batch --keep-going - <<-'EOF'
		get-queue-num
		set-owner
		no-such-command
		get-max-mem-slots
	EOF
	assert_failure 1
	assert_json '[.steps[].exit_status] == [0, 1, 64, 0]'
	assert_json '.steps[3].max_mem_slots == 32'
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 1 ]
	[ "$(mock_count GET_FEATURES)" -eq 1 ] || fail "log: $(mock_log)"
}

@test "batch -k (short option) in text mode" {
	mock_start --fault GET_STATUS:nak --fault SET_OWNER:nak
	run --separate-stderr vhu batch -k - <<-'EOF'
		set-owner
		get-queue-num
	EOF
	assert_failure 1
	assert_line --regexp '^Queues: +2$'
	[[ $stderr == *"line 1"* ]] || fail "stderr: $stderr"
}

@test "batch: state persists across steps (set-status then get-status)" {
	mock_start --once
	run --separate-stderr vhu -j batch - <<-'EOF'
		set-status ACKNOWLEDGE,DRIVER
		get-status
		reset-device
		get-status
	EOF
	assert_success
	assert_json '.steps[1].status.mask == "0x03"'
	assert_json '.steps[3].status.mask == "0x00"'
}

@test "batch: quoted words group" {
	mock_start --once
	run --separate-stderr vhu -j batch - <<-'EOF'
		set-status "ACKNOWLEDGE,DRIVER"
		get-status
	EOF
	assert_success
	assert_json '.steps[1].status.mask == "0x03"'
}

@test "batch: per-step options (-T blk on one step)" {
	mock_start --once --features 0x0000000140000200
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-features -T blk
	EOF
	assert_success
	assert_json '.steps[0].features.names | index("VIRTIO_BLK_F_FLUSH") != null'
}

@test "batch: a connection lost in one step fails the later steps with 74" {
	mock_start --fault GET_QUEUE_NUM:close
	run --separate-stderr vhu -t 30 -j batch --keep-going - <<-'EOF'
		get-queue-num
		get-max-mem-slots
	EOF
	assert_failure 74
	assert_json '[.steps[].exit_status] == [74, 74]'
}

@test "batch: an unbalanced quote is a usage error for that line" {
	mock_start
	run --separate-stderr vhu -j batch - <<<'set-status "DRIVER'
	assert_failure 64
	assert_json '.steps[0].exit_status == 64'
}

@test "batch inside batch is refused" {
	mock_start
	run --separate-stderr vhu -j batch - <<<'batch -'
	assert_failure 64
	assert_json '.steps[0].exit_status == 64'
}

@test "batch: missing file is 64, nothing sent" {
	mock_start
	run --separate-stderr vhu batch "$BATS_TEST_TMPDIR/no-such-file"
	assert_failure 64
	[[ $stderr == *no-such-file* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ]
}

@test "batch: an empty batch succeeds with steps []" {
	mock_start
	run --separate-stderr vhu -j batch - </dev/null
	assert_success
	assert_json '.steps == []'
}

@test "batch: global options before a step's command hold for that step only" {
	# blk feature bit 9 (FLUSH); protocol features without INFLIGHT_SHMFD (bit 12)
	mock_start --once --features 0x0000000140000200 --protocol-features 0xda22b
	run --separate-stderr vhu -j batch -k - <<-'EOF'
		-T blk get-features
		get-features
		-f get-inflight-fd
		get-inflight-fd
		--trace get-queue-num
		get-queue-num
	EOF
	assert_failure 3
	assert_json '[.steps[].command] == ["get-features", "get-features", "get-inflight-fd", "get-inflight-fd", "get-queue-num", "get-queue-num"]'
	assert_json '[.steps[].exit_status] == [0, 0, 0, 3, 0, 0]'
	assert_json '.steps[0].features.names | index("VIRTIO_BLK_F_FLUSH") != null'
	assert_json '.steps[1].features.names | index("bit_9") != null'
	# the next step is gated again: nothing sent for it
	assert_json '.steps[3].error | test("INFLIGHT_SHMFD")'
	[ "$(mock_count GET_INFLIGHT_FD)" -eq 1 ] || fail "log: $(mock_log)"
	# one traced round trip: the --trace step's, not the next one's
	[ "$(grep -c 'GET_QUEUE_NUM' <<<"$stderr")" -eq 2 ] || fail "stderr: $stderr"
}

@test "batch: options after a step's command hold for that step only" {
	mock_start --once --features 0x0000000140000200
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-features -T blk
		get-features
	EOF
	assert_success
	assert_json '.steps[0].features.names | index("VIRTIO_BLK_F_FLUSH") != null'
	assert_json '.steps[1].features.names | index("bit_9") != null'
}

@test "batch: options alone or with a bad value on a line are that step's usage error" {
	mock_start --once
	run --separate-stderr vhu -j batch -k - <<-'EOF'
		-T nope get-features
		-T blk
		get-queue-num
	EOF
	assert_failure 64
	assert_json '[.steps[].exit_status] == [64, 64, 0]'
	assert_json '.steps[0].error | test("unknown device type")'
	assert_json '.steps[1].error | test("missing COMMAND")'
	[ "$(mock_count GET_FEATURES)" -eq 1 ] || fail "log: $(mock_log)"
}

@test "batch DIR: a usage error (64), not an empty batch; nothing sent" {
	mock_start
	run --separate-stderr vhu batch "$BATS_TEST_TMPDIR"
	assert_failure 64
	assert_one_line_error "is a directory"
	[ ! -s "$MOCK_LOG" ]
	run --separate-stderr vhu batch - <"$BATS_TEST_TMPDIR"
	assert_failure 64
	assert_one_line_error "standard input is a directory"
}

@test "batch: a read error on the input is 74, not an empty batch" {
	mock_start
	run --separate-stderr bash -c 'exec "$@" <&-' _ "$VHUCTL" -s "$SOCK" -j batch
	assert_failure 74
	assert_one_line_error "batch: cannot read standard input: Bad file descriptor"
	assert_json '.vhuctl.exit_status == 74 and (.error | test("cannot read standard input"))'
}

@test "batch: a failure to connect is reported on stderr (69)" {
	run --separate-stderr "$VHUCTL" -s "$BATS_TEST_TMPDIR/no-such.sock" batch - <<<"get-queue-num"
	assert_failure 69
	assert_one_line_error "cannot connect to"
}

@test "batch: '-T blk get-config' decodes that step only; the next get-config shows raw bytes" {
	# capacity 2097152 sectors, then zeros: a 60-byte blk config
	mock_start --config "0000200000000000$(printf '0%.0s' {1..104})"
	run --separate-stderr vhu -j batch - <<-'EOF'
		-T blk get-config
		get-config -n 60
	EOF
	assert_success
	assert_json '.steps[0].config.type == "blk" and .steps[0].config.fields.capacity == 2097152'
	assert_json '(.steps[1].config | has("type") | not) and (.steps[1].config | has("fields") | not)'
	assert_json '.steps[1].config.bytes == .steps[1].config.raw'
	run --separate-stderr vhu batch - <<-'EOF'
		-T blk get-config
		get-config -n 60
	EOF
	assert_success
	[ "$(grep -c 'capacity:' <<<"$output")" -eq 1 ] || fail "stdout: $output"
	assert_line --regexp '^  \(give --type TYPE to decode these bytes'
}

@test "batch: '-f get-inflight-fd' forces that step only; the next one is gated again (text)" {
	# protocol features without INFLIGHT_SHMFD (bit 12)
	mock_start --once --protocol-features 0xda22b
	run --separate-stderr vhu batch -k - <<-'EOF'
		-f get-inflight-fd
		get-inflight-fd
	EOF
	assert_failure 3
	assert_one_line_error "line 2: GET_INFLIGHT_FD: back-end does not offer VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD"
	[ "$(mock_count GET_INFLIGHT_FD)" -eq 1 ] || fail "log: $(mock_log)"
}

@test "batch: set force on holds for the steps after it; set force off ends it" {
	mock_start --once --protocol-features 0xda22b
	run --separate-stderr vhu -j batch -k - <<-'EOF'
		get-inflight-fd
		set force on
		get-inflight-fd
		get-inflight-fd
		set force off
		get-inflight-fd
	EOF
	assert_failure 3
	assert_json '[.steps[].exit_status] == [3, 0, 0, 0, 0, 3]'
	assert_json '.steps[1].command == "set" and .steps[1].settings.force == true'
	assert_json '.steps[4].settings.force == false'
	[ "$(mock_count GET_INFLIGHT_FD)" -eq 2 ] || fail "log: $(mock_log)"
}

@test "batch: set type, timeout, trace, no-sync, keep-going; set alone shows them" {
	mock_start --features 0x0000000140000200
	run --separate-stderr vhu -j batch - <<-'EOF'
		set
		set type blk
		get-features
		get-features -T net
		get-features
		set timeout 2.5
		set keep-going on
		get-status --bogus
		set type none
		get-features
	EOF
	assert_failure 64
	assert_json '.steps[0].settings == {"force": false, "timeout_ms": 5000, "type": "none", "trace": false,
		"no_sync": false, "keep_going": false}'
	assert_json '.steps[2].features.names | index("VIRTIO_BLK_F_FLUSH") != null'
	assert_json '.steps[3].features.names | index("VIRTIO_BLK_F_FLUSH") == null'
	assert_json '.steps[4].features.names | index("VIRTIO_BLK_F_FLUSH") != null'
	assert_json '.steps[5].settings.timeout_ms == 2500 and .steps[6].settings.keep_going'
	# keep-going set in the batch: the usage error does not stop it
	assert_json '[.steps[].exit_status] == [0, 0, 0, 0, 0, 0, 0, 64, 0, 0]'
	assert_json '.steps[9].features.names | index("bit_9") != null'
	run --separate-stderr vhu batch - <<-'EOF'
		set trace on
		get-queue-num
		set trace off
		get-queue-num
	EOF
	assert_success
	[ "$(grep -c 'GET_QUEUE_NUM' <<<"$stderr")" -eq 2 ] || fail "stderr: $stderr"
}

@test "batch: a bad set is that step's usage error, with its line" {
	mock_start --once
	run --separate-stderr vhu batch -k - <<-'EOF'
		set force maybe
		set colour blue
		set timeout 0
		set type floppy
		set force
		-f set force on
		get-queue-num
	EOF
	assert_failure 64
	[ "${#stderr_lines[@]}" -eq 6 ] || fail "stderr: $stderr"
	assert_equal "${stderr_lines[0]}" "vhuctl: line 1: set: force takes on or off, not 'maybe'"
	[[ ${stderr_lines[1]} == "vhuctl: line 2: set: unknown option 'colour'"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[2]} == "vhuctl: line 3: set: invalid timeout '0'"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[3]} == "vhuctl: line 4: set: unknown device type 'floppy'"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[4]} == "vhuctl: line 5: set: expected \`set OPTION VALUE\`"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[5]} == "vhuctl: line 6: set: options do not apply to \`set\`"* ]] || fail "stderr: $stderr"
	assert_line --regexp '^Queues: +2$'
}

@test "batch: state shows what the session negotiated and set up so far" {
	mock_start
	run --separate-stderr vhu -j batch - <<-'EOF'
		state
		set-features offered
		set-owner
		set-mem-table 1M
		set-vring-num 0 64
		set-vring-base 0 0
		set-vring-addr 0 --auto
		set-vring-kick 0
		set-vring-call 0 --nofd
		set-vring-enable 0 on
		get-vring-base 0
		set-status ACKNOWLEDGE
		state
	EOF
	assert_success
	assert_json '.steps[0].state == {"connected": true, "owner": false, "regions": [], "rings": [],
		"backend_channel": false, "inflight": false, "log": false}'
	assert_json '.steps[12].state.owner and .steps[12].state.features.bits == [28, 29, 30, 32] and .steps[12].state.acked_features.bits == [28, 29, 30, 32]'
	assert_json '.steps[12].state.acked_protocol_features.mask == "0x00000000000db22b"'
	assert_json '.steps[12].state.queue_num == 2 and .steps[12].state.status.names == ["VIRTIO_CONFIG_S_ACKNOWLEDGE"]'
	assert_json '.steps[12].state.regions | length == 1 and .[0].memory_size == 1048576 and .[0].sent'
	assert_json '.steps[12].state.rings | length == 1'
	assert_json '.steps[12].state.rings[0] | .ring == 0 and .num == 64 and .base == 0 and .kick == "eventfd"
		and .call == "none" and .enabled and .stopped_at == 0 and (.desc | startswith("0x"))'
	run --separate-stderr vhu batch - <<<'state now'
	assert_failure 64
	assert_one_line_error "line 1: state takes no arguments"
}

@test "batch: a step's header comes before its messages in a merged stream" {
	mock_start --once
	run vhu batch -k - <<-'EOF'
		get-queue-num
		bogus
		--trace get-status
		set-vring-base 0 70000
	EOF
	assert_failure 64
	local hdr msg
	hdr=$(grep -n '^\[2\] bogus$' <<<"$output" | cut -d: -f1)
	msg=$(grep -n "^vhuctl: line 2: unknown command 'bogus'" <<<"$output" | cut -d: -f1)
	[ -n "$hdr" ] && [ -n "$msg" ] && [ "$hdr" -lt "$msg" ] || fail "order: $output"
	hdr=$(grep -n '^\[3\] get-status$' <<<"$output" | cut -d: -f1)
	msg=$(grep -n '^trace: F>B GET_STATUS' <<<"$output" | cut -d: -f1)
	[ -n "$hdr" ] && [ -n "$msg" ] && [ "$hdr" -lt "$msg" ] || fail "order: $output"
	hdr=$(grep -n '^\[4\] set-vring-base$' <<<"$output" | cut -d: -f1)
	msg=$(grep -n '^vhuctl: warning: ' <<<"$output" | cut -d: -f1)
	[ -n "$hdr" ] && [ -n "$msg" ] && [ "$hdr" -lt "$msg" ] || fail "order: $output"
}

@test "batch -j: a step that shows its help has help: true and none of its members" {
	mock_start --once
	run --separate-stderr vhu -j batch - <<-'EOF'
		get-features --help
		get-queue-num
	EOF
	assert_success
	assert_json '.steps[0] == {"command": "get-features", "line": 1, "help": true, "exit_status": 0}'
	[[ $stderr == *"Usage: vhuctl get-features"* ]] || fail "stderr: $stderr"
}

@test "batch --check: every bad line with its number, 64, nothing connected" {
	cat >"$BATS_TEST_TMPDIR/walk" <<-'EOF'
		# a walkthrough with mistakes
		get-features
		bogus
		set-vring-num 0
		-T blk get-config
		set-config --field capacity=1
		set type blk
		set-config --field writeback=1
		get-queue-num --require feature=NOPE
		"unbalanced
		state
		list types
		get-config --help
	EOF
	# no back-end at all: a connection attempt would be 69
	run --separate-stderr "$VHUCTL" -s /nonexistent/vhu.sock batch --check "$BATS_TEST_TMPDIR/walk"
	assert_failure 64
	[ "${#stderr_lines[@]}" -eq 5 ] || fail "stderr: $stderr"
	[[ ${stderr_lines[0]} == "vhuctl: line 3: unknown command 'bogus'"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[1]} == "vhuctl: line 4: missing NUM"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[2]} == "vhuctl: line 6: --field needs --type TYPE"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[3]} == "vhuctl: line 9: invalid --require 'feature=NOPE'"* ]] || fail "stderr: $stderr"
	[[ ${stderr_lines[4]} == "vhuctl: line 10: unbalanced quote"* ]] || fail "stderr: $stderr"
	assert_line --regexp '^  bad lines: +5$'
	assert_line --regexp '^  steps: +12$'
	# nothing else on stdout: no step ran or printed
	[ "${#lines[@]}" -eq 5 ] || fail "stdout: $output"
	run --separate-stderr "$VHUCTL" -j batch --check "$BATS_TEST_TMPDIR/walk"
	assert_failure 64
	assert_json '[.check.errors[].line] == [3, 4, 6, 9, 10] and .check.lines == 13 and .check.bad_lines == 5'
	assert_json '.check.errors[0].command == "bogus" and (has("steps") | not)'
	assert_json '.error | test("5 of 12 steps")'
}

@test "batch --check of a good file: 0, and nothing sent to a running back-end" {
	mock_start
	printf 'get-features\nset force on\nget-inflight-fd\n-T blk get-config\nstate\n' >"$BATS_TEST_TMPDIR/ok"
	run --separate-stderr vhu -j batch --check "$BATS_TEST_TMPDIR/ok"
	assert_success
	assert_json '.check == {"file": "'"$BATS_TEST_TMPDIR/ok"'", "errors": [], "lines": 5, "steps": 5, "bad_lines": 0}'
	[ ! -s "$MOCK_LOG" ] || fail "the back-end saw: $(mock_log)"
	printf 'get-features\n' | vhu batch --check
	run --separate-stderr vhu batch --check - <<<'get-features'
	assert_success
	assert_line --regexp '^  file: +standard input$'
}
