#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The JSON contract: every command of the table prints, with -j, a document
# that validates against its schema in doc/json (tests/json/validate.py,
# python3-jsonschema).  Every other suite's documents are validated too,
# by the json_schema test that ctest runs after them.

load helpers

BUILD=${VHU_BUILD:-$VHU_SRC/build}
COMMANDS=$BUILD/completions/commands
PYTHON3=${VHU_PYTHON3:-/usr/bin/python3}

validate() {
	"$PYTHON3" "$VHU_SRC/tests/json/validate.py" --schemas "$VHU_SRC/doc/json" --commands "$COMMANDS" "$@"
}

setup() {
	[ -s "$COMMANDS" ] || fail "no $COMMANDS: build first (the completions target writes it)"
	"$PYTHON3" -c 'import jsonschema' 2>/dev/null ||
		fail "$PYTHON3 has no jsonschema: scripts/deps test installs python3-jsonschema"
	DOCS=$BATS_TEST_TMPDIR/docs.jsonl
	: >"$DOCS"
}

# Run vhu ARGS with -j: it must succeed with one document, kept in $DOCS.
ok_json() {
	run --separate-stderr vhu -j "$@"
	[ "$status" -eq 0 ] || fail "vhuctl -j $* exited $status: $stderr"
	assert_json '.vhuctl.exit_status == 0'
	printf '%s\n' "$output" >>"$DOCS"
}

# The mock offers, besides its defaults, RARP (2), NET_MTU (4) and
# INBAND_NOTIFICATIONS (14); two shared memory regions; a shared object.
start_full_mock() {
	mock_start --protocol-features 0xdf23f --shm-regions 2 --shared-object-fd "$@"
}

# The commands each case below ran successfully, as top-level documents or
# as batch steps.
succeeded_commands() {
	jq -r '(select(.vhuctl.exit_status == 0) | .vhuctl.command),
		(.steps[]? | select(.exit_status == 0) | .command)' "$@" | sort -u
}

@test "every command's -j document validates against doc/json" {
	local state=$BATS_TEST_TMPDIR/state uuid=1b4e28ba-2fa1-11d2-883f-0016d3cca427

	run --separate-stderr "$VHUCTL" -j list
	assert_json '.requests | length > 0'
	printf '%s\n' "$output" >>"$DOCS"

	start_full_mock --backend-msg CONFIG_CHANGE_MSG:need-reply
	ok_json probe
	ok_json -T blk get-config
	ok_json set-config --hex 00 --offset 8
	ok_json get-features
	ok_json set-features offered
	ok_json get-protocol-features
	ok_json set-protocol-features offered
	ok_json get-queue-num
	ok_json get-max-mem-slots
	ok_json get-status
	ok_json set-status ACKNOWLEDGE
	ok_json set-owner
	ok_json reset-owner
	ok_json reset-device
	ok_json raw GET_QUEUE_NUM
	ok_json raw SET_OWNER
	ok_json send-rarp 52:54:00:12:34:56
	ok_json net-set-mtu 1500
	ok_json get-shared-object "$uuid"
	ok_json get-shared-memory-regions
	ok_json get-inflight-fd --queues 2 --queue-size 64
	ok_json set-mem-table 1M
	ok_json add-mem-reg 1M
	ok_json set-log-base 4K
	ok_json set-log-fd
	ok_json set-backend-req-fd
	ok_json watch --count 1
	ok_json setup
	ok_json device-state save "$state"
	ok_json device-state load "$state"
	ok_json device-state check
	# What needs state of the session runs as batch steps.
	cat >"$BATS_TEST_TMPDIR/steps" <<-EOF
		set-features offered
		set-protocol-features offered
		set-mem-table 1M
		add-mem-reg 1M
		rem-mem-reg 1
		get-inflight-fd --queues 2 --queue-size 64
		set-inflight-fd
		set-vring-num 0 64
		set-vring-base 0 0
		set-vring-addr 0 --auto --size 64
		set-vring-kick 0
		set-vring-call 0
		set-vring-err 0
		set-vring-enable 0 on
		vring-kick 0
		get-vring-base 0
	EOF
	ok_json batch "$BATS_TEST_TMPDIR/steps"
	assert_json '[.steps[].exit_status] | all(. == 0)'

	# The data-path commands against the mock's virtio-blk device side.
	mock_stop
	head -c 1M /dev/zero >"$BATS_TEST_TMPDIR/disk"
	mock_start --blk "$BATS_TEST_TMPDIR/disk"
	ok_json blk get-id
	ok_json blk write 4096 --pattern 0xa5 --length 8K
	ok_json blk read 4096 8K -o "$BATS_TEST_TMPDIR/read.out"
	ok_json blk flush
	ok_json blk discard 0 4K
	ok_json blk write-zeroes 0 4K --unmap
	ok_json bench --rw randrw --bs 4k --qd 2 --runtime 0.2 --verify
	printf '%s\n' 'get-features' 'reconnect' 'get-queue-num' >"$BATS_TEST_TMPDIR/steps"
	ok_json batch "$BATS_TEST_TMPDIR/steps"
	assert_json '[.steps[].exit_status] | all(. == 0)'
	mock_stop
	mock_start --fs
	ok_json fs ls /
	ok_json fs stat /hello
	ok_json fs cat /hello -o "$BATS_TEST_TMPDIR/hello"
	mock_stop
	mock_start --net
	ok_json net send --count 3
	ok_json net recv --count 3 -w "$BATS_TEST_TMPDIR/f.pcap"
	ok_json -T net bench --rw tx --runtime 0.2 --qd 8
	ok_json -T net bench --rw rx --runtime 0.2 --notify poll

	run validate "$DOCS"
	assert_success
	assert_output --partial " 0 problems"

	# A command added to the table needs a case here.
	# proxy and decode print JSON lines, not one document (their schema
	# describes a record; proxy.bats checks their lines).
	run comm -23 "$COMMANDS" <( (succeeded_commands "$DOCS"; printf '%s\n' decode proxy) | sort -u)
	[ -z "$output" ] || fail "no successful -j document for: $output (add a case to this test)"
}

@test "the schema files are valid, and every command has one" {
	run validate
	assert_success
	assert_output --partial "0 problems"
}

@test "a command without a schema is named, with the file to add" {
	cp "$COMMANDS" "$BATS_TEST_TMPDIR/commands"
	echo blk-frobnicate >>"$BATS_TEST_TMPDIR/commands"
	run "$PYTHON3" "$VHU_SRC/tests/json/validate.py" --schemas "$VHU_SRC/doc/json" \
		--commands "$BATS_TEST_TMPDIR/commands"
	assert_failure 1
	assert_output --partial "command blk-frobnicate has no schema: add doc/json/blk-frobnicate.schema.json"
}

@test "broken documents fail validation, each for its reason" {
	local good bad=$BATS_TEST_TMPDIR/bad.jsonl
	mock_start
	run --separate-stderr vhu -j get-queue-num
	assert_json '.queue_num == 2'
	good=$output
	run --separate-stderr vhu -j get-features
	assert_json '.features.mask'
	local feats=$output

	# The real document is valid: what follows fails by the edit alone.
	printf '%s\n%s\n' "$good" "$feats" >"$DOCS"
	run validate "$DOCS"
	assert_success

	jq -c '.queue_num = "2"' <<<"$good" >"$bad"                           # wrong type
	jq -c '.queue_count = 2' <<<"$good" >>"$bad"                          # undocumented member
	jq -c 'del(.queue_num)' <<<"$good" >>"$bad"                           # required member missing
	jq -c '.vhuctl.exit_status = 74 | .vhuctl.exit_status_name = "io_error"' <<<"$good" >>"$bad" # no error
	jq -c '.vhuctl.exit_status_name = "refused"' <<<"$good" >>"$bad"      # name of another status
	jq -c '.json_format_version = [2, 0]' <<<"$good" >>"$bad"             # another major
	jq -c '.features.mask = "0x1"' <<<"$feats" >>"$bad"                   # mask not 16 digits
	jq -c '.features.names += ["lowercase"]' <<<"$feats" >>"$bad"         # not a bit name
	jq -c '.vhuctl.command = "batch" | del(.queue_num) |
		.steps = [{command: "get-queue-num", line: 1, exit_status: 0, queue_num: -1}]' <<<"$good" >>"$bad"
	run validate --expect-invalid "$bad"
	assert_success
	assert_output --partial "9 documents"
	assert_output --partial ".queue_num: '2' is not of type 'integer'"
	assert_output --partial "'queue_count' was unexpected"
	assert_output --partial "'queue_num' is a required property"
	assert_output --partial "'error' is a required property"
	assert_output --partial "steps[0] (get-queue-num): .queue_num: -1 is less than the minimum of 0"

	# And a broken document among good ones fails the run.
	printf '%s\n' "$good" >"$DOCS"
	head -1 "$bad" >>"$DOCS"
	run validate "$DOCS"
	assert_failure 1
	assert_output --partial "FAIL: docs.jsonl:2"
}
