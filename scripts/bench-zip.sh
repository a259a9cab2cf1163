#!/usr/bin/env bash
# Zip import benchmark (a department's zip of photos against the same photos unpacked), run by
# hand on a quiet machine:
#   scripts/bench-zip.sh [MEGABYTES=1024] [WORKDIR=/tmp/dangan-bench-zip]
# Makes ~1 GB of phone-sized EXIF-dated JPEGs, a deflated zip of them (as Windows' 发送到 →
# 压缩文件夹 makes it), then times, cold, the import of the photos unpacked and the import of
# the zip (the zip stored as it is, and every member inflated once into the store), with peak
# RSS. Target: the zip ≤ 1.3× the unpacked photos, RSS ≤ 200 MB. Page cache: dropped before
# each timed import, with a wait of SETTLE seconds (scripts/cold-cache.sh), where that is
# allowed; else warm.
set -euo pipefail
MB=${1:-1024}
WORK=${2:-/tmp/dangan-bench-zip}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/dangan"
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null 2>&1 || true
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
(cd "$ROOT" && cargo build --release -q)

mkdir -p "$WORK"
PHOTOS="$WORK/photos/信息工程学院/技能大赛"
if [ ! -d "$PHOTOS" ]; then
    python3 "$ROOT/scripts/make-bench-photos.py" "$PHOTOS" "$MB"
fi
ZIPPED="$WORK/zipped/信息工程学院/技能大赛"
if [ ! -f "$ZIPPED/照片.zip" ]; then
    mkdir -p "$ZIPPED"
    python3 - "$PHOTOS" "$ZIPPED/照片.zip" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
PY
fi

# shellcheck source=cold-cache.sh
. "$ROOT/scripts/cold-cache.sh"
secs() {
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
rm -rf "$WORK/a1" "$WORK/a2"
cold; T_LOOSE=$(secs /usr/bin/time -v -o "$WORK/rss-loose.txt" "$BIN" --inbox "$WORK/photos" --archive "$WORK/a1" import -q)
cold; T_ZIP=$(secs /usr/bin/time -v -o "$WORK/rss-zip.txt" "$BIN" --inbox "$WORK/zipped" --archive "$WORK/a2" import -q)
cold; T_AGAIN=$(secs "$BIN" --inbox "$WORK/zipped" --archive "$WORK/a2" import -q)
RSS_LOOSE=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/rss-loose.txt")
RSS_ZIP=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/rss-zip.txt")
cat <<REPORT
dangan zip import — $(find "$PHOTOS" -type f | wc -l) photos, $(( $(du -sb "$PHOTOS" | cut -f1) / 1048576 )) MB, zip $(( $(stat -c %s "$ZIPPED/照片.zip") / 1048576 )) MB, $(nproc) cores, page cache: $CACHE
  import, photos unpacked      ${T_LOOSE}s   peak RSS $((RSS_LOOSE / 1024)) MB
  import, the same in a zip    ${T_ZIP}s   = $(echo "scale=2; $T_ZIP / $T_LOOSE" | bc -l)× unpacked (target ≤ 1.3×)   peak RSS $((RSS_ZIP / 1024)) MB
  unchanged zip re-import      ${T_AGAIN}s
REPORT
