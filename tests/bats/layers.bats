#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The layering of src/ (CONTRIBUTING.md): a folder includes only its own
# headers and those of the floors below it, never one above.  util is the
# floor and includes nothing of the project but itself.

load helpers

# folder: the project folders its sources may include.
ALLOWED=(
	"util: util"
	"proto: util proto"
	"decode: util proto decode"
	"render: util proto decode render"
	"virtq: util virtq"
	"driver: util proto virtq driver"
	"dev: util proto decode virtq driver dev"
)

@test "layering: every src folder includes only its own headers and those below it" {
	local entry dir allowed f inc top bad=
	for entry in "${ALLOWED[@]}"; do
		dir=${entry%%:*}
		allowed=" ${entry#*: } "
		for f in "$VHU_SRC"/src/"$dir"/*.[ch]; do
			while read -r inc; do
				top=${inc%%/*}
				[[ $allowed == *" $top "* ]] || bad+="${f#"$VHU_SRC"/} includes $inc"$'\n'
			done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
		done
	done
	[ -z "$bad" ] || fail "upward includes:"$'\n'"$bad"
}
