#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
#
# The documentation agrees with the program: the man page is lint-clean,
# documents every command and long option of `vhuctl --help`, and the exit
# status table is the same in --help, the man page and the README.
#
# Environment: VHUCTL (the binary), VHU_SRC (the source tree).

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
	: "${VHUCTL:?set VHUCTL to the vhuctl binary}"
	: "${VHU_SRC:?set VHU_SRC to the source tree}"
	MAN="$VHU_SRC/man/vhuctl.1"
	[ -f "$MAN" ] || fail "no man page at $MAN"
}

# Lines of the man page section .Sh $1 (up to the next .Sh).
man_section() {
	awk -v want="$1" '
		/^\.Sh / { sub(/^\.Sh[ \t]+/, ""); gsub(/"/, ""); insec = ($0 == want); next }
		insec { print }
	' "$MAN"
}

# Command names of the "Commands:" list of `vhuctl --help`, sorted.
help_commands() {
	"$VHUCTL" --help | awk '
		/^Commands:/ { incmd = 1; next }
		incmd && /^$/ { exit }
		incmd && /^  [a-z][a-z0-9-]*( |$)/ { print $1 }
	' | sort -u
}

# Commands documented in COMMANDS: the head word of each `.It Cm name` item.
man_commands() {
	man_section COMMANDS | awk '/^\.It Cm [a-z]/ { print $3 }' | sort -u
}

# ERE matching a list item that documents long option $1 ("--no-sync"):
# mdoc writes it as `Fl \-no\-sync` on an `.It` line.
opt_item_re() {
	local name=${1#--} re='' part IFS=-
	for part in $name; do
		re+='\\-'"$part"
	done
	printf '^\\.It (Fl .*)?Fl %s([^a-z0-9\\-]|$)' "$re"
}

@test "man page: mandoc -Tlint -Wwarning is clean" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	run mandoc -Tlint -Wwarning "$MAN"
	assert_success
	assert_output ""
}

@test "man page: COMMANDS documents exactly the commands of --help" {
	local help man
	help=$(help_commands)
	man=$(man_commands)
	[ -n "$help" ] || fail "no commands found in vhuctl --help"
	[ -n "$man" ] || fail "no .It Cm lines found in the COMMANDS section"
	# a sanity floor: the lists are not trivially short
	[ "$(wc -l <<<"$help")" -ge 10 ] || fail "only $(wc -l <<<"$help") commands in --help: $help"
	run diff <(echo "$help") <(echo "$man")
	assert_success
}

@test "man page: every long option of --help is documented as an .It item" {
	local opts missing="" o
	opts=$("$VHUCTL" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	[ -n "$opts" ] || fail "no long options found in vhuctl --help"
	for o in $opts; do
		grep -qE -- "$(opt_item_re "$o")" "$MAN" || missing+=" $o"
	done
	[ -z "$missing" ] || fail "long options of --help missing from the man page:$missing"
}

@test "man page: every command's own long options are documented as .It items" {
	local c opts o missing="" global
	global=$("$VHUCTL" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	for c in $(help_commands); do
		opts=$("$VHUCTL" "$c" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u |
			comm -23 - <(echo "$global"))
		for o in $opts; do
			grep -qE -- "$(opt_item_re "$o")" "$MAN" || missing+=" $c:$o"
		done
	done
	[ -z "$missing" ] || fail "command options missing from the man page:$missing"
}

# The exit status table: status, name fragment shared by every document.
EXIT_ROWS=(
	"0|success"
	"1|the back-end refused a request"
	"2|protocol violation by the back-end"
	"3|feature not offered or not negotiated"
	"4|a requirement"
	"64|usage error"
	"69|cannot connect to the socket"
	"74|I/O error"
	"75|timeout"
	"129|interrupted by SIGHUP"
	"130|interrupted by SIGINT"
	"131|interrupted by SIGQUIT"
	"143|interrupted by SIGTERM"
)

@test "exit status table: --help lists every status" {
	local row code text block
	block=$("$VHUCTL" --help | awk '/^Exit status:/ { on = 1; next } on && /^$/ { exit } on')
	[ -n "$block" ] || fail "no 'Exit status:' block in vhuctl --help"
	for row in "${EXIT_ROWS[@]}"; do
		code=${row%%|*} text=${row#*|}
		grep -qE "^  ${code} +${text}" <<<"$block" || fail "--help lacks exit status $code ($text)"
	done
	# and nothing else
	[ "$(grep -cE '^  [0-9]+ ' <<<"$block")" -eq "${#EXIT_ROWS[@]}" ] ||
		fail "--help lists other exit statuses: $block"
}

@test "exit status table: the man page EXIT STATUS section lists every status" {
	local row code text sec
	sec=$(man_section "EXIT STATUS")
	[ -n "$sec" ] || fail "no EXIT STATUS section in the man page"
	for row in "${EXIT_ROWS[@]}"; do
		code=${row%%|*} text=${row#*|}
		# .It CODE, then the description on the next line
		grep -A1 -E "^\.It ${code}\$" <<<"$sec" | grep -qF -- "$text" ||
			fail "man page EXIT STATUS lacks $code ($text)"
	done
	[ "$(grep -cE '^\.It [0-9]+$' <<<"$sec")" -eq "${#EXIT_ROWS[@]}" ] ||
		fail "man page EXIT STATUS lists other statuses"
}

@test "exit status table: the README lists every status" {
	local readme="$VHU_SRC/README.md" row code text
	[ -f "$readme" ] || fail "no README.md in $VHU_SRC"
	for row in "${EXIT_ROWS[@]}"; do
		code=${row%%|*} text=${row#*|}
		# a Markdown table row "| CODE | text ..." or a list "CODE  text"
		grep -qE "^\|? *\`?${code}\`? *\|? +${text}" "$readme" ||
			fail "README.md lacks exit status $code ($text)"
	done
}

@test "exit status names: the man page's JSON OUTPUT lists the schema's exit_status_name values" {
	local man schema
	# the .Qq words after "exit_status_name :" up to "as in"
	man=$(awk '/^\.Qq exit_status_name :/ { on = 1; next } on && /^as in/ { exit }
		on && /^\.Qq / { w = $2; sub(/,$/, "", w); print w }' "$MAN" | sort -u)
	schema=$(jq -r '."$defs".exit.oneOf[].properties.exit_status_name.const' \
		"$VHU_SRC/doc/json/common.schema.json" | sort -u)
	[ -n "$man" ] || fail "no exit_status_name list in the man page"
	[ "$man" = "$schema" ] || fail "man page names: $(echo $man); schema names: $(echo $schema)"
}

# ---- device config fields: documents against the decoder tables ----

# "TYPE NAME" per field the decoders know (`vhuctl -j list config`), sorted.
bin_config_fields() {
	"$VHUCTL" -j list config | jq -r '.config_fields[] | .type as $t | .fields[] | "\($t) \(.name)"' | sort
}

# "TYPE NAME" per field of the man page's DEVICE CONFIG FIELDS section:
# one `.Ss TYPE (N bytes)` per type, fields as `.It Li a , b , c` items.
man_config_fields() {
	man_section "DEVICE CONFIG FIELDS" | awk '
		/^\.Ss / { t = $2; next }
		t && /^\.It Li / {
			sub(/^\.It Li /, "")
			n = split($0, a, / , /)
			for (i = 1; i <= n; i++) { x = a[i]; sub(/[ ,].*$/, "", x); print t, x }
		}' | sort
}

# Types with config fields, per the decoders, space separated and sorted.
bin_types_with() {
	"$VHUCTL" -j list config | jq -r '.config_fields[] | select(.fields | length > 0) | .type' | sort | xargs
}
bin_types_without() {
	"$VHUCTL" -j list config | jq -r '.config_fields[] | select(.fields | length == 0) | .type' | sort | xargs
}

# Words of a list like "net, blk and fs" or "net blk fs", sorted.
words() {
	tr ',' ' ' | sed 's/\<and\>/ /g' | xargs -n1 | sort | xargs
}

@test "man page: DEVICE CONFIG FIELDS lists exactly the fields of the decoder tables" {
	local bin man
	bin=$(bin_config_fields)
	man=$(man_config_fields)
	[ "$(wc -l <<<"$bin")" -ge 50 ] || fail "too few fields from vhuctl list config: $bin"
	[ "$(wc -l <<<"$man")" -ge 50 ] || fail "too few fields parsed from the man page: $man"
	run diff <(echo "$man") <(echo "$bin")
	assert_success
}

@test "man page: each DEVICE CONFIG FIELDS heading gives the type's default read size" {
	local man bin
	man=$(man_section "DEVICE CONFIG FIELDS" | sed -n 's/^\.Ss \([a-z0-9]*\) (\([0-9]*\) bytes)$/\1 \2/p' | sort)
	bin=$("$VHUCTL" -j list config | jq -r '.config_fields[] | select(.fields | length > 0) | "\(.type) \(.size)"' |
		sort)
	[ -n "$man" ] || fail "no .Ss TYPE (N bytes) headings"
	run diff <(echo "$man") <(echo "$bin")
	assert_success
}

@test "types with and without config fields: man page, get-config --help and README agree with the decoders" {
	local with without man_with man_without help help_with help_without readme r_with r_without
	with=$(bin_types_with)
	without=$(bin_types_without)
	[ -n "$with" ] && [ -n "$without" ] || fail "cannot read the decoder tables"

	man_with=$(man_section "DEVICE CONFIG FIELDS" | sed -n 's/^\.Ss \([a-z0-9]*\) .*/\1/p' | sort | xargs)
	# "The types .Cm rng , scmi and .Cm i2c have no config fields"
	man_without=$(man_section "DEVICE CONFIG FIELDS" | awk '
		/^The types$/ { on = 1; next }
		on && /have no config fields/ { exit }
		on && /^\.Cm / { sub(/^\.Cm /, ""); print }' | words)
	[ "$man_with" = "$with" ] || fail "man page types with fields: '$man_with', decoders: '$with'"
	[ "$man_without" = "$without" ] || fail "man page types without fields: '$man_without', decoders: '$without'"

	help=$("$VHUCTL" get-config --help | tr '\n' ' ')
	help_with=$(sed -n 's/.*Device types with decoders: \([a-z0-9 ]*\) (.*/\1/p' <<<"$help" | words)
	help_without=$(sed -n 's/.*Device types with decoders: [a-z0-9 ]* (\([a-z0-9, ]*\) have no config fields).*/\1/p' \
		<<<"$help" | words)
	[ "$help_with" = "$with" ] || fail "get-config --help types with decoders: '$help_with', decoders: '$with'"
	[ "$help_without" = "$without" ] || fail "get-config --help types without fields: '$help_without'"

	readme=$(grep -F '(decoders for ' "$VHU_SRC/README.md")
	r_with=$(sed -n 's/.*(decoders for \([a-z0-9, ]*\)[;)].*/\1/p' <<<"$readme" | words)
	r_without=$(sed -n 's/.*(decoders for [a-z0-9, ]*; \([a-z0-9, ]*\) have no config fields).*/\1/p' <<<"$readme" |
		words)
	[ "$r_with" = "$with" ] || fail "README types with decoders: '$r_with', decoders: '$with'"
	[ "$r_without" = "$without" ] || fail "README types without fields: '$r_without', decoders: '$without'"
}
