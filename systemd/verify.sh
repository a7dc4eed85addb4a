#!/usr/bin/env bash
# Verify a systemd unit of Sentra's without installing it and without systemd as PID 1.
#
#   systemd/verify.sh UNIT [BINARY]
#
# UNIT    the unit file, e.g. systemd/sentrad.service
# BINARY  an existing executable that stands in for the unit's own (ExecStart's first word),
#         because `systemd-analyze verify` fails on a missing executable and a build machine
#         has no /usr/local/bin/sentrad. Default: /bin/true. Pass .build/release/sentrad to
#         check with the real binary.
#
# Environment:
#   SENTRA_MAX_EXPOSURE  the highest accepted exposure, in systemd-analyze's 0-100 units of
#                        --threshold (10 = exposure 1.0; default 10).
#
# What it does, on a temporary copy of the unit (same file name) with ExecStart's program
# replaced by BINARY:
#   1. `systemd-analyze verify --recursive-errors=no --man=no`: fails on unknown directives,
#      bad syntax, a missing executable. (Without --recursive-errors, verify exits 0 even
#      after printing warnings; any warning about the unit also fails here.)
#   2. `systemd-analyze security --offline=true --threshold=$SENTRA_MAX_EXPOSURE`: fails when
#      the exposure is above the threshold. Prints the exposure line.
#   3. For each drop-in example UNIT.d/*.conf.example beside the unit: steps 1 and 2 with that
#      drop-in installed as *.conf, to show it is valid and what it costs (no threshold: a
#      drop-in that opens a remote target is expected to raise the exposure a little).
# Exits 0 when all passed, 1 when a check failed, 2 when the tools are missing.
set -euo pipefail

usage() { echo "usage: $0 UNIT [BINARY]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
unit=$1
binary=${2:-/bin/true}
max=${SENTRA_MAX_EXPOSURE:-10}

command -v systemd-analyze >/dev/null || { echo "verify.sh: systemd-analyze not found (apt-get install systemd)" >&2; exit 2; }
[[ -f $unit ]] || { echo "verify.sh: no such unit file: $unit" >&2; exit 2; }
[[ -x $binary && ! -d $binary ]] || { echo "verify.sh: not an executable: $binary" >&2; exit 2; }
binary=$(readlink -f -- "$binary")

name=$(basename -- "$unit")
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# Quiet, deterministic output: no pager, no colour, no man page look-ups.
export SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 LC_ALL=C.UTF-8

# copy_unit DIR: the unit with ExecStart's executable (after any of the prefixes -@:+!)
# replaced by $binary, arguments kept.
copy_unit() {
    sed -E "s#^(ExecStart=[-@:+!]*)[^[:space:]]+#\\1${binary}#" "$unit" >"$1/$name"
    grep -q "^ExecStart=[-@:+!]*${binary}" "$1/$name" ||
        { echo "verify.sh: $unit has no ExecStart= to point at $binary" >&2; exit 1; }
}

# check DIR LABEL THRESHOLD: verify and assess DIR/$name. Returns 1 on failure.
check() {
    local dir=$1 label=$2 threshold=$3 out rc=0 sec line
    # verify: warnings name the file (".../sentrad.service:61: ..."); any of them is a failure.
    if ! out=$(cd "$dir" && systemd-analyze verify --recursive-errors=no --man=no "./$name" 2>&1); then
        rc=1
    fi
    if grep -q -- "$name" <<<"$out"; then rc=1; fi
    if [[ $rc -ne 0 ]]; then
        echo "FAIL verify ($label):"; sed 's/^/  /' <<<"$out"
    else
        echo "ok   verify ($label)${out:+ (notes: $(tr '\n' ' ' <<<"$out"))}"
    fi

    local srcrc=0
    sec=$(cd "$dir" && systemd-analyze security --offline=true --threshold="$threshold" "./$name" 2>&1) || srcrc=$?
    line=$(grep -E 'Overall exposure level' <<<"$sec" || true)
    if [[ -z $line ]]; then
        echo "FAIL security ($label): no exposure line"; sed 's/^/  /' <<<"$sec"; return 1
    fi
    if [[ $srcrc -ne 0 ]]; then
        echo "FAIL security ($label): exposure above threshold $threshold/100:"
        grep -E '^✗' <<<"$sec" | sed 's/^/  /' || true
        rc=1
    else
        echo "ok   security ($label, threshold $threshold/100)"
    fi
    echo "     ${line}"
    return "$rc"
}

status=0
mkdir "$tmp/base"
copy_unit "$tmp/base"
check "$tmp/base" "$name" "$max" || status=1

shopt -s nullglob
for example in "$unit.d"/*.conf.example; do
    ex=$(basename -- "$example" .example)
    d="$tmp/$ex"
    mkdir -p "$d/$name.d"
    copy_unit "$d"
    cp -- "$example" "$d/$name.d/$ex"
    check "$d" "$name + $ex" 100 || status=1
done

if [[ $status -eq 0 ]]; then echo "verify.sh: all checks passed"; else echo "verify.sh: FAILED"; fi
exit "$status"
