#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# vhuctl fs end to end against QEMU 7.2's C virtiofsd
# (/usr/lib/qemu/virtiofsd, Debian package qemu-system-common, installed by
# scripts/deps): what vhuctl lists, reads and stats is what ls, sha256sum
# and stat(1) see in the shared directory.  virtiofsd serves one
# connection and exits when that client leaves, so every vhuctl run gets
# a daemon of its own (vfs_start); that it then exits with status 0, not
# on an abort, is checked too (vfs_done).

load helpers

VIRTIOFSD=/usr/lib/qemu/virtiofsd

setup() {
	[ -x "$VIRTIOFSD" ] || skip "virtiofsd not installed ($VIRTIOFSD; Debian: qemu-system-common)"
	SHARE=$BATS_TEST_TMPDIR/share
	mkdir -p "$SHARE"
	# sun_path holds 107 bytes: a deep TMPDIR must not break the suite.
	SOCK_DIR=$BATS_TEST_TMPDIR
	if [ $((${#SOCK_DIR} + 16)) -gt 100 ]; then
		SOCK_DIR=$(mktemp -d /tmp/vhu-vfs.XXXXXX)
		VFS_SHORT_DIR=$SOCK_DIR
	fi
	VFS_SEQ=0
	VFS_PID=
	EX_PIDS=$BATS_TEST_TMPDIR/example.pids
}

teardown() {
	local pid
	if [ -n "${VFS_PID:-}" ]; then
		kill "$VFS_PID" 2>/dev/null || true
		wait "$VFS_PID" 2>/dev/null || true
	fi
	if [ -s "${EX_PIDS:-}" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$EX_PIDS"
	fi
	[ -z "${VFS_SHORT_DIR:-}" ] || rm -rf "$VFS_SHORT_DIR"
}

# A fresh daemon on a fresh socket ($SOCK): the previous one may still be
# on its way out.  Waits (at most 60 s) for the socket to exist; vhu's
# --wait covers the moment between bind() and listen().
vfs_start() {
	VFS_SEQ=$((VFS_SEQ + 1))
	SOCK=$SOCK_DIR/vfs$VFS_SEQ.sock
	VFS_LOG=$BATS_TEST_TMPDIR/vfs$VFS_SEQ.log
	# fd 3 is bats' own: a background child holding it would stall bats.
	"$VIRTIOFSD" --socket-path="$SOCK" -o source="$SHARE" -o sandbox=chroot \
		</dev/null >"$VFS_LOG" 2>&1 3>&- &
	VFS_PID=$!
	wait_file "$SOCK"
}

# The daemon leaves once its client is gone: it must exit 0 (no abort).
vfs_done() {
	local st=0
	wait_gone "$VFS_PID" || fail "virtiofsd still runs after its client left: $(cat "$VFS_LOG")"
	wait "$VFS_PID" || st=$?
	VFS_PID=
	[ "$st" -eq 0 ] || fail "virtiofsd exited with status $st: $(tail -5 "$VFS_LOG")"
}

vhu() {
	"$VHUCTL" -s "$SOCK" -t 30 -w 30 "$@"
}

@test "virtiofsd: fs ls of a directory of 1000 files lists exactly their names, over several READDIRs" {
	mkdir "$SHARE/many"
	(cd "$SHARE/many" && seq -f 'file-%04g.dat' 1 1000 | xargs touch && touch '.hidden' 'with space')
	vfs_start
	run --separate-stderr vhu fs ls many
	assert_success
	vfs_done
	diff <(sort <<<"$output") <(ls -A "$SHARE/many" | sort) || fail "fs ls differs from ls -A"
	[ "${#lines[@]}" -eq 1002 ]
	vfs_start
	run --separate-stderr vhu -j fs ls /many/
	assert_success
	vfs_done
	assert_json '.fs.operation == "ls" and .fs.path == "many" and .fs.count == 1002'
	assert_json '[.fs.entries[] | select(.type != "regular")] == []'
	diff <(jq -r '.fs.entries[].name' <<<"$output" | sort) <(ls -A "$SHARE/many" | sort)
	# the inode numbers are the files' own
	assert_json ".fs.entries[] | select(.name == \"file-0500.dat\") | .ino == $(stat -c %i "$SHARE/many/file-0500.dat")"
	# about 40 bytes an entry, 4 KiB a READDIR: many of them
	assert_json '.fs.requests > 10 and .fs.forgets == 1'
	assert_json '.driver.queues[1].queue == 1 and .driver.queues[1].stop_base == .fs.requests'
	# the root
	vfs_start
	run --separate-stderr vhu fs ls /
	assert_success
	vfs_done
	assert_output "many"
}

@test "virtiofsd: fs cat of a 5 MiB random file is the file, to stdout and to -o FILE; READs beyond max_read" {
	head -c 5M /dev/urandom >"$SHARE/big.bin"
	local want
	want=$(sha256sum <"$SHARE/big.bin" | cut -d' ' -f1)
	vfs_start
	[ "$(vhu fs cat big.bin | sha256sum | cut -d' ' -f1)" = "$want" ] || fail "stdout differs"
	vfs_done
	vfs_start
	run --separate-stderr vhu -j fs cat big.bin -o "$BATS_TEST_TMPDIR/out.bin"
	assert_success
	vfs_done
	cmp "$BATS_TEST_TMPDIR/out.bin" "$SHARE/big.bin"
	assert_json ".fs.sha256 == \"$want\" and .fs.bytes == 5242880 and .fs.output == \"$BATS_TEST_TMPDIR/out.bin\""
	# several READs: the file is larger than what one READ may carry
	assert_json '.fs.max_read < .fs.bytes and .fs.requests > (.fs.bytes / .fs.max_read) + 4'
	assert_json '.fs.forgets == 1 and .driver.queues[0].stop_base == 1'
	# other ring features, and polling for completions
	vfs_start
	vhu fs cat big.bin --event-idx off --indirect off --notify poll --queue-size 16 | cmp - "$SHARE/big.bin"
	vfs_done
	# -j without -o: only the digest
	vfs_start
	run --separate-stderr vhu -j fs cat /./big.bin
	assert_success
	vfs_done
	assert_json ".fs.sha256 == \"$want\""
}

@test "virtiofsd: fs stat: size, mode, links, owner and times are those of stat(1); a symbolic link is not followed" {
	mkdir -p "$SHARE/d/e"
	head -c 12345 /dev/urandom >"$SHARE/d/e/f"
	chmod 0640 "$SHARE/d/e/f"
	ln -s e/f "$SHARE/d/link"
	local path want
	for path in d/e/f d/e d/link; do
		vfs_start
		run --separate-stderr vhu -j fs stat "$path"
		assert_success
		vfs_done
		read -r -a want < <(stat -c '%s %f %h %u %g %i %Y %a' "$SHARE/$path")
		assert_json ".fs.attributes.size == ${want[0]} and .fs.attributes.mode == $((16#${want[1]}))"
		assert_json ".fs.attributes.nlink == ${want[2]} and .fs.attributes.uid == ${want[3]} and .fs.attributes.gid == ${want[4]}"
		assert_json ".fs.attributes.ino == ${want[5]} and .fs.attributes.mtime == ${want[6]}"
		assert_json ".fs.attributes.permissions == \"$(printf %04o $((8#${want[7]})))\""
		# one FORGET for every component looked up
		assert_json ".fs.forgets == $(tr -cd / <<<"$path" | wc -c) + 1"
	done
	assert_json '.fs.attributes.type == "symlink" and .fs.attributes.size == 3'
	# text
	vfs_start
	run --separate-stderr vhu fs stat d/e/f
	assert_success
	vfs_done
	assert_line --regexp '^    Size: +12345 bytes$'
	assert_line --regexp '^    Mode: +0100640$'
	assert_line --regexp '^    Type: +regular$'
}

@test "virtiofsd: a missing path exits 1 with No such file or directory; -o FILE untouched; what was looked up is forgotten" {
	mkdir "$SHARE/dir"
	state_file_setup
	vfs_start
	run --separate-stderr vhu fs cat dir/missing -o "$F"
	assert_failure 1
	vfs_done
	assert_one_line_error "fs cat: LOOKUP dir/missing: No such file or directory (ENOENT)"
	assert_file_untouched
	for op in ls stat; do
		vfs_start
		run --separate-stderr vhu -j fs $op /missing
		assert_failure 1
		vfs_done
		assert_json '.error | test("LOOKUP missing: No such file or directory")'
		assert_json '.vhuctl.exit_status == 1 and .fs.forgets == 0'
	done
	# the LOOKUP of dir succeeded: its FORGET went out all the same
	vfs_start
	run --separate-stderr vhu -j fs stat dir/missing
	assert_failure 1
	vfs_done
	assert_json '.fs.forgets == 1 and .driver.queues[0].completed == 1'
	# ls of a file, cat of a directory
	touch "$SHARE/file"
	vfs_start
	run --separate-stderr vhu fs ls file
	assert_failure 1
	vfs_done
	assert_one_line_error "OPENDIR file: Not a directory (ENOTDIR)"
	vfs_start
	run --separate-stderr vhu fs cat dir
	assert_failure 64
	vfs_done
	assert_one_line_error "dir: a directory, not a regular file"
}

@test "the man page's fs example runs as written (paths replaced, a longer wait)" {
	local script
	mkdir -p "$SHARE/docs"
	printf 'notes for the example\n' >"$SHARE/docs/notes.txt"
	# The example's commands, continuation lines joined, as a script.
	script=$(awk '/^List, read and stat what virtiofsd shares/ { on = 1; next }
		on && /^\.Ed/ { exit }
		on && /^\$ / { if (cmd != "") print cmd; cmd = substr($0, 3); next }
		on && /^    / { cmd = cmd " " substr($0, 5) }
		END { if (cmd != "") print cmd }' "$VHU_SRC/man/vhuctl.1" | sed -e 's/ *\\e / /g')
	[ "$(grep -c '^/usr/lib/qemu/virtiofsd ' <<<"$script")" -eq 3 ] || fail "no example found: $script"
	[ "$(grep -c '^vhuctl ' <<<"$script")" -eq 3 ] || fail "no example found: $script"
	script=${script//\/run\/vfs/$SOCK_DIR\/vfs}
	script=${script//source=\/srv/source=$SHARE}
	script=${script//-w 5/-w 60 -t 30}
	script=${script//vhuctl /$VHUCTL }
	# Each daemon's pid, for teardown should the example fail half-way.
	# (sed: in a bash 5.2 ${//} replacement '&' stands for the match)
	script=$(sed "s|sandbox=chroot &\$|sandbox=chroot \\& echo \$! >>'$EX_PIDS'|" <<<"$script")
	cd "$BATS_TEST_TMPDIR"
	# Every daemon exits once its client is gone; bash waits for them.
	run --separate-stderr bash -ec -o pipefail "$script"$'\nwait' 3>&-
	assert_success
	# ls, the summary of cat -o, the size from stat
	assert_line --index 0 docs
	assert_line --regexp '^  Output: +notes.txt$'
	[ "${lines[-1]}" = 22 ] || fail "last line: ${lines[-1]}"
	cmp "$BATS_TEST_TMPDIR/notes.txt" "$SHARE/docs/notes.txt"
}
