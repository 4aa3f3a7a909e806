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
