#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Feature negotiation and the simple requests against the mock back-end.

load helpers

# ---- get-features ---------------------------------------------------------

@test "get-features: text shows the mask and bit names" {
	mock_start --features 0x0000000170000000
	run --separate-stderr vhu get-features
	assert_success
	assert_line --regexp '^Features: +0x0000000170000000$'
	assert_line --regexp '^ +VIRTIO_F_VERSION_1 +\(32\)$'
	assert_line --regexp '^ +VHOST_USER_F_PROTOCOL_FEATURES +\(30\)$'
	assert_line --regexp '^ +VIRTIO_RING_F_EVENT_IDX +\(29\)$'
	[ -z "$stderr" ]
	[ "$(mock_log)" = "GET_FEATURES flags=0x1 size=0 fds=0" ] || fail "log: $(mock_log)"
}

@test "get-features: JSON mask equals the back-end's value, names include VIRTIO_F_VERSION_1" {
	mock_start --features 0x0000000170000000
	run --separate-stderr vhu -j get-features
	assert_success
	assert_json '.vhuctl.command == "get-features" and .vhuctl.exit_status == 0'
	assert_json '.features.mask == "0x0000000170000000"'
	assert_json '.features.names | index("VIRTIO_F_VERSION_1") != null'
	assert_json '.features.names | length == 4'
}

@test "get-features: unknown bits are shown as bit_N (bits 50 and 63)" {
	mock_start --features 0x8004000100000000
	run --separate-stderr vhu -j get-features
	assert_success
	assert_json '.features.mask == "0x8004000100000000"'
	assert_json '.features.names == ["VIRTIO_F_VERSION_1", "bit_50", "bit_63"]'
	run vhu get-features
	assert_success
	assert_line --regexp '^ +bit_50 +\(50\)$'
	assert_line --regexp '^ +bit_63 +\(63\)$'
}

@test "get-features: device bits are bit_N without --type, named with --type blk" {
	mock_start --features 0x0000000100000206
	run --separate-stderr vhu -j get-features
	assert_success
	assert_json '.features.names == ["bit_1", "bit_2", "bit_9", "VIRTIO_F_VERSION_1"]'
	run --separate-stderr vhu -j --type blk get-features
	assert_success
	assert_json '.features.names == ["VIRTIO_BLK_F_SIZE_MAX", "VIRTIO_BLK_F_SEG_MAX", "VIRTIO_BLK_F_FLUSH", "VIRTIO_F_VERSION_1"]'
	run vhu -T blk get-features
	assert_line --regexp '^ +VIRTIO_BLK_F_FLUSH +\(9\)$'
}

@test "get-features: zero features" {
	mock_start --features 0
	run --separate-stderr vhu -j get-features
	assert_success
	assert_json '.features.mask == "0x0000000000000000" and .features.names == []'
}

@test "--trace prints F>B and B>F lines on stderr, not on stdout" {
	mock_start
	run --separate-stderr vhu --trace get-features
	assert_success
	[[ $stderr == *"F>B GET_FEATURES"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"B>F GET_FEATURES"* ]] || fail "stderr: $stderr"
	refute_output --partial 'F>B'
	assert_output --partial 'Features:'
}

@test "--trace with -j keeps stdout one JSON document" {
	mock_start
	run --separate-stderr vhu --trace -j get-queue-num
	assert_success
	assert_json '.queue_num == 2'
	[[ $stderr == *"F>B GET_QUEUE_NUM"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"F>B SET_PROTOCOL_FEATURES"* ]] || fail "stderr: $stderr"
}

# ---- protocol features ----------------------------------------------------

@test "get-protocol-features: text and JSON" {
	mock_start --protocol-features 0x0000000000000209
	run --separate-stderr vhu get-protocol-features
	assert_success
	assert_line --regexp '^Protocol features: +0x0000000000000209$'
	assert_line --regexp '^ +VHOST_USER_PROTOCOL_F_MQ +\(0\)$'
	assert_line --regexp '^ +VHOST_USER_PROTOCOL_F_REPLY_ACK +\(3\)$'
	assert_line --regexp '^ +VHOST_USER_PROTOCOL_F_CONFIG +\(9\)$'
	run --separate-stderr vhu -j get-protocol-features
	assert_json '.protocol_features.mask == "0x0000000000000209"'
	assert_json '.protocol_features.names == ["VHOST_USER_PROTOCOL_F_MQ", "VHOST_USER_PROTOCOL_F_REPLY_ACK", "VHOST_USER_PROTOCOL_F_CONFIG"]'
	[ "$(mock_count GET_PROTOCOL_FEATURES)" -eq 2 ]
	[ "$(mock_count SET_PROTOCOL_FEATURES)" -eq 0 ] || fail "get-protocol-features negotiated: $(mock_log)"
}

@test "get-protocol-features: unknown bits kept as bit_N" {
	mock_start --protocol-features 0x0040000000000001
	run --separate-stderr vhu -j get-protocol-features
	assert_success
	assert_json '.protocol_features.names == ["VHOST_USER_PROTOCOL_F_MQ", "bit_54"]'
}

@test "get-protocol-features without VHOST_USER_F_PROTOCOL_FEATURES: 3, nothing but GET_FEATURES sent" {
	mock_start --features 0x0000000100000000
	run --separate-stderr vhu get-protocol-features
	assert_failure 3
	assert_one_line_error GET_PROTOCOL_FEATURES
	[[ $stderr == *"bit 30"* ]] || fail "stderr: $stderr"
	[ "$(mock_log)" = "GET_FEATURES flags=0x1 size=0 fds=0" ] || fail "log: $(mock_log)"
}

# set-protocol-features MASK: the value that reached the back-end is checked
# with --trace (the mock does not log payloads).
spf_sent() {
	sed -n 's/.*F>B SET_PROTOCOL_FEATURES .*features=\(0x[0-9a-f]*\).*/\1/p' <<<"$stderr"
}

@test "set-protocol-features: names" {
	mock_start
	run --separate-stderr vhu --trace set-protocol-features MQ,REPLY_ACK
	assert_success
	assert_line --regexp '^Acked protocol features: +0x0000000000000009$'
	[ "$(spf_sent)" = 0x9 ] || fail "sent: $stderr"
	[ "$(mock_count SET_PROTOCOL_FEATURES)" -eq 1 ]
}

@test "set-protocol-features: full names and bit numbers mixed" {
	mock_start
	run --separate-stderr vhu --trace -j set-protocol-features VHOST_USER_PROTOCOL_F_CONFIG,3
	assert_success
	assert_json '.acked_protocol_features.mask == "0x0000000000000208"'
	[ "$(spf_sent)" = 0x208 ] || fail "sent: $stderr"
}

@test "set-protocol-features: 0x mask" {
	mock_start
	run --separate-stderr vhu --trace -j set-protocol-features 0x9
	assert_success
	assert_json '.acked_protocol_features.mask == "0x0000000000000009"'
	[ "$(spf_sent)" = 0x9 ]
}

@test "set-protocol-features: offered acks everything offered" {
	mock_start --protocol-features 0x0000000000010209
	run --separate-stderr vhu --trace -j set-protocol-features offered
	assert_success
	assert_json '.acked_protocol_features.mask == "0x0000000000010209"'
	[ "$(spf_sent)" = 0x10209 ] || fail "sent: $stderr"
}

@test "set-protocol-features: unknown name is 64 and nothing is sent" {
	mock_start
	run --separate-stderr vhu set-protocol-features MQ,NO_SUCH_FEATURE
	assert_failure 64
	[[ $stderr == *NO_SUCH_FEATURE* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "set-protocol-features: unknown name with -j gives a usage JSON document" {
	mock_start
	run --separate-stderr vhu -j set-protocol-features NO_SUCH_FEATURE
	assert_failure 64
	assert_json '.vhuctl.exit_status == 64 and (.error | test("NO_SUCH_FEATURE"))'
	[ ! -s "$MOCK_LOG" ]
}

@test "set-features: names, 0x mask and offered" {
	mock_start
	run --separate-stderr vhu -j set-features VERSION_1,VHOST_USER_F_PROTOCOL_FEATURES
	assert_success
	assert_json '.acked_features.mask == "0x0000000140000000"'
	[ "$(mock_count SET_FEATURES)" -eq 1 ]
	run --separate-stderr vhu -j set-features 0x140000000
	assert_success
	assert_json '.acked_features.mask == "0x0000000140000000"'
	run --separate-stderr vhu -j set-features offered
	assert_success
	assert_json '.acked_features.mask == "0x0000000170000000"'
}

@test "set-features offered leaves out LOG_ALL, ACCESS_PLATFORM, RING_PACKED and says so" {
	# offered: INDIRECT, EVENT_IDX, bit 30, VERSION_1, LOG_ALL (26), ACCESS_PLATFORM (33), RING_PACKED (34)
	mock_start --features 0x0000000774000000
	run --separate-stderr vhu -j set-features offered
	assert_success
	assert_json '.acked_features.mask == "0x0000000170000000"'
	assert_json '.warnings | any(test("leaves out VHOST_F_LOG_ALL, VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_RING_PACKED"))'
	[[ $stderr == *"not driven by vhuctl"* ]] || fail "stderr: $stderr"
	grep -q '^SET_FEATURES flags=0x1 size=8' "$MOCK_LOG"
	# named explicitly, they are acked
	run --separate-stderr vhu -j set-features offered,VIRTIO_F_RING_PACKED
	assert_success
	assert_json '.acked_features.mask == "0x0000000570000000"'
	assert_json '.warnings | any(test("leaves out VHOST_F_LOG_ALL, VIRTIO_F_ACCESS_PLATFORM \\("))'
	run --separate-stderr vhu -j set-features 0x774000000
	assert_success
	assert_json '.acked_features.mask == "0x0000000774000000"'
	assert_json 'has("warnings") | not'
}

@test "set-features: --type blk names device bits" {
	mock_start --features 0x0000000140000200
	run --separate-stderr vhu -T blk -j set-features VIRTIO_BLK_F_FLUSH,VERSION_1
	assert_success
	assert_json '.acked_features.mask == "0x0000000100000200"'
}

@test "set-features: unknown name is 64 and nothing is sent" {
	mock_start
	run --separate-stderr vhu set-features VERSION_1,NO_SUCH_BIT
	assert_failure 64
	[[ $stderr == *NO_SUCH_BIT* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "set-features: device bit name without --type is 64" {
	mock_start
	run vhu set-features VIRTIO_BLK_F_FLUSH
	assert_failure 64
	[ ! -s "$MOCK_LOG" ]
}

# ---- simple getters -------------------------------------------------------

@test "get-queue-num: text and JSON follow --queues" {
	mock_start --queues 7
	run --separate-stderr vhu get-queue-num
	assert_success
	assert_output --regexp '^Queues: +7$'
	run --separate-stderr vhu -j get-queue-num
	assert_json '.queue_num == 7'
	[ "$(mock_count GET_QUEUE_NUM)" -eq 2 ]
}

@test "get-queue-num without MQ: 3 and GET_QUEUE_NUM not sent" {
	mock_start --protocol-features 0x0000000000000008
	run --separate-stderr vhu get-queue-num
	assert_failure 3
	assert_one_line_error GET_QUEUE_NUM
	[[ $stderr == *VHOST_USER_PROTOCOL_F_MQ* ]] || fail "stderr: $stderr"
	[ "$(mock_count GET_QUEUE_NUM)" -eq 0 ]
}

@test "get-queue-num: a back-end reporting 0 queues is a protocol violation" {
	mock_start --queues 0
	run --separate-stderr vhu get-queue-num
	assert_failure 2
	assert_one_line_error GET_QUEUE_NUM
}

@test "get-max-mem-slots: text and JSON follow --mem-slots" {
	mock_start --mem-slots 509
	run --separate-stderr vhu get-max-mem-slots
	assert_success
	assert_output --regexp '^Memory slots: +509$'
	run --separate-stderr vhu -j get-max-mem-slots
	assert_json '.max_mem_slots == 509'
}

@test "get-max-mem-slots without CONFIGURE_MEM_SLOTS: 3, not sent" {
	mock_start --protocol-features 0x0000000000000001
	run --separate-stderr vhu get-max-mem-slots
	assert_failure 3
	assert_one_line_error GET_MAX_MEM_SLOTS
	[[ $stderr == *VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS* ]] || fail "stderr: $stderr"
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 0 ]
}

# ---- status ---------------------------------------------------------------

@test "get-status: text and JSON of a fresh connection" {
	mock_start
	run --separate-stderr vhu get-status
	assert_success
	assert_output --regexp '^Status: +0x00$'
	run --separate-stderr vhu -j get-status
	assert_json '.status.mask == "0x00" and .status.names == []'
}

@test "set-status: names, reported and sent with NEED_REPLY" {
	mock_start
	run --separate-stderr vhu set-status ACKNOWLEDGE,DRIVER
	assert_success
	assert_line --regexp '^Status set: +0x03$'
	assert_line --regexp '^ +VIRTIO_CONFIG_S_ACKNOWLEDGE +\(0\)$'
	assert_line --regexp '^ +VIRTIO_CONFIG_S_DRIVER +\(1\)$'
	assert_equal "$(grep '^SET_STATUS' "$MOCK_LOG")" "SET_STATUS flags=0x9 size=8 fds=0"
}

@test "set-status then get-status on one connection shows the names" {
	mock_start
	run --separate-stderr vhu -j batch - <<-'EOF'
		set-status ACKNOWLEDGE,DRIVER,FEATURES_OK
		get-status
	EOF
	assert_success
	assert_json '.steps[1].status.mask == "0x0b"'
	assert_json '.steps[1].status.names == ["VIRTIO_CONFIG_S_ACKNOWLEDGE", "VIRTIO_CONFIG_S_DRIVER", "VIRTIO_CONFIG_S_FEATURES_OK"]'
}

@test "set-status: 0x value, none, bad name" {
	mock_start
	run --separate-stderr vhu -j set-status 0x0f
	assert_success
	run --separate-stderr vhu set-status none
	assert_success
	assert_line --regexp '^Status set: +0x00$'
	mock_log_clear
	run --separate-stderr vhu set-status DRIVER,NO_SUCH_STATUS
	assert_failure 64
	[[ $stderr == *NO_SUCH_STATUS* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ]
}

@test "get-status without STATUS: 3 naming VHOST_USER_PROTOCOL_F_STATUS, GET_STATUS not sent" {
	mock_start --protocol-features 0x0000000000000001
	run --separate-stderr vhu get-status
	assert_failure 3
	assert_one_line_error GET_STATUS
	[[ $stderr == *VHOST_USER_PROTOCOL_F_STATUS* ]] || fail "stderr: $stderr"
	[ "$(mock_count GET_STATUS)" -eq 0 ] || fail "log: $(mock_log)"
	[ -z "$output" ]
}

@test "get-status without STATUS: -j gives exit_status 3 and the error" {
	mock_start --protocol-features 0x0000000000000001
	run --separate-stderr vhu -j get-status
	assert_failure 3
	assert_json '.vhuctl.exit_status == 3 and (.error | test("VHOST_USER_PROTOCOL_F_STATUS"))'
}

@test "get-status --force sends GET_STATUS anyway" {
	mock_start --protocol-features 0x0000000000000001
	run --separate-stderr vhu --force get-status
	assert_success
	assert_output --regexp '^Status: +0x00$'
	[ "$(mock_count GET_STATUS)" -eq 1 ] || fail "log: $(mock_log)"
}

@test "set-status without STATUS: 3, not sent" {
	mock_start --protocol-features 0x0000000000000001
	run --separate-stderr vhu set-status DRIVER
	assert_failure 3
	assert_one_line_error SET_STATUS
	[ "$(mock_count SET_STATUS)" -eq 0 ]
}

# ---- set-owner, reset-device ----------------------------------------------

@test "set-owner with REPLY_ACK: NEED_REPLY sent, acknowledged" {
	mock_start
	run --separate-stderr vhu set-owner
	assert_success
	assert_line --regexp '^Acknowledged: +yes$'
	assert_equal "$(grep '^SET_OWNER' "$MOCK_LOG")" "SET_OWNER flags=0x9 size=0 fds=0"
	run --separate-stderr vhu -j set-owner
	assert_json '.request == "SET_OWNER" and .acked == true'
}

@test "set-owner without REPLY_ACK: no NEED_REPLY, GET_FEATURES barrier follows" {
	mock_start --protocol-features 0x0000000000000001
	run --separate-stderr vhu -j set-owner
	assert_success
	assert_json '.acked == false'
	assert_equal "$(grep '^SET_OWNER' "$MOCK_LOG")" "SET_OWNER flags=0x1 size=0 fds=0"
	assert_equal "$(tail -1 "$MOCK_LOG")" "GET_FEATURES flags=0x1 size=0 fds=0"
}

@test "set-owner refused (nak): exit 1, 'refused' and SET_OWNER on stderr" {
	mock_start --fault SET_OWNER:nak
	run --separate-stderr vhu set-owner
	assert_failure 1
	assert_one_line_error SET_OWNER
	[[ $stderr == *refused* ]] || fail "stderr: $stderr"
	run --separate-stderr vhu -j set-owner
	assert_failure 1
	assert_json '.vhuctl.exit_status == 1 and (.error | test("refused"))'
}

@test "reset-device with REPLY_ACK: acknowledged; nak: 1" {
	mock_start --fault RESET_DEVICE:nak:5
	run --separate-stderr vhu reset-device
	assert_failure 1
	assert_one_line_error RESET_DEVICE
	[[ $stderr == *refused* ]] || fail "stderr: $stderr"
	mock_stop
	mock_start
	run --separate-stderr vhu -j reset-device
	assert_success
	assert_json '.request == "RESET_DEVICE" and .acked == true'
	assert_equal "$(grep '^RESET_DEVICE' "$MOCK_LOG")" "RESET_DEVICE flags=0x9 size=0 fds=0"
}

@test "reset-device without RESET_DEVICE offered: 3, not sent" {
	mock_start --protocol-features 0x0000000000000008
	run --separate-stderr vhu reset-device
	assert_failure 3
	assert_one_line_error RESET_DEVICE
	[[ $stderr == *VHOST_USER_PROTOCOL_F_RESET_DEVICE* ]] || fail "stderr: $stderr"
	[ "$(mock_count RESET_DEVICE)" -eq 0 ]
}

# ---- probe ----------------------------------------------------------------

@test "probe: text shows everything the default mock offers" {
	mock_start --queues 3 --mem-slots 8
	run --separate-stderr vhu probe
	assert_success
	assert_line --regexp '^Features: +0x0000000170000000$'
	assert_line --regexp '^Protocol features: +0x00000000000db22b$'
	assert_line --regexp '^Queues: +3$'
	assert_line --regexp '^Memory slots: +8$'
	assert_line --regexp '^Status: +0x00$'
	assert_line 'Config:'
	assert_line --regexp '^ +\(nothing\)$'
	refute_output --partial 'does not offer'
}

@test "probe: JSON has queue_num, max_mem_slots, status, config and no skipped steps" {
	mock_start --queues 3 --mem-slots 8
	run --separate-stderr vhu -j probe
	assert_success
	assert_json '.queue_num == 3 and .max_mem_slots == 8'
	assert_json '.features.mask == "0x0000000170000000"'
	assert_json '.protocol_features.mask == "0x00000000000db22b"'
	assert_json '.status.mask == "0x00"'
	assert_json '.config.size == 256'
	assert_json '.skipped == {}'
}

@test "probe: changes nothing (no SET_FEATURES, SET_OWNER, SET_STATUS, SET_CONFIG)" {
	mock_start
	run vhu probe
	assert_success
	run grep -E '^(SET_FEATURES|SET_OWNER|SET_STATUS|SET_CONFIG|RESET_)' "$MOCK_LOG"
	assert_failure
}

@test "probe: steps the back-end lacks features for are skipped with reasons" {
	mock_start --protocol-features 0x1
	run --separate-stderr vhu -j probe
	assert_success
	assert_json '.queue_num == 2'
	assert_json 'has("max_mem_slots") | not'
	assert_json '.skipped.max_mem_slots | test("VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS")'
	assert_json '.skipped.status | test("VHOST_USER_PROTOCOL_F_STATUS")'
	assert_json '.skipped.config | test("VHOST_USER_PROTOCOL_F_CONFIG")'
	assert_json '.skipped | has("queue_num") | not'
	[ "$(mock_count GET_STATUS)" -eq 0 ]
	[ "$(mock_count GET_MAX_MEM_SLOTS)" -eq 0 ]
	[ "$(mock_count GET_CONFIG)" -eq 0 ]
	run --separate-stderr vhu probe
	assert_success
	assert_line 'Skipped:'
	assert_line --regexp '^ +status: .*VHOST_USER_PROTOCOL_F_STATUS'
}

@test "probe: without VHOST_USER_F_PROTOCOL_FEATURES only GET_FEATURES is sent" {
	mock_start --features 0x0000000100000000
	run --separate-stderr vhu -j probe
	assert_success
	assert_json '.skipped.protocol_features | test("bit 30")'
	assert_json 'has("queue_num") | not'
	run grep -v '^GET_FEATURES ' "$MOCK_LOG"
	assert_failure
}

@test "probe: negotiates only the known protocol features offered" {
	mock_start --protocol-features 0x00400000000db22b
	run --separate-stderr vhu -j probe
	assert_success
	assert_json '.protocol_features.mask == "0x00400000000db22b"'
	assert_json '.acked_protocol_features.mask == "0x00000000000db22b"'
}

@test "probe --type blk decodes the config" {
	mock_start
	run --separate-stderr vhu -j -T blk probe
	assert_success
	assert_json '.config.type == "blk" and .config.fields.capacity == 0'
}

@test "probe: a step that times out ends the probe with 75, JSON keeps what was read" {
	mock_start --fault GET_STATUS:silent
	run --separate-stderr vhu -t 30 -j probe
	assert_failure 75
	assert_json '.vhuctl.exit_status == 75 and (.error | test("GET_STATUS"))'
	assert_json '.queue_num == 2 and .max_mem_slots == 32'
	assert_one_line_error GET_STATUS
}

@test "probe: a refused GET_CONFIG is skipped, not fatal" {
	mock_start --fault GET_CONFIG:empty-config
	run --separate-stderr vhu -t 1 -j probe
	assert_success
	assert_json '.skipped.config | test("GET_CONFIG")'
	assert_json '.status.mask == "0x00"'
}

@test "set-protocol-features: malformed masks are 64 and nothing is sent" {
	mock_start
	local m
	for m in '' 0x 0xzz 64 bit_64 offered,NO_SUCH; do
		run --separate-stderr vhu set-protocol-features "$m"
		[ "$status" -eq 64 ] || fail "'$m': exit $status"
	done
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "set-protocol-features: names are case-insensitive, 'all' is 'offered'" {
	mock_start --protocol-features 0x0000000000000009
	run --separate-stderr vhu -j set-protocol-features mq
	assert_success
	assert_json '.acked_protocol_features.mask == "0x0000000000000001"'
	run --separate-stderr vhu -j set-protocol-features all
	assert_success
	assert_json '.acked_protocol_features.mask == "0x0000000000000009"'
}

@test "set-protocol-features without VHOST_USER_F_PROTOCOL_FEATURES: 3, only GET_FEATURES sent" {
	mock_start --features 0x0000000100000000
	run --separate-stderr vhu set-protocol-features MQ
	assert_failure 3
	assert_one_line_error GET_PROTOCOL_FEATURES
	[ "$(mock_log)" = "GET_FEATURES flags=0x1 size=0 fds=0" ] || fail "log: $(mock_log)"
}

@test "set-status: a value above 0xff is 64, nothing sent" {
	mock_start
	run --separate-stderr vhu set-status 0x100
	assert_failure 64
	[ ! -s "$MOCK_LOG" ]
}

@test "JSON masks carry bits: a script finds FLUSH (9) by number without --type" {
	mock_start --features 0x0000000100000206
	run --separate-stderr vhu -j get-features
	assert_success
	assert_json '.features.bits == [1, 2, 9, 32]'
	assert_json '.json_format_version == [1, 1]'
	mock_stop
	mock_start --features 0x0000000140000206
	run --separate-stderr vhu -j probe
	assert_success
	assert_json '.features.bits | index(9) != null'
	assert_json '.features.names | index("bit_9") != null'
	assert_json '.protocol_features.bits == [0, 1, 3, 5, 9, 12, 13, 15, 16, 18, 19]'
	assert_json '.status.bits == []'
}
