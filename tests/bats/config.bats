#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# get-config / set-config against the mock's config space (--config HEX).

load helpers

# A 60-byte virtio-blk config: capacity 0x200000 sectors (offset 0),
# blk_size 4096 (offset 20), writeback 0 (offset 32), num_queues 4 (34).
blk_config() {
	echo "$(le 2097152 8)$(zeros 12)$(le 4096 4)$(zeros 8)00$(zeros 1)$(le 4 2)$(zeros 24)"
}

# Features: VERSION_1, PROTOCOL_FEATURES, BLK_F_BLK_SIZE (6),
# BLK_F_CONFIG_WCE (11), BLK_F_MQ (12).
BLK_FEATURES=0x0000000140001840

@test "blk_config helper builds 60 bytes with the fields where the spec puts them" {
	local c
	c=$(blk_config)
	[ "${#c}" -eq 120 ]
	[ "${c:0:16}" = 0000200000000000 ]
	[ "${c:40:8}" = 00100000 ]
	[ "${c:68:4}" = 0400 ]
}

@test "get-config without --type: raw hex dump and the --type hint" {
	mock_start --config "0102030405060708$(zeros 8)"
	run --separate-stderr vhu get-config -n 16
	assert_success
	assert_line --regexp '^ +size: +16 bytes$'
	assert_line --regexp '^ +0000: 01 02 03 04 05 06 07 08 00 00 00 00 00 00 00 00 '
	assert_output --partial '--type'
	run --separate-stderr vhu -j get-config -n 16
	assert_success
	assert_json '.config.bytes == "01020304050607080000000000000000"'
	assert_json '.config.offset == 0 and .config.size == 16'
}

@test "get-config without --type reads 256 bytes by default" {
	mock_start
	run --separate-stderr vhu -j get-config
	assert_success
	assert_json '.config.size == 256 and (.config.bytes | length) == 512'
}

@test "get-config --offset and --size read a window" {
	mock_start --config "00112233445566778899aabbccddeeff"
	run --separate-stderr vhu -j get-config -o 4 -n 3
	assert_success
	assert_json '.config.offset == 4 and .config.size == 3 and .config.bytes == "445566"'
}

@test "get-config --type blk: capacity, blk_size, num_queues decoded (text)" {
	mock_start --features $BLK_FEATURES --config "$(blk_config)"
	run --separate-stderr vhu -T blk get-config
	assert_success
	assert_line --regexp '^ +type: +blk$'
	assert_line --regexp '^ +capacity: +2097152 512-byte sectors$'
	assert_line --regexp '^ +blk_size: +4096 bytes$'
	assert_line --regexp '^ +num_queues: +4$'
	assert_line --regexp '^ +size: +60 bytes$'
}

@test "get-config --type blk: JSON numbers" {
	mock_start --features $BLK_FEATURES --config "$(blk_config)"
	run --separate-stderr vhu -j -T blk get-config
	assert_success
	assert_json '.config.type == "blk"'
	assert_json '.config.fields.capacity == 2097152'
	assert_json '.config.fields.blk_size == 4096'
	assert_json '.config.fields.num_queues == 4'
	assert_json '.config.fields.writeback == 0'
	assert_json '(.config.fields.capacity | type) == "number"'
	assert_json '.config.not_offered | index("blk_size") == null'
	assert_json '.config.not_offered | index("size_max") != null'
	assert_json '.config.truncated == false'
}

@test "get-config --type blk marks fields whose feature is not offered" {
	mock_start --features 0x0000000140000000 --config "$(blk_config)"
	run --separate-stderr vhu -T blk get-config
	assert_success
	assert_line --regexp '^ +blk_size \(feature not offered\): +4096 bytes$'
	assert_line --regexp '^ +capacity: +2097152 '
}

@test "get-config --type fs: tag string and num_request_queues" {
	local tag
	tag=$(printf 'myfs' | od -An -tx1 | tr -d ' \n')
	mock_start --config "${tag}$(zeros 32)$(le 2 4)$(zeros 4)"
	run --separate-stderr vhu -j -T fs get-config
	assert_success
	assert_json '.config.fields.tag == "myfs"'
	assert_json '.config.fields.num_request_queues == 2'
	run --separate-stderr vhu -T fs get-config
	assert_line --regexp '^ +tag: +myfs$'
}

@test "get-config --type fs: a full 36-byte tag has no terminator" {
	local tag
	tag=$(printf 'abcdefghijklmnopqrstuvwxyz0123456789' | od -An -tx1 | tr -d ' \n')
	mock_start --config "${tag}$(le 1 4)$(zeros 4)"
	run --separate-stderr vhu -j -T fs get-config
	assert_success
	assert_json '.config.fields.tag == "abcdefghijklmnopqrstuvwxyz0123456789"'
	assert_json '.config.fields.num_request_queues == 1'
}

@test "get-config --type net: mac string" {
	mock_start --features 0x0000000140000020 --config "525400123456$(zeros 22)"
	run --separate-stderr vhu -j -T net get-config
	assert_success
	assert_json '.config.fields.mac == "52:54:00:12:34:56"'
	run --separate-stderr vhu -T net get-config
	assert_line --regexp '^ +mac: +52:54:00:12:34:56$'
}

@test "empty-config fault: exit 1 naming GET_CONFIG" {
	mock_start --fault GET_CONFIG:empty-config
	run --separate-stderr vhu -t 30 get-config -n 16
	assert_failure 1
	assert_one_line_error GET_CONFIG
}

@test "config-offset fault: 2" {
	mock_start --fault GET_CONFIG:config-offset
	run --separate-stderr vhu -t 30 get-config -n 16
	assert_failure 2
	assert_one_line_error GET_CONFIG
	[[ $stderr == *offset* ]] || fail "stderr: $stderr"
}

@test "config-size fault: 2" {
	mock_start --fault GET_CONFIG:config-size
	run --separate-stderr vhu -t 30 get-config -n 16
	assert_failure 2
	assert_one_line_error GET_CONFIG
	[[ $stderr == *size* ]] || fail "stderr: $stderr"
}

@test "get-config --size 300: 64 and nothing sent" {
	mock_start
	run --separate-stderr vhu get-config --size 300
	assert_failure 64
	[[ $stderr == *300* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "get-config: offset + size beyond 256 and size 0: 64, nothing sent" {
	mock_start
	run vhu get-config -o 200 -n 100
	assert_failure 64
	run vhu get-config -n 0
	assert_failure 64
	run vhu get-config -n abc
	assert_failure 64
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "get-config: unknown flag name and unknown option: 64" {
	mock_start
	run vhu get-config --flags bogus
	assert_failure 64
	run vhu get-config --bogus
	assert_failure 64
	run vhu set-config --hex 00 --bogus
	assert_failure 64
	run vhu set-config --hex 00 --flags bogus
	assert_failure 64
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "set-config --hex then get-config shows the bytes (mock keeps config)" {
	mock_start
	run --separate-stderr vhu set-config --hex 0a0b0c -o 4
	assert_success
	assert_line --regexp '^Offset: +4$'
	assert_line --regexp '^Acknowledged: +yes$'
	assert_equal "$(grep '^SET_CONFIG' "$MOCK_LOG")" "SET_CONFIG flags=0x9 size=15 fds=0"
	run --separate-stderr vhu -j get-config -n 8
	assert_success
	assert_json '.config.bytes == "000000000a0b0c00"'
}

@test "set-config --hex with colons, JSON output" {
	mock_start
	run --separate-stderr vhu -j set-config --hex 0a:0b -o 1
	assert_success
	assert_json '.offset == 1 and .acked == true'
	run --separate-stderr vhu -j get-config -n 4
	assert_json '.config.bytes == "000a0b00"'
}

@test "set-config --field writeback=1 with --type blk, then get-config shows it" {
	mock_start --features $BLK_FEATURES --config "$(blk_config)"
	run --separate-stderr vhu -T blk set-config --field writeback=1
	assert_success
	assert_line --regexp '^Offset: +32$'
	assert_equal "$(grep '^SET_CONFIG' "$MOCK_LOG")" "SET_CONFIG flags=0x9 size=13 fds=0"
	run --separate-stderr vhu -j -T blk get-config
	assert_success
	assert_json '.config.fields.writeback == 1'
	# the neighbours are untouched
	assert_json '.config.fields.num_queues == 4 and .config.fields.capacity == 2097152'
}

@test "set-config --field on a read-only field: 64 and nothing sent" {
	mock_start --config "$(blk_config)"
	run --separate-stderr vhu -T blk set-config --field capacity=5
	assert_failure 64
	[[ $stderr == *read-only* ]] || fail "stderr: $stderr"
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "set-config --field: unknown field, no --type, bad value, both --hex and --field: 64" {
	mock_start
	run vhu -T blk set-config --field nosuchfield=1
	assert_failure 64
	run vhu set-config --field writeback=1
	assert_failure 64
	run vhu -T blk set-config --field writeback=notanumber
	assert_failure 64
	run vhu -T blk set-config --field writeback=256
	assert_failure 64
	run vhu -T blk set-config --field writeback=1 --hex 00
	assert_failure 64
	run vhu set-config
	assert_failure 64
	run vhu set-config --hex 0g
	assert_failure 64
	run vhu set-config --hex 00 -o 256
	assert_failure 64
	[ ! -s "$MOCK_LOG" ] || fail "sent: $(mock_log)"
}

@test "get-config without CONFIG offered: 3 naming VHOST_USER_PROTOCOL_F_CONFIG, not sent" {
	mock_start --protocol-features 0x0000000000000009
	run --separate-stderr vhu get-config
	assert_failure 3
	assert_one_line_error GET_CONFIG
	[[ $stderr == *VHOST_USER_PROTOCOL_F_CONFIG* ]] || fail "stderr: $stderr"
	[ "$(mock_count GET_CONFIG)" -eq 0 ]
}

@test "set-config without CONFIG offered: 3, not sent" {
	mock_start --protocol-features 0x0000000000000009
	run --separate-stderr vhu set-config --hex 00
	assert_failure 3
	assert_one_line_error SET_CONFIG
	[ "$(mock_count SET_CONFIG)" -eq 0 ]
}

@test "get-config --force without CONFIG offered sends it" {
	mock_start --protocol-features 0x0000000000000009
	run --separate-stderr vhu --force -j get-config -n 4
	assert_success
	[ "$(mock_count GET_CONFIG)" -eq 1 ]
}

@test "set-config refused (nak): 1 naming SET_CONFIG" {
	mock_start --fault SET_CONFIG:nak
	run --separate-stderr vhu -t 30 set-config --hex 01
	assert_failure 1
	assert_one_line_error SET_CONFIG
	[[ $stderr == *refused* ]] || fail "stderr: $stderr"
}

@test "get-config --type blk with a window that cuts a field: truncated, warning" {
	mock_start --features $BLK_FEATURES --config "$(blk_config)"
	run --separate-stderr vhu -j -T blk get-config -n 22
	assert_success
	assert_json '.config.truncated == true and .config.fields.capacity == 2097152'
	assert_json '.config.fields | has("blk_size") | not'
	[[ $stderr == *warning* ]] || fail "stderr: $stderr"
}

@test "get-config --type blk --offset 20: fields are placed by absolute offset" {
	mock_start --features $BLK_FEATURES --config "$(blk_config)"
	run --separate-stderr vhu -j -T blk get-config -o 20 -n 16
	assert_success
	assert_json '.config.offset == 20 and .config.size == 16'
	assert_json '.config.fields.blk_size == 4096 and .config.fields.num_queues == 4'
	assert_json '.config.fields | has("capacity") | not'
}

@test "get-config -T input --select ID_NAME writes select/subsel with SET_CONFIG, then decodes the name" {
	# select 0, subsel 0, size 4, reserved, then "test" in the union
	mock_start --config "000004$(zeros 5)74657374$(zeros 124)"
	run --separate-stderr vhu -T input -j get-config --select ID_NAME
	assert_success
	assert_json '.config.fields.select == 1'
	assert_json '.config.fields.size == 4'
	assert_json '.config.fields.string == "test"'
	run grep -c '^SET_CONFIG' "$MOCK_LOG"
	assert_output 1
	run --separate-stderr vhu get-config --select ID_NAME
	assert_failure 64
	[[ "$stderr" == *"--select needs --type input"* ]]
}

@test "get-config -T input --select ABS_INFO: abs.min and abs.max are signed" {
	# select 0x12, subsel 0, size 20; min -32768, max 32767, fuzz 16, flat 8, res 0
	mock_start --config "120014$(zeros 5)0080ffffff7f00001000000008000000$(zeros 4)$(zeros 108)"
	run --separate-stderr vhu -T input -j get-config --select ABS_INFO
	assert_success
	assert_json '.config.fields.abs.min == -32768 and .config.fields.abs.max == 32767'
	assert_json '.config.fields.abs.fuzz == 16 and .config.fields.abs.flat == 8'
	assert_json '.select_echoed == true and (has("warnings") | not)'
	run --separate-stderr vhu -T input get-config --select ABS_INFO
	assert_success
	assert_output --regexp 'min: +-32768'
	assert_output --regexp 'max: +32767'
}

@test "get-config --select: a device that ignores SET_CONFIG is named, not decoded silently" {
	# The device keeps answering ID_NAME ("test") whatever is selected.
	mock_start --config "010004$(zeros 5)74657374$(zeros 124)" --fault SET_CONFIG:ignore
	run --separate-stderr vhu -T input -j get-config --select ABS_INFO --subsel 3
	assert_success
	assert_json '.select_echoed == false'
	assert_json '.warnings | length == 1'
	assert_json '.warnings[0] | test("select 0x01 subsel 0, not the 0x12 subsel 3")'
	[[ "$stderr" == *"may ignore SET_CONFIG"* ]] || fail "stderr: $stderr"
	run grep -c '^SET_CONFIG' "$MOCK_LOG"
	assert_output 1
	# Text mode: the same warning on stderr, once.
	run --separate-stderr vhu -T input get-config --select ABS_INFO --subsel 3
	assert_success
	[ "$(grep -c 'may ignore SET_CONFIG' <<<"$stderr")" -eq 1 ] || fail "stderr: $stderr"
	assert_output --partial 'Select echoed:               no'
	# Reading from offset 8: select/subsel are fetched on their own.
	run --separate-stderr vhu -T input -j get-config --select ABS_INFO --offset 8 --size 20
	assert_success
	assert_json '.select_echoed == false'
}

@test "a refused GET_CONFIG with --type: the hint points at the offered features' extent, not at --type" {
	# blk offering SIZE_MAX, SEG_MAX, BLK_SIZE, MQ but no DISCARD, WRITE_ZEROES:
	# its fields end with num_queues at byte 36.
	mock_start --features $BLK_FEATURES --fault GET_CONFIG:empty-config
	run --separate-stderr vhu -T blk get-config
	assert_failure 1
	assert_one_line_error GET_CONFIG
	[[ "$stderr" == *"end at byte 36: try -n 36"* ]] || fail "stderr: $stderr"
	[[ "$stderr" != *"--type"* ]] || fail "suggests --type although it was given: $stderr"
	run --separate-stderr vhu -T blk -j probe
	assert_success
	assert_json '.skipped.config | test("try -n 36")'
	# Without --type the layout is unknown: then --type is the hint.
	run --separate-stderr vhu get-config
	assert_failure 1
	[[ "$stderr" == *"--type for its layout"* ]] || fail "stderr: $stderr"
}

@test "get-config JSON: raw holds the bytes read, with --type as without" {
	mock_start --features $BLK_FEATURES --config "$(blk_config)"
	run --separate-stderr vhu -j -T blk get-config
	assert_success
	assert_json ".config.raw == \"$(blk_config)\" and .config.fields.capacity == 2097152"
	run --separate-stderr vhu -j get-config -n 60
	assert_success
	assert_json ".config.raw == \"$(blk_config)\" and .config.bytes == .config.raw"
	run --separate-stderr vhu -j -T blk get-config --offset 20 --size 4
	assert_success
	assert_json '.config.raw == "00100000" and .config.fields.blk_size == 4096'
}

@test "get-config -T net: speed and duplex unknown, status and hash types by name" {
	# mac, status LINK_UP|ANNOUNCE, 1 pair, mtu 1500, speed 0xffffffff,
	# duplex 0xff, key 40, table 128, hash types IPv4|TCPv4|UDP_EX|bit 9
	mock_start --features 0x8000000140010020 --config "525400123456$(le 3 2)$(le 1 2)$(le 1500 2)ffffffffff28$(le 128 2)$(le 0x303 4)$(zeros 4)"
	run --separate-stderr vhu -j -T net get-config
	assert_success
	assert_json '.config.fields.speed == 4294967295 and .config.fields.speed_name == "unknown"'
	assert_json '.config.fields.duplex == 255 and .config.fields.duplex_name == "unknown"'
	assert_json '.config.fields.status == 3 and .config.fields.status_names == ["VIRTIO_NET_S_LINK_UP", "VIRTIO_NET_S_ANNOUNCE"]'
	assert_json '.config.fields.supported_hash_types == 771'
	assert_json '.config.fields.supported_hash_types_names == ["VIRTIO_NET_RSS_HASH_TYPE_IPv4", "VIRTIO_NET_RSS_HASH_TYPE_TCPv4", "VIRTIO_NET_RSS_HASH_TYPE_UDP_EX", "bit_9"]'
	assert_json '.config.fields.supported_tunnel_types_names == [] and (.config.fields | has("mtu_name") | not)'
	run --separate-stderr vhu -T net get-config
	assert_success
	assert_line --regexp '^ +speed: +4294967295 Mbit/s \(unknown\)$'
	assert_line --regexp '^ +duplex: +255 \(unknown\)$'
	assert_line --regexp '^ +status: +3 \(VIRTIO_NET_S_LINK_UP, VIRTIO_NET_S_ANNOUNCE\)$'
}

@test "get-config: a known speed has no name; full duplex, blk writeback, input select by name" {
	mock_start --features 0x8000000140000000 --config "$(zeros 12)$(le 10000 4)01$(zeros 11)"
	run --separate-stderr vhu -j -T net get-config
	assert_success
	assert_json '.config.fields.speed == 10000 and (.config.fields | has("speed_name") | not)'
	assert_json '.config.fields.duplex_name == "full"'
	mock_stop
	mock_start --features $BLK_FEATURES --config "$(zeros 32)01$(zeros 27)"
	run --separate-stderr vhu -j -T blk get-config
	assert_success
	assert_json '.config.fields.writeback == 1 and .config.fields.writeback_name == "writeback"'
	mock_stop
	mock_start --config "110014$(zeros 133)"
	run --separate-stderr vhu -j -T input get-config
	assert_success
	assert_json '.config.fields.select == 17 and .config.fields.select_name == "EV_BITS"'
}
