# SPDX-License-Identifier: Apache-2.0
# qemu-storage-daemon (Debian 12: QEMU 7.2) for the e2e suites.
#
#   qsd_start ARGS  start it with ARGS; returns once it accepts on $SOCK
#                   (each wait at most 60 s: only a failure waits that
#                   long), else prints its log and returns 1
#   qsd_stop        stop it (for teardown); QSD_PID

qsd_start() {
	qemu-storage-daemon "$@" >"$BATS_TEST_TMPDIR/qsd.log" 2>&1 &
	QSD_PID=$!
	for _ in $(seq 1200); do
		[ -S "$SOCK" ] && break
		kill -0 "$QSD_PID" 2>/dev/null || break
		sleep 0.05
	done
	# The socket exists from bind(), before listen(): one round trip
	# (retried while refused) says the daemon accepts.
	[ -S "$SOCK" ] && "$VHUCTL" -s "$SOCK" -w 60 get-features >/dev/null && return 0
	cat "$BATS_TEST_TMPDIR/qsd.log" >&2
	return 1
}

qsd_stop() {
	if [ -n "${QSD_PID:-}" ]; then
		kill "$QSD_PID" 2>/dev/null || true
		wait "$QSD_PID" 2>/dev/null || true
	fi
}
