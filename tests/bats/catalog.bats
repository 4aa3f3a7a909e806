#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The catalog and the mock agree.  Every front-end row that `vhuctl list`
# prints is sent with `raw` to the mock, and the answer must be the one
# the row promises: its own reply within the row's size and fd bounds,
# or the u64 ack to NEED_REPLY.  The rows are read from the program, not
# listed here, so a request added to the catalog is walked too; a mock
# that leaves a request unanswered times out and fails this test.

load helpers

@test "every catalog request gets the reply its row promises from the mock" {
	local rows line name reply req_min fds_min rmin rmax rfmin rfmax hex size fds bad="" sent=0
	local -a rowlines flags
	mock_start
	run "$VHUCTL" -j list requests
	assert_success
	rows=$output
	mapfile -t rowlines < <(jq -r '.requests[] | [.name, .reply, .request_min, .fds_min, .reply_min,
		.reply_max, .reply_fds_min, .reply_fds_max] | @tsv' <<<"$rows")
	[ "${#rowlines[@]}" -ge 46 ] || fail "only ${#rowlines[@]} requests listed"
	for line in "${rowlines[@]}"; do
		IFS=$'\t' read -r name reply req_min fds_min rmin rmax rfmin rfmax <<<"$line"
		hex=$(zeros "$req_min")
		flags=()
		case $reply in
		ack)
			# The ack is the u64 status answering NEED_REPLY.
			flags=(--need-reply) rmin=8 rmax=8 rfmin=0 rfmax=0
			# Keep REPLY_ACK on: the new value counts for this message.
			[ "$name" != SET_PROTOCOL_FEATURES ] || hex=0800000000000000
			;;
		log) flags=(--reply) ;; # LOG_SHMFD is negotiated by --negotiate
		always) ;;
		*)
			bad+=" $name:reply=$reply"
			continue
			;;
		esac
		sent=$((sent + 1))
		run --separate-stderr "$VHUCTL" -s "$SOCK" -t 30 -j raw --negotiate --eventfds "$fds_min" \
			"${flags[@]}" "$name" ${hex:+"$hex"} </dev/null
		if [ "$status" -ne 0 ]; then
			bad+=" $name:exit=$status($stderr)"
			continue
		fi
		size=$(jq -r .reply.size <<<"$output")
		fds=$(jq -r .reply.fds <<<"$output")
		if [ "$size" -lt "$rmin" ] || [ "$size" -gt "$rmax" ]; then
			bad+=" $name:size=$size(not $rmin..$rmax)"
		fi
		if [ "$fds" -lt "$rfmin" ] || [ "$fds" -gt "$rfmax" ]; then
			bad+=" $name:fds=$fds(not $rfmin..$rfmax)"
		fi
		if [ "$reply" = ack ] && [ "$(jq -r .reply.payload <<<"$output")" != 0000000000000000 ]; then
			bad+=" $name:ack=$(jq -r .reply.payload <<<"$output")"
		fi
	done
	[ -z "$bad" ] || fail "catalog and mock disagree:$bad"
	[ "$sent" -eq "${#rowlines[@]}" ]
}
