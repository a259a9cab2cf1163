#!/usr/bin/env bash
# System calls of a first import (issue 12 item 1: durability per batch, not per file), by hand:
#   scripts/strace-import.sh [N]            (default 5000; the inbox of bench-scale.sh)
#   env: DANGAN_BIN=path/to/dangan   the binary (default: ${CARGO_TARGET_DIR:-target}/release/dangan)
#        WORKDIR=/tmp/dangan-scale   where bench-scale.sh keeps WORKDIR/inbox-N (made by it; run
#                                    `scripts/bench-scale.sh N` once first)
# Runs `strace -c -f` over `dangan import` into an empty archive and prints the calls that cost
# per file — fsync, fdatasync, syncfs, openat, statx/newfstatat, mkdir, rename — with their
# counts and failures, and the whole summary to WORKDIR/strace-N.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORKDIR:-/tmp/dangan-scale}
N=${1:-5000}
BIN=${DANGAN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/dangan}
command -v strace >/dev/null || apt-get install -y -qq strace >/dev/null
INBOX="$WORK/inbox-$N"
[ -d "$INBOX" ] || { echo "没有 $INBOX：先运行 scripts/bench-scale.sh $N" >&2; exit 1; }
[ -x "$BIN" ] || { echo "没有可执行的 dangan：$BIN" >&2; exit 1; }
CONFIG="$WORK/config/dangan.toml"
[ -f "$CONFIG" ] || { mkdir -p "$WORK/config"; (cd "$WORK/config" && "$BIN" -q init >/dev/null); }
ARCHIVE=$(mktemp -d "$WORK/strace-archive-XXXXXX")
OUT="$WORK/strace-$N.txt"
rc=0
strace -c -f -o "$OUT" "$BIN" --config "$CONFIG" --inbox "$INBOX" --archive "$ARCHIVE" -q import >/dev/null || rc=$?
rm -rf "$ARCHIVE"
[ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "dangan import 失败（退出码 $rc）" >&2; exit 1; }
echo "$BIN, first import of $(find "$INBOX" -type f | wc -l) files ($INBOX):"
awk '$NF ~ /^(fsync|fdatasync|syncfs|sync_file_range|openat|open|statx|newfstatat|fstat|stat|lstat|mkdir|mkdirat|rename|renameat|renameat2|link|linkat|unlink|unlinkat)$/ {
        calls = ($4 ~ /^[0-9]+$/) ? $4 : $3; errs = ($5 ~ /^[0-9]+$/) ? $5 : 0
        printf "  %-16s %8d calls %8d failed\n", $NF, calls, errs }' "$OUT"
echo "(whole summary: $OUT)"
