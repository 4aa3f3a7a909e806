#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# --require and --require-from: requirements on a back-end for CI checks,
# exit status 4 and one line per unmet requirement; JSON requirements[].

load helpers

# A blk export as the mock plays it: VERSION_1, PROTOCOL_FEATURES, SIZE_MAX,
# SEG_MAX, BLK_SIZE (6), FLUSH (9); 2 queues (mock default), 32 slots;
# capacity 2097152 sectors (1 GiB), blk_size 4096.
BLK_FEATURES=0x0000000140000246
blk_config() {
	echo "$(le 2097152 8)$(zeros 12)$(le 4096 4)$(zeros 36)"
}

blk_mock() {
	mock_start --features $BLK_FEATURES --config "$(blk_config)" "$@"
}

# A socket path nothing listens on: a run that fails 64 with it did not
# try to connect (that would be 69).
NOSOCK=/nonexistent/vhuctl-require-test.sock

@test "--require met: probe exits 0; text lists each requirement with its actual value" {
	blk_mock
	run --separate-stderr vhu probe --require feature=VIRTIO_BLK_F_FLUSH --require 'queues>=2' \
		--require 'config.capacity>=2097152' --require config.blk_size=4096
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
	assert_line --regexp '^Requirements:$'
	assert_line --regexp '^  feature=VIRTIO_BLK_F_FLUSH: +met, actual offered \(features 0x0000000140000246\)$'
	assert_line --regexp '^  queues>=2: +met, actual 2$'
	assert_line --regexp '^  config.capacity>=2097152: +met, actual 2097152$'
	assert_line --regexp '^  config.blk_size=4096: +met, actual 4096$'
}

@test "one unmet requirement: exit 4, one stderr line naming it and the actual value" {
	blk_mock
	run --separate-stderr vhu probe --require feature=VIRTIO_BLK_F_FLUSH --require 'queues>=4'
	assert_failure 4
	[ "$stderr" = "vhuctl: requirement not met: queues>=4 (actual: 2)" ] || fail "stderr: $stderr"
	assert_line --regexp '^  queues>=4: +NOT MET, actual 2$'
	run --separate-stderr vhu probe --require 'config.capacity>=4194304'
	assert_failure 4
	[ "$stderr" = "vhuctl: requirement not met: config.capacity>=4194304 (actual: 2097152)" ] ||
		fail "stderr: $stderr"
}

@test "-j lists every requirement with met and the actual value; unmet ones are the error" {
	blk_mock
	run --separate-stderr vhu -j probe --require feature=VIRTIO_BLK_F_FLUSH \
		--require feature=VIRTIO_BLK_F_DISCARD --require 'mem-slots>=8' --require 'config.capacity<1000'
	assert_failure 4
	assert_json '.vhuctl.exit_status == 4 and .vhuctl.exit_status_name == "requirement_not_met"'
	assert_json '[.requirements[].met] == [true, false, true, false]'
	assert_json '.requirements[0] == {"requirement": "feature=VIRTIO_BLK_F_FLUSH", "kind": "feature", "met": true,
		"actual": true, "name": "VIRTIO_BLK_F_FLUSH", "bit": 9, "device_type": "blk"}'
	assert_json '.requirements[1].actual == false and .requirements[1].bit == 13'
	assert_json '.requirements[2] == {"requirement": "mem-slots>=8", "kind": "mem_slots", "met": true, "actual": 32}'
	assert_json '.requirements[3].actual == 2097152 and .requirements[3].name == "capacity"'
	assert_json '.error | startswith("2 requirements not met: feature=VIRTIO_BLK_F_DISCARD (actual: not offered")'
	[ "${#stderr_lines[@]}" -eq 2 ] || fail "expected one line per unmet requirement: $stderr"
	[[ ${stderr_lines[0]} == "vhuctl: requirement not met: feature=VIRTIO_BLK_F_DISCARD (actual: not offered"* ]] ||
		fail "stderr: $stderr"
	[[ ${stderr_lines[1]} == "vhuctl: requirement not met: config.capacity<1000 (actual: 2097152)" ]] ||
		fail "stderr: $stderr"
}

@test "feature=VIRTIO_BLK_F_FLUSH works without -T; short names, bit_N and numbers too" {
	blk_mock
	run --separate-stderr vhu -j probe --require feature=VIRTIO_BLK_F_FLUSH --require feature=flush \
		--require feature=bit_9 --require feature=9 --require feature!=VIRTIO_BLK_F_RO \
		--require feature=VIRTIO_F_VERSION_1
	assert_success
	assert_json '[.requirements[].bit] == [9, 9, 9, 9, 5, 32]'
	assert_json '[.requirements[].met] | all'
	assert_json '.requirements[4].requirement == "feature!=VIRTIO_BLK_F_RO"'
	assert_json '(.requirements[5] | has("device_type")) | not'
	run --separate-stderr vhu probe --require feature!=VIRTIO_BLK_F_FLUSH
	assert_failure 4
	assert_one_line_error "feature!=VIRTIO_BLK_F_FLUSH (actual: offered"
}

@test "a short name of several device types is refused with the candidates; -T picks one" {
	run --separate-stderr "$VHUCTL" -s "$NOSOCK" probe --require feature=MQ
	assert_failure 64
	assert_one_line_error "VIRTIO_NET_F_MQ"
	[[ $stderr == *"net bit 22 = VIRTIO_NET_F_MQ"* && $stderr == *"blk bit 12 = VIRTIO_BLK_F_MQ"* ]] ||
		fail "stderr: $stderr"
	run --separate-stderr "$VHUCTL" -s "$NOSOCK" probe --require config.num_queues=1
	assert_failure 64
	assert_one_line_error "exists for blk, scsi: give -T TYPE"
	mock_start --features 0x0000000140400000
	run --separate-stderr vhu -j -T net probe --require feature=MQ
	assert_success
	assert_json '.requirements[0].bit == 22 and .requirements[0].name == "VIRTIO_NET_F_MQ"'
	assert_json '.requirements[0].device_type == "net"'
}

@test "bad requirements are usage errors (64) found before connecting" {
	local e
	for e in 'foo=1' 'feature' 'feature>FLUSH' 'queues>=two' 'queues>=' 'feature=NOPE' \
		'protocol-feature=NOPE' 'status=NOPE' 'config.nope=1' 'config.capacity=x' \
		'config.tag<abc'; do
		run --separate-stderr "$VHUCTL" -s "$NOSOCK" probe --require "$e"
		[ "$status" -eq 64 ] || fail "--require '$e' exited $status: $stderr"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "--require '$e': $stderr"
		[[ $stderr == *"invalid --require"* ]] || fail "--require '$e': $stderr"
	done
	run --separate-stderr "$VHUCTL" -s "$NOSOCK" -T blk get-features --require 'config.writeback=sometimes'
	assert_failure 64
	assert_one_line_error "'sometimes' is not a value of the 1-byte field 'writeback'"
}

@test "protocol-feature, mem-slots and status, met and not; a request not offered is an unknown value" {
	blk_mock --protocol-features 0x0000000000008209
	run --separate-stderr vhu -j probe --require protocol-feature=VHOST_USER_PROTOCOL_F_CONFIG \
		--require protocol-feature=REPLY_ACK --require 'mem-slots>8' --require status=DRIVER_OK
	assert_failure 4
	assert_json '[.requirements[].met] == [true, true, true, false]'
	assert_json '.requirements[3].actual == null'
	assert_json '.requirements[3].reason | test("does not offer VHOST_USER_PROTOCOL_F_STATUS")'
	assert_one_line_error "status=DRIVER_OK (actual: unknown: GET_STATUS: back-end does not offer"
	mock_stop
	blk_mock
	run --separate-stderr vhu probe --require status=DRIVER_OK --require status!=FAILED
	assert_failure 4
	assert_one_line_error "requirement not met: status=DRIVER_OK (actual: not set (status 0x00))"
}

@test "config comparisons: = != < <= > >=, value names, text fields" {
	blk_mock
	run --separate-stderr vhu -j get-features --require 'config.capacity=2097152' \
		--require 'config.capacity!=0' --require 'config.capacity<2097153' --require 'config.capacity<=2097152' \
		--require 'config.capacity>0x1fffff' --require 'config.capacity >= 2097152'
	assert_success
	assert_json '[.requirements[].met] | all and length == 6'
	assert_json '.requirements[5].requirement == "config.capacity>=2097152"'
	mock_stop
	# net: speed unknown, duplex full (SPEED_DUPLEX, 63, offered)
	mock_start --features 0x8000000140000000 --config "$(zeros 12)ffffffff01$(zeros 11)"
	run --separate-stderr vhu -j get-features --require config.duplex=full --require config.speed=unknown \
		--require config.duplex!=half
	assert_success
	assert_json '.requirements[0].actual == 1 and .requirements[0].actual_name == "full"'
	assert_json '.requirements[1].actual == 4294967295 and .requirements[1].actual_name == "unknown"'
	mock_stop
	# fs: tag "myfs"
	mock_start --config "6d796673$(zeros 40)"
	run --separate-stderr vhu -j get-features --require config.tag=myfs --require config.tag!=other
	assert_success
	assert_json '.requirements[0].actual == "myfs" and .requirements[0].device_type == "fs"'
	run --separate-stderr vhu get-features --require config.tag=other
	assert_failure 4
	assert_one_line_error "requirement not met: config.tag=other (actual: 'myfs')"
}

@test "a config field whose feature is not offered, or not read, is an unknown value" {
	# BLK_SIZE (6) not offered
	mock_start --features 0x0000000140000200 --config "$(blk_config)"
	run --separate-stderr vhu get-features --require config.blk_size=4096
	assert_failure 4
	assert_one_line_error "(actual: unknown: 'blk_size' is not valid: the back-end does not offer VIRTIO_BLK_F_BLK_SIZE)"
	run --separate-stderr vhu probe -n 8 --require config.blk_size=4096
	assert_failure 4
	assert_one_line_error "'blk_size' (bytes 20-23) is not in the 8 bytes read"
}

@test "other commands: requirements are checked before the command, which does not run when one is unmet" {
	blk_mock
	run --separate-stderr vhu set-owner --require feature=VIRTIO_BLK_F_DISCARD
	assert_failure 4
	assert_one_line_error "feature=VIRTIO_BLK_F_DISCARD"
	[ "$(mock_count SET_OWNER)" -eq 0 ] || fail "SET_OWNER was sent: $(mock_log)"
	[ -z "$output" ] || fail "stdout: $output"
	run --separate-stderr vhu set-owner --require feature=VIRTIO_BLK_F_FLUSH
	assert_success
	[ "$(mock_count SET_OWNER)" -eq 1 ] || fail "log: $(mock_log)"
	run --separate-stderr vhu -j set-owner --require feature=VIRTIO_BLK_F_FLUSH
	assert_success
	assert_json '.requirements[0].met and .acked'
}

@test "only what the requirements need is asked: a config field reads up to its end" {
	blk_mock
	mock_log_clear
	run --separate-stderr vhu get-features --require 'config.capacity>=1'
	assert_success
	# GET_CONFIG payload: 12-byte header + 8 bytes of capacity
	grep -q '^GET_CONFIG flags=0x1 size=20 ' "$MOCK_LOG" || fail "log: $(mock_log)"
	[ "$(mock_count GET_QUEUE_NUM)" -eq 0 ] || fail "log: $(mock_log)"
	mock_log_clear
	run --separate-stderr vhu get-features --require feature=VIRTIO_BLK_F_FLUSH
	assert_success
	[ "$(mock_count GET_PROTOCOL_FEATURES)" -eq 0 ] || fail "log: $(mock_log)"
}

@test "probe without -T: a config requirement reads its type's layout (60 bytes for blk), output stays raw" {
	blk_mock
	mock_log_clear
	run --separate-stderr vhu -j probe --require 'config.capacity>=1'
	assert_success
	grep -q '^GET_CONFIG flags=0x1 size=72 ' "$MOCK_LOG" || fail "log: $(mock_log)"
	assert_json '.config.size == 60 and (.config | has("type") | not) and .config.bytes == .config.raw'
}

@test "--require-from FILE: one per line, comments and blank lines skipped" {
	blk_mock
	cat >"$BATS_TEST_TMPDIR/reqs" <<-'EOF'
		# the export CI needs
		feature=VIRTIO_BLK_F_FLUSH

		  queues >= 2
		config.capacity>=2097152
	EOF
	run --separate-stderr vhu -j probe --require-from "$BATS_TEST_TMPDIR/reqs" --require 'mem-slots>=1'
	assert_success
	assert_json '[.requirements[].requirement] == ["feature=VIRTIO_BLK_F_FLUSH", "queues>=2", "config.capacity>=2097152", "mem-slots>=1"]'
	printf 'queues>=1\nqueues>>1\n' >"$BATS_TEST_TMPDIR/bad"
	run --separate-stderr "$VHUCTL" -s "$NOSOCK" probe --require-from "$BATS_TEST_TMPDIR/bad"
	assert_failure 64
	assert_one_line_error "line 2: invalid requirement"
	run --separate-stderr "$VHUCTL" -s "$NOSOCK" probe --require-from "$BATS_TEST_TMPDIR/none"
	assert_failure 64
	assert_one_line_error "cannot open --require-from"
	run --separate-stderr "$VHUCTL" -s "$NOSOCK" probe --require-from "$BATS_TEST_TMPDIR"
	assert_failure 64
	assert_one_line_error "cannot read --require-from"
}

@test "unmet and met requirements leave no fd open and no memory error (valgrind)" {
	require_valgrind
	blk_mock
	run vhu_valgrind get-queue-num --require 'queues>=4' --require 'config.capacity>=1'
	[ "$status" -eq 4 ] || fail "exit $status: $output"
	assert_no_fd_leak
	run vhu_valgrind -j probe --require 'queues>=2' --require-from /dev/null
	[ "$status" -eq 0 ] || fail "exit $status: $output"
	assert_no_fd_leak
}

@test "list --require: 64, list does not connect" {
	run --separate-stderr "$VHUCTL" list types --require 'queues>=1'
	assert_failure 64
	assert_one_line_error "--require needs a back-end"
}

@test "batch: --require of the batch is checked before the first step; a step's holds for that step" {
	blk_mock
	run --separate-stderr vhu -j batch --require 'queues>=4' - <<<'set-owner'
	assert_failure 4
	assert_json '.requirements[0].met == false and (has("steps") | not)'
	[ "$(mock_count SET_OWNER)" -eq 0 ] || fail "log: $(mock_log)"
	run --separate-stderr vhu -j batch -k - <<-'EOF'
		get-queue-num --require queues>=4
		get-queue-num
		--require feature=VIRTIO_BLK_F_FLUSH get-queue-num
	EOF
	assert_failure 4
	assert_json '[.steps[].exit_status] == [4, 0, 0]'
	assert_json '.steps[0].requirements[0].actual == 2 and (.steps[1] | has("requirements") | not)'
	assert_json '.steps[2].requirements[0].met'
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "stderr: $stderr"
	[ "$stderr" = "vhuctl: line 1: requirement not met: queues>=4 (actual: 2)" ] || fail "stderr: $stderr"
}

@test "batch: --require on a state line is checked before the state is shown" {
	blk_mock
	run --separate-stderr vhu -j batch -k - <<-'EOF'
		--require queues>=4 state
		--require queues>=2 state
	EOF
	assert_failure 4
	assert_json '[.steps[].exit_status] == [4, 0]'
	assert_json '(.steps[0] | has("state") | not) and .steps[1].requirements[0].met and .steps[1].state.connected'
}

# The smoke script of the README, as it stands there.
readme_smoke() {
	awk '/^<!-- smoke-test -->$/ { on = 1; next } on && /^```sh$/ { inblk = 1; next }
		inblk && /^```$/ { exit } inblk { print }' "$VHU_SRC/README.md" >"$BATS_TEST_TMPDIR/smoke.sh"
	[ -s "$BATS_TEST_TMPDIR/smoke.sh" ] || fail "no smoke-test script in README.md"
	grep -q -- '--require' "$BATS_TEST_TMPDIR/smoke.sh" || fail "the README smoke script uses no --require"
	! grep -q '\<jq\>' "$BATS_TEST_TMPDIR/smoke.sh" || fail "the README smoke script uses jq"
}

run_smoke() {
	PATH="$(dirname "$VHUCTL"):$PATH" run --separate-stderr sh "$BATS_TEST_TMPDIR/smoke.sh" "$SOCK"
}

@test "README smoke script: an export that meets its requirements passes (0)" {
	readme_smoke
	blk_mock
	run_smoke
	assert_success
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "README smoke script: one unmet requirement fails with 4 and names it and the actual value" {
	readme_smoke
	blk_mock --queues 1
	run_smoke
	assert_failure 4
	assert_one_line_error "requirement not met: queues>=2 (actual: 1)"
}
