#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Packaging: the install tree, the shell completions generated from the
# command table, the version, the .deb (built by cpack, installed with
# dpkg on this machine when run as root, and removed again), and the SPDX
# line of every file.

load helpers

BUILD=${VHU_BUILD:-$VHU_SRC/build}
COMMANDS=$BUILD/completions/commands
DEB_INSTALLED=

teardown() {
	# The .deb test installs into the real system: always undo it.
	if [ -n "$DEB_INSTALLED" ]; then
		dpkg -r vhuctl >/dev/null 2>&1 || true
		DEB_INSTALLED=
	fi
	mock_stop
}

# Complete the words "$@" (the last one under the cursor) with the bash
# completion in file $1; prints the candidates, one per line.
bash_complete() {
	local file=$1
	shift
	bash --norc --noprofile -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_vhuctl vhuctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$file" "$@"
}

@test "cmake --install with DESTDIR puts every file where Debian expects it" {
	local d=$BATS_TEST_TMPDIR/d
	DESTDIR=$d run cmake --install "$BUILD" --prefix /usr
	assert_success
	[ -x "$d/usr/bin/vhuctl" ] || fail "no usr/bin/vhuctl"
	gzip -t "$d/usr/share/man/man1/vhuctl.1.gz" || fail "the man page is not gzipped"
	zcat "$d/usr/share/man/man1/vhuctl.1.gz" | cmp -s - "$VHU_SRC/man/vhuctl.1" || fail "the man page differs"
	[ -s "$d/usr/share/bash-completion/completions/vhuctl" ] || fail "no bash completion"
	[ -s "$d/usr/share/zsh/vendor-completions/_vhuctl" ] || fail "no zsh completion"
	[ -s "$d/usr/share/fish/vendor_completions.d/vhuctl.fish" ] || fail "no fish completion"
	cmp -s "$d/usr/share/doc/vhuctl/copyright" "$VHU_SRC/COPYING" || fail "no copyright"
	[ -s "$d/usr/share/doc/vhuctl/json/common.schema.json" ] || fail "no JSON schema"
	# Nothing outside /usr, nothing of the build (generator, tests).
	run find "$d" -mindepth 1 -not -path "$d/usr" -not -path "$d/usr/*"
	assert_output ""
	run find "$d/usr/bin" -type f
	assert_output "$d/usr/bin/vhuctl"
	"$d/usr/bin/vhuctl" --version
}

@test "bash completion: every command of the table, options, values and operands" {
	local comp=$BUILD/completions/vhuctl c
	[ -s "$COMMANDS" ] || fail "no $COMMANDS"
	run bash_complete "$comp" vhuctl ''
	assert_success
	diff <(sort "$COMMANDS") <(sort <<<"$output") || fail "the command list differs from the table"
	while read -r c; do
		run bash_complete "$comp" vhuctl -s /tmp/x "${c%?}"
		assert_line "$c"
	done <"$COMMANDS"
	run bash_complete "$comp" vhuctl get-f
	assert_output "get-features"
	run bash_complete "$comp" vhuctl setup --b
	assert_output "--backing"
	run bash_complete "$comp" vhuctl setup --backing m
	assert_output "memfd"
	run bash_complete "$comp" vhuctl -T bl
	assert_output "blk"
	run bash_complete "$comp" vhuctl --type = bl
	assert_output "blk"
	run bash_complete "$comp" vhuctl -j device-state ''
	assert_output $'save\nload\ncheck'
	run bash_complete "$comp" vhuctl set-vring-enable 0 o
	assert_output $'on\noff'
	run bash_complete "$comp" vhuctl raw GET_FEAT
	assert_output "GET_FEATURES"
	# A global option after the command, and the file name of --socket.
	run bash_complete "$comp" vhuctl probe --tim
	assert_output "--timeout"
	mkdir "$BATS_TEST_TMPDIR/sockdir"
	run bash_complete "$comp" vhuctl -s "$BATS_TEST_TMPDIR/sockd"
	assert_output "$BATS_TEST_TMPDIR/sockdir"
}

@test "fish completion: every command, a command's options and values" {
	command -v fish >/dev/null || fail "fish is missing (scripts/deps test installs it)"
	local comp=$BUILD/completions/vhuctl.fish
	run fish --no-config -c "source $comp; complete -C'vhuctl '"
	assert_success
	diff <(sort "$COMMANDS") <(cut -f1 <<<"$output" | sort) || fail "the command list differs from the table"
	run fish --no-config -c "source $comp; complete -C'vhuctl setup --b'"
	assert_output --regexp '^--backing	'
	run fish --no-config -c "source $comp; complete -C'vhuctl -T bl'"
	assert_output --regexp '^blk	'
	run fish --no-config -c "source $comp; complete -C'vhuctl device-state '"
	assert_line --regexp '^save'
}

@test "zsh completion: valid zsh that compinit registers for vhuctl, listing every command" {
	command -v zsh >/dev/null || fail "zsh is missing (scripts/deps test installs it)"
	local dir=$BATS_TEST_TMPDIR/zfunc c
	mkdir "$dir"
	cp "$BUILD/completions/_vhuctl" "$dir/"
	zsh -n "$dir/_vhuctl"
	run zsh -fc "fpath=($dir \$fpath); autoload -Uz compinit; compinit -u -d $BATS_TEST_TMPDIR/zcd; print -r -- \$_comps[vhuctl]"
	assert_output "_vhuctl"
	while read -r c; do
		grep -q "^			'$c:" "$dir/_vhuctl" || fail "_vhuctl does not list $c"
	done <"$COMMANDS"
}

@test "--version: git describe in a checkout" {
	command -v git >/dev/null || skip "git is not installed"
	local top
	top=$(git -C "$VHU_SRC" rev-parse --show-toplevel 2>/dev/null) || skip "not built from a git checkout"
	[ "$(realpath "$top")" = "$(realpath "$VHU_SRC")" ] || skip "not built from a git checkout"
	run "$VHUCTL" --version
	assert_success
	assert_output --regexp '^vhuctl [0-9]+\.[0-9]+\.[0-9]+(-[0-9]+)?-g[0-9a-f]{7,}(-dirty)?$'
	# The hash names a commit of this checkout (the one built, which a
	# commit since the build may have left behind).
	local hash=${output##*-g}
	hash=${hash%-dirty}
	git -C "$VHU_SRC" cat-file -e "$hash^{commit}" || fail "$hash is not a commit of $VHU_SRC"
	# The JSON envelope carries the same version.
	run "$VHUCTL" -j list types
	assert_json ".vhuctl.version == \"$("$VHUCTL" --version | cut -d' ' -f2)\""
}

@test "version: a release tag, no checkout (tarball), a tarball inside another checkout" {
	command -v git >/dev/null || skip "git is not installed"
	local t=$BATS_TEST_TMPDIR script=$VHU_SRC/cmake/version.cmake
	version_of() {
		rm -f "$t/v.c"
		cmake -DSRC="$1" -DOUT="$t/v.c" -DVERSION=9.8.7 -P "$script" &&
			sed -n 's/.*vhu_version\[\] = "\(.*\)";/\1/p' "$t/v.c"
	}
	mkdir "$t/tarball"
	run version_of "$t/tarball"
	assert_output "9.8.7"

	git init -q "$t/repo"
	git -C "$t/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
	git -C "$t/repo" tag v1.2.3
	git -C "$t/repo" -c user.name=t -c user.email=t@t commit -q --allow-empty -m two
	run version_of "$t/repo"
	assert_output "1.2.3-1-g$(git -C "$t/repo" rev-parse --short HEAD)"
	touch "$t/repo/new" && git -C "$t/repo" add new
	run version_of "$t/repo"
	assert_output --regexp '^1\.2\.3-1-g[0-9a-f]+-dirty$'

	git init -q "$t/plain"
	git -C "$t/plain" -c user.name=t -c user.email=t@t commit -q --allow-empty -m one
	run version_of "$t/plain"
	assert_output "9.8.7-g$(git -C "$t/plain" rev-parse --short HEAD)"

	mkdir "$t/repo/unpacked"
	run version_of "$t/repo/unpacked"
	assert_output "9.8.7"
}

# Build the .deb into $BATS_TEST_TMPDIR/pkg; sets DEB.
build_deb() {
	command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is missing (scripts/deps test installs dpkg-dev)"
	[ -z "${VHU_SANITIZED:-}" ] || skip "sanitizer build: the package is built from the normal build"
	run cpack -G DEB -B "$BATS_TEST_TMPDIR/pkg" --config "$BUILD/CPackConfig.cmake"
	assert_success
	DEB=$(ls "$BATS_TEST_TMPDIR"/pkg/vhuctl_*.deb)
	[ -s "$DEB" ] || fail "cpack made no .deb: $output"
}

@test ".deb: shlibdeps depends, a Debian description, the gzipped man page and completions" {
	build_deb
	run dpkg-deb -f "$DEB" Package Version Section Depends Recommends Description
	assert_success
	assert_line "Package: vhuctl"
	assert_line "Section: utils"
	assert_line --regexp '^Depends: .*libc6 \(>= [0-9.]+\)'
	# json-c, libbsd and libmd are linked from their static archives
	# (VHU_STATIC_DEPS); libcrypto is dlopened by device-state, a Depends
	# of its own.
	assert_line --regexp '^Depends: .*libssl3'
	# libpcap is dlopened (pcap files only): recommended, not required
	assert_line "Recommends: libpcap0.8"
	refute_line --regexp '^Depends: .*libpcap'
	assert_line "Description: command-line vhost-user front-end"
	assert_line --regexp '^ vhuctl connects to the Unix socket'
	assert_line " ."
	run dpkg-deb -c "$DEB"
	assert_line --regexp ' \./usr/bin/vhuctl$'
	assert_line --regexp ' \./usr/share/man/man1/vhuctl\.1\.gz$'
	assert_line --regexp ' \./usr/share/bash-completion/completions/vhuctl$'
	assert_line --regexp ' \./usr/share/zsh/vendor-completions/_vhuctl$'
	assert_line --regexp ' \./usr/share/fish/vendor_completions\.d/vhuctl\.fish$'
	assert_line --regexp ' \./usr/share/doc/vhuctl/copyright$'
	refute_line --regexp 'vhu-gen-completions|vhu-mock-backend|test_'
}

@test ".deb installs with dpkg, works (version, man, completion) and is removed cleanly" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to install a package"
	if dpkg-query -W -f='${Status}' vhuctl 2>/dev/null | grep -q 'installed'; then
		skip "a vhuctl package is installed already: left alone"
	fi
	[ ! -e /usr/bin/vhuctl ] || skip "/usr/bin/vhuctl exists: left alone"
	build_deb
	dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' >"$BATS_TEST_TMPDIR/files"
	[ -s "$BATS_TEST_TMPDIR/files" ] || fail "no file list"

	DEB_INSTALLED=1
	run dpkg -i "$DEB"
	assert_success
	run /usr/bin/vhuctl --version
	assert_success
	assert_output --regexp '^vhuctl [0-9]+\.[0-9]+\.[0-9]+'
	run man -w vhuctl
	assert_output "/usr/share/man/man1/vhuctl.1.gz"
	run env MANPAGER=cat MANWIDTH=80 man vhuctl
	assert_success
	assert_output --partial "vhost-user"
	# bash-completion loads completions/vhuctl on first use (the loader is
	# what pressing TAB runs).
	run bash --norc --noprofile -ic 'source /usr/share/bash-completion/bash_completion
		_completion_loader vhuctl; complete -p vhuctl'
	assert_output --partial "complete -F _vhuctl vhuctl"
	run fish -c "complete -C'vhuctl get-f'"
	assert_output --regexp '^get-features	'
	run zsh -fc "autoload -Uz compinit; compinit -u -d $BATS_TEST_TMPDIR/zcd; print -r -- \$_comps[vhuctl]"
	assert_output "_vhuctl"

	run dpkg -r vhuctl
	assert_success
	DEB_INSTALLED=
	run dpkg-query -W -f='${Status}' vhuctl
	refute_output --partial " installed"
	local f left=""
	while read -r f; do
		[ ! -e "$f" ] || left="$left $f"
	done <"$BATS_TEST_TMPDIR/files"
	[ -z "$left" ] || fail "dpkg -r left:$left"
	[ ! -e /usr/share/doc/vhuctl ] || fail "dpkg -r left /usr/share/doc/vhuctl"
}

@test "every source, script, build file and document carries an SPDX line" {
	local f missing=""
	if git -C "$VHU_SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
		mapfile -t files < <(git -C "$VHU_SRC" ls-files)
	else
		mapfile -t files < <(cd "$VHU_SRC" && find . -type f -not -path './.git/*' -not -path './build*' | sed 's|^\./||')
	fi
	[ "${#files[@]}" -gt 50 ] || fail "found only ${#files[@]} files"
	for f in "${files[@]}"; do
		case $f in
		COPYING | tests/fuzz/corpus/*) continue ;; # the licence itself; fuzz inputs (bytes)
		esac
		[ -f "$VHU_SRC/$f" ] || continue
		head -n 10 "$VHU_SRC/$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' || missing="$missing $f"
	done
	[ -z "$missing" ] || fail "no SPDX-License-Identifier line in the first 10 lines of:$missing"
}
