#!/usr/bin/env bash
# Year-end archive benchmark (build + verify of the bag, and `verify` alone, against zip -0 and
# unzip -t), run by hand on a quiet machine:
#   scripts/bench-archive.sh [MEGABYTES=1024] [WORKDIR=/tmp/dangan-bench]
# Uses the photo inbox of bench-import.sh (WORKDIR/inbox; generated with make-bench-photos.py
# unless it exists, so the same WORKDIR shares it), imports it once untimed, then prints from one
# run on the same files:
#   dangan archive --year 2025 --out X.zip (build + its own verification) against `zip -q -0 -r`
#   of the inbox (target ≤ 0.6×), dangan verify X.zip against `unzip -tq` of zip's archive
#   (target ≤ 0.5×), and the peak RSS of both (target ≤ 200 MB).
# dangan fsyncs its zip and zip does not: the sync after zip is shown beside it, not counted.
# Page cache: every timed command starts after `sync; echo 3 > /proc/sys/vm/drop_caches` and a
# wait of SETTLE seconds (scripts/cold-cache.sh) when that is allowed (root on a real machine),
# else warm — said in the output.
set -euo pipefail
MB=${1:-1024}
WORK=${2:-/tmp/dangan-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/dangan"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need zip || ! need unzip || ! need bc || [ ! -x /usr/bin/time ]; then
    apt-get install -y -qq zip unzip bc time >/dev/null 2>&1 || true
fi
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
# libsqlite3-sys's build script reads SOURCE_DATE_EPOCH: building without it keeps the usual
# release build fresh instead of rebuilding sqlite on every change of the variable.
(cd "$ROOT" && env -u SOURCE_DATE_EPOCH cargo build --release -q)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767139200}   # 2025-12-31 00:00 UTC

mkdir -p "$WORK"
INBOX="$WORK/inbox"
if [ ! -d "$INBOX" ]; then
    python3 "$ROOT/scripts/make-bench-photos.py" "$INBOX" "$MB"
fi
FILES=$(find "$INBOX" -type f | wc -l)
BYTES=$(du -sb "$INBOX" | cut -f1)
ARCHIVE="$WORK/bag-archive"

# shellcheck source=cold-cache.sh
. "$ROOT/scripts/cold-cache.sh"
# secs CMD…: wall seconds of one run; its exit status goes to $WORK/rc.
secs() {
    local t0 t1 rc=0
    t0=$(date +%s.%N); "$@" >/dev/null 2>"$WORK/stderr.txt" || rc=$?; t1=$(date +%s.%N)
    echo "$rc" > "$WORK/rc"
    LC_NUMERIC=C printf '%.3f' "$(echo "$t1 - $t0" | bc -l)"
}
ratio() { LC_NUMERIC=C printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
rss_mb() { awk -F': ' '/Maximum resident/ {printf "%d", $2 / 1024}' "$1"; }
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
# dangan exits 0, or 3 when some file was reported: both are a finished run.
ok() {
    local rc; rc=$(cat "$WORK/rc")
    [ "$rc" = 0 ] || { [ "$rc" = 3 ] && [ "${2:-}" = dangan ]; } \
        || { echo "$1 failed (exit $rc):" >&2; cat "$WORK/stderr.txt" >&2; exit 1; }
}

echo "importing $INBOX → $ARCHIVE (not timed)" >&2
rm -rf "$ARCHIVE" "$WORK/zip.zip" "$WORK/dangan-2025.zip"
"$BIN" --inbox "$INBOX" --archive "$ARCHIVE" -q import || [ $? -eq 3 ]

cold; T_ZIP=$(secs bash -c "cd '$WORK' && zip -q -0 -r zip.zip inbox")
ok "zip"
T_SYNC=$(secs sync)
cold; T_UNZIP=$(secs unzip -tq "$WORK/zip.zip")
ok "unzip -t"
cold; T_ARCHIVE=$(secs /usr/bin/time -v -o "$WORK/rss-archive.txt" \
    "$BIN" --inbox "$INBOX" --archive "$ARCHIVE" -q archive --year 2025 --out "$WORK/dangan-2025.zip")
ok "dangan archive" dangan
cold; T_VERIFY=$(secs /usr/bin/time -v -o "$WORK/rss-verify.txt" \
    "$BIN" --inbox "$INBOX" --archive "$ARCHIVE" -q verify "$WORK/dangan-2025.zip")
ok "dangan verify" dangan
RSS_ARCHIVE=$(rss_mb "$WORK/rss-archive.txt")
RSS_VERIFY=$(rss_mb "$WORK/rss-verify.txt")
ZIP_MB=$(( $(stat -c %s "$WORK/zip.zip") / 1048576 ))
BAG_MB=$(( $(stat -c %s "$WORK/dangan-2025.zip") / 1048576 ))
BAG_ENTRIES=$(unzip -Z1 "$WORK/dangan-2025.zip" | wc -l)

cat <<REPORT
dangan archive benchmark — $FILES files, $((BYTES / 1048576)) MB, $(nproc) cores, page cache: $CACHE, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
  zip -q -0 -r                 ${T_ZIP}s   (${ZIP_MB} MB; the sync after it: ${T_SYNC}s)
  dangan archive --year 2025   ${T_ARCHIVE}s   = $(ratio "$T_ARCHIVE" "$T_ZIP")× zip   (target ≤ 0.6×; ${BAG_MB} MB, $BAG_ENTRIES entries, built, fsynced and verified)
  unzip -tq                    ${T_UNZIP}s
  dangan verify                ${T_VERIFY}s   = $(ratio "$T_VERIFY" "$T_UNZIP")× unzip -t   (target ≤ 0.5×)
  peak RSS: archive $RSS_ARCHIVE MB, verify $RSS_VERIFY MB   (target ≤ 200 MB)
  CPU (user + sys): archive $(cpu "$WORK/rss-archive.txt")s, verify $(cpu "$WORK/rss-verify.txt")s
REPORT
