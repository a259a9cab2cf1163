#!/usr/bin/env bash
# Speed of `dangan report` (thumbnails cold and warm), by hand on a big photo inbox — not CI:
#   cold: report with an empty thumbnail cache, as a ratio to vipsthumbnail making 320 px
#         thumbnails of the same photos in the same run (target ≤ 0.5×);
#   warm: the re-run with every thumbnail cached, as a share of the cold run (target ≤ 5 %).
#
#   scripts/bench-report.sh INBOX [WORK_DIR]
#
# Needs: a release build (built here), vipsthumbnail (Debian: apt-get install -y libvips-tools).
# The import into WORK_DIR/archive is done once and not timed; the page cache is left warm for
# both tools alike (run as root with DROP_CACHES=1 to drop it before each cold run).
set -euo pipefail
cd "$(dirname "$0")/.."
inbox="${1:?用法：scripts/bench-report.sh INBOX [WORK_DIR]}"
work="${2:-$(mktemp -d)}"
command -v vipsthumbnail >/dev/null || { echo "需要 vipsthumbnail：apt-get install -y libvips-tools"; exit 1; }

cargo build --release -q
bin="$PWD/target/release/dangan"
archive="$work/archive"
mkdir -p "$work"

echo "导入 $inbox → $archive（不计时）"
"$bin" --inbox "$inbox" --archive "$archive" -q import || [ $? -eq 3 ]

now() { date +%s.%N; }
# With DROP_CACHES set: the page cache dropped, and SETTLE seconds waited as scripts/cold-cache.sh does.
drop() { if [ -n "${DROP_CACHES:-}" ]; then sync; echo 3 > /proc/sys/vm/drop_caches; sleep "${SETTLE:-4}"; fi; }

# The same photos the report thumbnails: current, not withdrawn, decodable kinds.
list="$work/photos.txt"
sqlite3 "$archive/catalog.sqlite" "SELECT DISTINCT v.sha256 FROM files f JOIN versions v ON v.id = f.current_version
  WHERE f.withdrawn_run IS NULL AND v.kind = 'photo' AND v.format IN ('jpeg','png','webp','tiff','gif')" 2>/dev/null \
  | awk -v a="$archive" '{ print a "/objects/" substr($0,1,2) "/" $0 }' > "$list" \
  || python3 - "$archive" > "$list" <<'PY'
import sqlite3, sys
a = sys.argv[1]
c = sqlite3.connect(f"{a}/catalog.sqlite")
for (s,) in c.execute("""SELECT DISTINCT v.sha256 FROM files f JOIN versions v ON v.id = f.current_version
  WHERE f.withdrawn_run IS NULL AND v.kind = 'photo' AND v.format IN ('jpeg','png','webp','tiff','gif')"""):
    print(f"{a}/objects/{s[:2]}/{s}")
PY
n=$(wc -l < "$list")
echo "照片 $n 张"

rm -rf "$archive/thumbs" "$work/vips"; mkdir -p "$work/vips"
drop; t0=$(now)
# vipsthumbnail on 2 processes at a time, like dangan's threads on this machine.
xargs -a "$list" -P "$(nproc)" -n 50 vipsthumbnail -s 320 -o "$work/vips/%s.jpg[Q=80]" 2>/dev/null || true
t1=$(now)
drop; t2=$(now)
"$bin" --inbox "$inbox" --archive "$archive" -q report
t3=$(now)
"$bin" --inbox "$inbox" --archive "$archive" -q report
t4=$(now)

python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$n" <<'PY'
import sys
t0, t1, t2, t3, t4 = map(float, sys.argv[1:6]); n = int(sys.argv[6])
vips, cold, warm = t1 - t0, t3 - t2, t4 - t3
print(f"vipsthumbnail：{vips:.2f} 秒（{n} 张）")
print(f"dangan report 冷缓存：{cold:.2f} 秒 = {cold / vips:.2f}× vipsthumbnail（目标 ≤ 0.5×）")
print(f"dangan report 热缓存：{warm:.2f} 秒 = 冷缓存的 {warm / cold:.1%}（目标 ≤ 5%）")
PY
