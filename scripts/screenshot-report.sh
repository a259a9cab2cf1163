#!/usr/bin/env bash
# Looks at the report as a person would: builds it for the sample inbox (or takes an existing
# archive), opens archive/报告/index.html in headless Chromium from file://, takes a desktop and a
# phone-width screenshot, and checks that each PNG is a real picture (not blank: many colours,
# and not one colour covering nearly everything).
#
#   scripts/screenshot-report.sh [ARCHIVE_DIR] [OUT_DIR]
#
# Install with: apt-get install -y chromium fonts-wqy-microhei (a Chinese font, or every
# character is a box).
#
# Without ARCHIVE_DIR: `dangan nightly` on the repository's sample inbox/ into a temporary
# archive. Needs chromium (Debian: apt-get install -y chromium) and python3 (standard library
# only). Exits 0 when both screenshots pass, 1 otherwise; skips (exit 0, with a note) when no
# chromium is installed and CHROMIUM_REQUIRED is not set.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
    echo "注意：没有找到 chromium，跳过报告截图检查"
    [ -n "${CHROMIUM_REQUIRED:-}" ] && exit 1
    exit 0
fi

if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    echo "注意：没有中文字体，截图中的中文会显示为方框（apt-get install -y fonts-wqy-microhei 或 fonts-noto-cjk）"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
archive="${1:-}"
out="${2:-$work}"
mkdir -p "$out"
if [ -z "$archive" ]; then
    archive="$work/archive"
    # Exit status 3 (something rejected) still writes the report.
    SOURCE_DATE_EPOCH=1748736000 cargo run -q -- --inbox inbox --archive "$archive" -q nightly || [ $? -eq 3 ]
fi
index="$(cd "$archive/报告" && pwd)/index.html"
[ -f "$index" ] || { echo "没有报告：$index"; exit 1; }

shoot() { # name width height
    local png="$out/report-$1.png"
    # A fresh profile each time; --virtual-time-budget lets lazy images load before the shot.
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$work/profile-$1" --virtual-time-budget=5000 \
        --window-size="$2,$3" --screenshot="$png" "file://$index" >/dev/null 2>&1 || true
    [ -s "$png" ] || { echo "截图失败：$png"; return 1; }
    python3 - "$png" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), f"unexpected PNG type {depth}/{ctype}"
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
counts = {}
i = 0
for _ in range(height):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + ((a + b) >> 1)) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 4):   # every 4th pixel is plenty
        px = bytes(line[x:x + 3])
        counts[px] = counts.get(px, 0) + 1
    prev = line
total = sum(counts.values())
top = max(counts.values()) / total
print(f"{path}: {width}×{height}，{len(counts)} 种颜色，最多的一种占 {top:.0%}")
if len(counts) < 16 or top > 0.97:
    sys.exit("截图几乎是空白")
PY
}

shoot desktop 1280 1600
shoot phone 390 1400
echo "报告截图检查通过：$out"
