#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The back-end channel (set-backend-req-fd, watch, batch between steps),
# GET_SHARED_OBJECT and crosvm's GET_SHARED_MEMORY_REGIONS against the mock.
# The mock sends its --backend-msg requests before it acks
# SET_BACKEND_REQ_FD (or on=REQ), and logs each answer it reads back as
# `BACKEND_ACK NAME value=N` (see tests/mock/README.md).

load helpers

# Mock protocol features: the default, + BACKEND_SEND_FD and HOST_NOTIFIER,
# - BACKEND_REQ, - SHARED_OBJECT.
PF_DEFAULT=db22b
PF_FDS=dbe2b
PF_NO_CHAN=db20b
PF_NO_SHOBJ=9b22b
UUID=1b4e28ba-2fa1-11d2-883f-0016d3cca427

# The mock reads answers asynchronously: wait (at most 5 s) for a log line.
# ---- set-backend-req-fd ----

@test "set-backend-req-fd: a back-end request is printed decoded and acked with 0" {
	mock_start --backend-msg IOTLB_MSG:need-reply
	run --separate-stderr vhu set-backend-req-fd
	assert_success
	assert_output --partial "Back-end channel:            open"
	assert_line "channel: BACKEND_IOTLB_MSG code=1 flags=0x9 size=32 fds=0 iova=0x100000 size=0x1000 uaddr=0x0 perm=1 type=1 need_reply answered=0"
	grep -q '^SET_BACKEND_REQ_FD flags=0x9 size=0 fds=1$' "$MOCK_LOG"
	mock_wait_log '^BACKEND_ACK IOTLB_MSG value=0$'
}

@test "set-backend-req-fd --json: the message object, answered 0" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply
	run --separate-stderr vhu -j set-backend-req-fd
	assert_success
	assert_json '.backend_channel == "open" and .backend_send_fd == false'
	assert_json '.messages | length == 1'
	assert_json '.messages[0] | .request == "BACKEND_CONFIG_CHANGE_MSG" and .code == 2 and .flags == "0x9"
		and .size == 0 and .fds == 0 and .fd_info == [] and .decoded == "" and .need_reply == true
		and .answered == 0'
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG value=0$'
}

@test "set-backend-req-fd: an unknown request is printed raw and answered 1 when it asks" {
	mock_start --backend-msg 77:need-reply
	run --separate-stderr vhu -j set-backend-req-fd
	assert_success
	assert_json '.messages[0] | .request == "REQ_77" and .code == 77 and .payload == "0102030405060708"
		and .decoded == "data=0102030405060708" and .answered == 1'
	assert_json '.warnings | any(test("unknown back-end request code 77"))'
	mock_wait_log '^BACKEND_ACK REQ_77 value=1$'
}

@test "set-backend-req-fd: no answer without NEED_REPLY (answered is null)" {
	mock_start --backend-msg 77 --backend-msg VRING_CALL
	run --separate-stderr vhu -j set-backend-req-fd
	assert_success
	assert_json '.messages | length == 2'
	assert_json '.messages[0].answered == null and .messages[0].need_reply == false'
	assert_json '.messages[1] | .request == "BACKEND_VRING_CALL" and .decoded == "vring=0 num=0" and .answered == null'
	mock_stop
	! grep -q '^BACKEND_ACK' "$MOCK_LOG" || fail "the log has ^BACKEND_ACK: $(mock_log)"
	! grep -q '^BACKEND_NOACK' "$MOCK_LOG" || fail "the log has ^BACKEND_NOACK: $(mock_log)"
}

@test "set-backend-req-fd: SHARED_OBJECT_LOOKUP is always answered, with failure and no fd" {
	mock_start --backend-msg SHARED_OBJECT_LOOKUP --backend-msg SHARED_OBJECT_ADD:need-reply
	run --separate-stderr vhu set-backend-req-fd
	assert_success
	assert_line "channel: BACKEND_SHARED_OBJECT_LOOKUP code=8 flags=0x1 size=16 fds=0 uuid=$UUID answered=1"
	assert_line "channel: BACKEND_SHARED_OBJECT_ADD code=6 flags=0x9 size=16 fds=0 uuid=$UUID need_reply answered=0"
	# BADACK would mean an fd, other flags or another size came back
	mock_wait_log '^BACKEND_ACK SHARED_OBJECT_ADD value=0$'
	grep -q '^BACKEND_ACK SHARED_OBJECT_LOOKUP value=1$' "$MOCK_LOG"
}

@test "set-backend-req-fd: SHMEM_MAP is refused (1); its fd is described and closed" {
	mock_start --protocol-features "$PF_FDS" --backend-msg SHMEM_MAP:need-reply:fd
	run --separate-stderr vhu -j set-backend-req-fd
	assert_success
	assert_json '.backend_send_fd == true'
	assert_json '.messages[0] | .request == "BACKEND_SHMEM_MAP" and .fds == 1
		and .fd_info == [{"type": "regular", "size": 4096}] and .answered == 1'
	assert_json '.messages[0].decoded == "shmid=0 fd_offset=0x0 shm_offset=0x0 len=0x1000 flags=0x1"'
	mock_wait_log '^BACKEND_ACK SHMEM_MAP value=1$'
}

@test "set-backend-req-fd: fds without BACKEND_SEND_FD are closed unexamined, with a warning" {
	mock_start --backend-msg VRING_HOST_NOTIFIER_MSG:fd:need-reply
	run --separate-stderr vhu -j set-backend-req-fd
	assert_success
	assert_json '.messages[0].fd_info == [{"type": "refused"}] and .messages[0].answered == 0'
	assert_json '.warnings | any(test("BACKEND_SEND_FD not negotiated"))'
	[[ $stderr == *"1 fd closed unexamined"* ]] || fail "stderr: $stderr"
}

@test "set-backend-req-fd: without BACKEND_REQ exits 3 naming the feature, nothing sent" {
	mock_start --protocol-features "$PF_NO_CHAN" --backend-msg CONFIG_CHANGE_MSG
	run --separate-stderr vhu set-backend-req-fd
	assert_failure 3
	assert_one_line_error VHOST_USER_PROTOCOL_F_BACKEND_REQ
	[ "$(mock_count SET_BACKEND_REQ_FD)" -eq 0 ]
	! grep -q '^BACKEND_' "$MOCK_LOG" || fail "the log has ^BACKEND_: $(mock_log)"
}

# ---- violations on the channel: exit 2, one line ----

@test "channel: a request with the REPLY flag is a protocol violation" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:flags=0x5
	run --separate-stderr vhu watch --count 1
	assert_failure 2
	assert_one_line_error "BACKEND_CONFIG_CHANGE_MSG: back-end request carries the REPLY flag"
}

@test "channel: reserved flag bits and a wrong version are violations" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:flags=0x11
	run --separate-stderr vhu set-backend-req-fd
	assert_failure 2
	assert_one_line_error "reserved flag bits"
	mock_stop
	mock_start --backend-msg IOTLB_MSG:flags=0x2
	run --separate-stderr vhu set-backend-req-fd
	assert_failure 2
	assert_one_line_error "version 2"
}

@test "channel: a size outside the catalog row is refused before reading" {
	mock_start --backend-msg IOTLB_MSG:size=40
	run --separate-stderr vhu watch --count 1
	assert_failure 2
	assert_one_line_error "BACKEND_IOTLB_MSG: payload of 40 bytes, the request has exactly 32"
	mock_stop
	mock_start --backend-msg 77:size=5000
	run --separate-stderr vhu watch --count 1
	assert_failure 2
	assert_one_line_error "REQ_77: payload of 5000 bytes exceeds the 4096-byte bound"
}

@test "channel: more than 8 fds, or fds after the first byte, are violations" {
	mock_start --protocol-features "$PF_FDS" --backend-msg CONFIG_CHANGE_MSG:fds=9
	run --separate-stderr vhu watch --count 1
	assert_failure 2
	assert_one_line_error "9 fds attached, at most 8"
	mock_stop
	mock_start --protocol-features "$PF_FDS" --backend-msg SHMEM_MAP:late-fd
	run --separate-stderr vhu watch --count 1
	assert_failure 2
	assert_one_line_error "after the first byte"
}

# ---- watch ----

@test "watch --count stops after N messages" {
	mock_start --backend-msg CONFIG_CHANGE_MSG --backend-msg VRING_ERR --backend-msg IOTLB_MSG:need-reply
	run_timed --separate-stderr vhu -j watch --count 2
	assert_success
	assert_json '.messages | length == 2'
	assert_json '[.messages[].request] == ["BACKEND_CONFIG_CHANGE_MSG", "BACKEND_VRING_ERR"]'
	assert_json '.received == 2 and .stopped_by == "count"'
	[ "$ELAPSED_MS" -lt 10000 ] || fail "took $ELAPSED_MS ms"
	grep -q '^SET_OWNER ' "$MOCK_LOG"
}

@test "watch --duration 0.5 ends in time with no messages" {
	mock_start
	run_timed --separate-stderr vhu -j watch --duration 0.5
	assert_success
	assert_json '.messages == [] and .received == 0 and .stopped_by == "duration"'
	[ "$ELAPSED_MS" -ge 450 ] && [ "$ELAPSED_MS" -lt 10000 ] || fail "took $ELAPSED_MS ms"
}

@test "watch text: one line per message, then the summary" {
	mock_start --protocol-features "$PF_FDS" --backend-msg VRING_HOST_NOTIFIER_MSG:fd:need-reply
	run --separate-stderr vhu watch --count 1
	assert_success
	assert_line "channel: BACKEND_VRING_HOST_NOTIFIER_MSG code=3 flags=0x9 size=24 fds=1 vring=0 size=4096 offset=0 fd0=regular:4096 need_reply answered=0"
	assert_line --regexp '^Received: +1$'
	assert_line --regexp '^Stopped by: +count$'
	mock_wait_log '^BACKEND_ACK VRING_HOST_NOTIFIER_MSG value=0$'
}

@test "watch ends when the back-end closes the channel" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply --backend-msg EOF
	run_timed --separate-stderr vhu -j watch
	assert_success
	assert_json '.received == 1 and .stopped_by == "closed"'
	[ "$ELAPSED_MS" -lt 10000 ] || fail "took $ELAPSED_MS ms"
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG value=0$'
}

@test "watch: a back-end that hangs up before its answer ends the watch as closed" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply --backend-msg CLOSE
	run --separate-stderr vhu -j watch
	assert_success
	assert_json '.received == 1 and .stopped_by == "closed"'
	# Whether the answer left before the hang-up is a race (vhuctl answers
	# while still waiting for the SET_BACKEND_REQ_FD ack); either way the
	# back-end never read it.
	assert_json '.messages[0].answered == null or .messages[0].answered == 0'
	grep -q '^BACKEND_NOACK CONFIG_CHANGE_MSG closed$' "$MOCK_LOG"
}

@test "watch: SIGINT completes the JSON document and exits 0" {
	local out=$BATS_TEST_TMPDIR/watch.json pid rc=0
	mock_start --backend-msg VRING_CALL
	"$VHUCTL" -s "$SOCK" -j watch >"$out" 2>/dev/null 3>&- &
	pid=$!
	# SIGINT once vhuctl catches it (its handler is installed for the
	# watch), and after the message went out.
	mock_wait_log '^BACKEND_SENT'
	wait_sigcatch "$pid" INT
	kill -INT "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit status $rc"
	output=$(cat "$out")
	assert_json '.received == 1 and .stopped_by == "interrupt" and .vhuctl.exit_status == 0'
}

@test "--trace shows channel traffic as B>F chan and F>B chan lines" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply
	run --separate-stderr vhu --trace watch --count 1
	assert_success
	[[ $stderr == *"trace: B>F chan BACKEND_CONFIG_CHANGE_MSG flags=0x9 size=0 fds=0"* ]] || fail "$stderr"
	[[ $stderr == *"trace: F>B chan BACKEND_CONFIG_CHANGE_MSG (reply) flags=0x5 size=8 fds=0 ack=0"* ]] || fail "$stderr"
}

@test "watch leaves no fd open (valgrind --track-fds)" {
	require_valgrind
	mock_start --protocol-features "$PF_FDS" --backend-msg VRING_HOST_NOTIFIER_MSG:fd:need-reply \
		--backend-msg SHMEM_MAP:fds=3:need-reply --backend-msg SHARED_OBJECT_LOOKUP --backend-msg 99:fd
	run --separate-stderr vhu_valgrind -j watch --count 4
	assert_success
	assert_json '.received == 4'
	assert_json '[.messages[].fds] == [1, 3, 0, 1]'
	assert_no_fd_leak
}

# ---- batch ----

@test "batch: channel messages that arrive later are printed after the step, in order" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply:on=GET_QUEUE_NUM \
		--backend-msg VRING_CALL:on=GET_QUEUE_NUM --backend-msg EOF:on=GET_STATUS
	printf '%s\n' set-backend-req-fd get-queue-num get-status get-features >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr vhu -j batch "$BATS_TEST_TMPDIR/b"
	assert_success
	assert_json '.steps[0].messages == []'
	assert_json '[.steps[1].channel_messages[].request] == ["BACKEND_CONFIG_CHANGE_MSG", "BACKEND_VRING_CALL"]'
	assert_json '.steps[1].channel_messages[0].answered == 0'
	assert_json '.steps[2].channel_closed == true and .steps[3].exit_status == 0'
	mock_wait_log '^BACKEND_ACK CONFIG_CHANGE_MSG value=0$'
}

@test "batch: a hang-up read while a step waits for its reply is reported after that step" {
	# The reply is held back, so vhuctl reads the channel's EOF while it
	# waits for the reply: the hang-up must still be reported, once.
	mock_start --backend-msg EOF:on=GET_STATUS --fault GET_STATUS:delay:300
	printf '%s\n' set-backend-req-fd get-status get-features get-queue-num >"$BATS_TEST_TMPDIR/b"
	run --separate-stderr vhu -j batch "$BATS_TEST_TMPDIR/b"
	assert_success
	assert_json '.steps[1].channel_closed == true'
	assert_json '[.steps[] | select(.channel_closed)] | length == 1'
	run --separate-stderr vhu batch "$BATS_TEST_TMPDIR/b"
	assert_success
	[ "$(grep -c '^channel: closed by the back-end$' <<<"$output")" -eq 1 ] || fail "$output"
}

@test "batch text: channel lines between the steps" {
	mock_start --backend-msg SHARED_OBJECT_REMOVE:on=GET_QUEUE_NUM
	run --separate-stderr vhu batch - <<<$'set-backend-req-fd\nget-queue-num\nget-features'
	assert_success
	# the line comes after get-queue-num's output and before step 3
	echo "$output" | awk '/^\[2\] get-queue-num/ { a = NR } /^channel: BACKEND_SHARED_OBJECT_REMOVE/ { b = NR }
		/^\[3\] get-features/ { c = NR } END { exit !(a && a < b && b < c) }' || fail "$output"
}

@test "batch: a channel violation fails the step it followed" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:flags=0x5:on=GET_QUEUE_NUM
	run --separate-stderr vhu -j batch - <<<$'set-backend-req-fd\nget-queue-num\nget-features'
	assert_failure 2
	assert_json '.steps | length == 2'
	assert_json '.steps[1].exit_status == 2 and (.steps[1].error | test("REPLY flag"))'
}

# ---- get-shared-object ----

@test "get-shared-object: found, with the fd's type and size" {
	mock_start --shared-object-fd
	run --separate-stderr vhu -j get-shared-object "$UUID"
	assert_success
	assert_json ".uuid == \"$UUID\" and .found == true and .fd == {\"type\": \"regular\", \"size\": 4096}"
	grep -q '^GET_SHARED_OBJECT flags=0x1 size=16 fds=0$' "$MOCK_LOG"
}

@test "get-shared-object: not found (no fd); the UUID goes out in RFC 4122 order" {
	mock_start
	run --separate-stderr vhu --trace get-shared-object 1B4E28BA2FA111D2883F0016D3CCA427
	assert_success
	assert_line --regexp '^Found: +no$'
	assert_line --regexp "^UUID: +$UUID\$"
	[[ $stderr == *"F>B GET_SHARED_OBJECT flags=0x1 size=16 fds=0 uuid=$UUID"* ]] || fail "$stderr"
}

@test "get-shared-object: a bad UUID is a usage error, nothing sent" {
	mock_start
	run --separate-stderr vhu get-shared-object 1b4e28ba-2fa1-11d2-883f
	assert_failure 64
	assert_one_line_error "invalid UUID"
	[ ! -s "$MOCK_LOG" ]
}

@test "get-shared-object: without SHARED_OBJECT exits 3, nothing sent" {
	mock_start --protocol-features "$PF_NO_SHOBJ"
	run --separate-stderr vhu get-shared-object "$UUID"
	assert_failure 3
	assert_one_line_error VHOST_USER_PROTOCOL_F_SHARED_OBJECT
	[ "$(mock_count GET_SHARED_OBJECT)" -eq 0 ]
}

# ---- get-shared-memory-regions (crosvm extension) ----

@test "get-shared-memory-regions: regions decoded" {
	mock_start --shm-regions 2
	run --separate-stderr vhu -j get-shared-memory-regions
	assert_success
	assert_json '.count == 2 and .regions == [{"id": 0, "length": 1048576}, {"id": 1, "length": 2097152}]'
	# no negotiation: the extension has no gate
	[ "$(cat "$MOCK_LOG")" = "GET_SHARED_MEMORY_REGIONS flags=0x1 size=0 fds=0" ]
}

@test "get-shared-memory-regions: a count that disagrees with the size exits 2" {
	mock_start --shm-regions 2 --fault GET_SHARED_MEMORY_REGIONS:shm-bad-count
	run --separate-stderr vhu get-shared-memory-regions
	assert_failure 2
	assert_one_line_error "GET_SHARED_MEMORY_REGIONS: reply announces 3 regions in 40 bytes"
}

@test "get-shared-memory-regions: help and summary say it is a crosvm extension" {
	run "$VHUCTL" get-shared-memory-regions --help
	assert_success
	assert_output --partial "crosvm front-end-family extension, NOT part of the common vhost-user"
	run "$VHUCTL" --help
	assert_output --partial "crosvm extension, not in the vhost-user spec"
}

@test "a back-end that waits for its channel ack before replying is served during the wait" {
	# The mock sends CONFIG_CHANGE_MSG when GET_QUEUE_NUM arrives and
	# answers GET_QUEUE_NUM only after the ack (spec: the front-end must
	# serve the channel while it waits on the main socket).
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply:block:on=GET_QUEUE_NUM
	printf '%s\n' set-backend-req-fd get-queue-num >"$BATS_TEST_TMPDIR/b"
	run_timed --separate-stderr vhu -j -t 3 batch "$BATS_TEST_TMPDIR/b"
	assert_success
	assert_json '.steps[1].queue_num == 2'
	assert_json '.steps[1].channel_messages[0].request == "BACKEND_CONFIG_CHANGE_MSG"'
	assert_json '.steps[1].channel_messages[0].answered == 0'
	# served during the wait: the mock got its ack, never gave up on it
	grep -q '^BACKEND_ACK CONFIG_CHANGE_MSG value=0$' "$MOCK_LOG"
	! grep -q '^BACKEND_NOACK' "$MOCK_LOG" || fail "the log has ^BACKEND_NOACK: $(mock_log)"
}

@test "watch shows messages served while its set-up requests waited for their acks" {
	mock_start --backend-msg CONFIG_CHANGE_MSG:need-reply:block
	run --separate-stderr vhu -j watch --duration 0.3
	assert_success
	assert_json '.received == 1'
	assert_json '.messages[0].request == "BACKEND_CONFIG_CHANGE_MSG" and .messages[0].answered == 0'
}
