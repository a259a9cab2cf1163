#!/usr/bin/env bash
# Import benchmark (first import, unchanged re-import and dry run of phone photos), run by hand
# on a quiet machine:
#   scripts/bench-import.sh [MEGABYTES=1024] [WORKDIR=/tmp/dangan-bench]
# Generates ~1 GB of phone-sized EXIF-dated JPEGs, then prints, from one run on the same files:
# the first import against `cp -r` + `sync` and `sha256sum`, the unchanged re-import as a share
# of the first, `import --dry-run` against `exiftool -r -fast2 -DateTimeOriginal`, and peak RSS.
# Page cache: every timed command starts after `sync; echo 3 > /proc/sys/vm/drop_caches` and a
# wait of SETTLE seconds (scripts/cold-cache.sh) when that is allowed (root on a real machine),
# else warm — said in the output.
set -euo pipefail
MB=${1:-1024}
WORK=${2:-/tmp/dangan-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/dangan"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need exiftool || [ ! -x /usr/bin/time ]; then
    apt-get install -y -qq libimage-exiftool-perl time >/dev/null 2>&1 || true
fi
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
(cd "$ROOT" && cargo build --release -q)

mkdir -p "$WORK"
INBOX="$WORK/inbox"
if [ ! -d "$INBOX" ]; then
    python3 "$ROOT/scripts/make-bench-photos.py" "$INBOX" "$MB"
fi
FILES=$(find "$INBOX" -type f | wc -l)
BYTES=$(du -sb "$INBOX" | cut -f1)

# shellcheck source=cold-cache.sh
. "$ROOT/scripts/cold-cache.sh"
# secs CMD…: wall seconds of one run
secs() {
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
ratio() { echo "scale=3; $1 / $2" | bc -l; }

rm -rf "$WORK/cp" "$WORK/archive"
cold; T_CP=$(secs bash -c "cp -r '$INBOX' '$WORK/cp' && sync")
rm -rf "$WORK/cp"
cold; T_SHA=$(secs bash -c "find '$INBOX' -type f -print0 | xargs -0 sha256sum")
cold; T_IMPORT=$(secs /usr/bin/time -v -o "$WORK/rss-import.txt" "$BIN" --inbox "$INBOX" --archive "$WORK/archive" import -q)
cold; T_AGAIN=$(secs "$BIN" --inbox "$INBOX" --archive "$WORK/archive" import -q)
cold; T_DRY=$(secs /usr/bin/time -v -o "$WORK/rss-dry.txt" "$BIN" --inbox "$INBOX" --archive "$WORK/empty-archive" import --dry-run -q)
cold; T_EXIF=$(secs exiftool -r -fast2 -DateTimeOriginal "$INBOX")
RSS_IMPORT=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/rss-import.txt")
RSS_DRY=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/rss-dry.txt")

cat <<REPORT
dangan import benchmark — $FILES files, $((BYTES / 1048576)) MB, $(nproc) cores, page cache: $CACHE
  cp -r + sync                 ${T_CP}s
  sha256sum                    ${T_SHA}s
  dangan import (first)        ${T_IMPORT}s   = $(ratio "$T_IMPORT" "$T_CP")× cp+sync, $(ratio "$T_IMPORT" "$T_SHA")× sha256sum   (target ≤ 1.2× cp+sync)
  dangan import (unchanged)    ${T_AGAIN}s   = $(ratio "$T_AGAIN" "$T_IMPORT") of the first   (target ≤ 0.05)
  exiftool -fast2              ${T_EXIF}s
  dangan import --dry-run      ${T_DRY}s   = $(ratio "$T_DRY" "$T_EXIF")× exiftool   (target ≤ 0.1)
  peak RSS: import $((RSS_IMPORT / 1024)) MB, dry run $((RSS_DRY / 1024)) MB   (target ≤ 200 MB)
REPORT
