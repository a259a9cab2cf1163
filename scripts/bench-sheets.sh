#!/usr/bin/env bash
# Sign-in sheet benchmark (import + stats of many rows, and zip bombs), run by hand on a quiet
# machine — not CI:
#   scripts/bench-sheets.sh [ROWS=100000] [WORKDIR=/tmp/dangan-bench-sheets]
# Generates 200 sign-in sheets (xlsx, openpyxl write-only) holding ROWS rows in all, in
# 部门/活动 folders: a merged title row, a blank row, the header on row 3 (序号, 姓名, 学号/工号,
# 身份, 单位/班级, 签到时间), people drawn from a shared pool so the same person signs in at
# several activities. Then prints, from one run on the same files:
#   dangan import + dangan stats against openpyxl loading every file (read_only=True, every row
#   iterated)  (target ≥ 10× faster), and the peak RSS of the import (target ≤ 200 MB);
#   three zip bombs, xlsx whose sheet1.xml inflates to 320 MiB from ~0.3–1 MB: one cell of
#   repeated bytes with honest sizes in the zip, the same with the size understated (1 MiB), and
#   a row repeated millions of times, understated; each is imported alone and must be refused
#   with a reason (from `dangan list --json` problems, and `dangan status` for rows) at low RSS.
# The sheets are regenerated when ROWS changes. Page cache: warm for both tools alike (the files
# are small and were just written).
set -euo pipefail
ROWS=${1:-100000}
WORK=${2:-/tmp/dangan-bench-sheets}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/dangan"
SHEETS=200

[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null 2>&1 || true
command -v bc >/dev/null || apt-get install -y -qq bc >/dev/null 2>&1 || true
python3 -c 'import openpyxl' 2>/dev/null || python3 -m pip install -q openpyxl
(cd "$ROOT" && env -u SOURCE_DATE_EPOCH cargo build --release -q)   # as bench-archive.sh builds

mkdir -p "$WORK"
INBOX="$WORK/inbox"
if [ "$(cat "$WORK/inbox.rows" 2>/dev/null)" != "$ROWS" ]; then
    rm -rf "$INBOX" "$WORK/inbox.rows"
    echo "generating $SHEETS sign-in sheets, $ROWS rows → $INBOX" >&2
    python3 - "$INBOX" "$ROWS" "$SHEETS" <<'PY'
import datetime, os, random, sys
from openpyxl import Workbook

out, rows, sheets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(3)
departments = ["教务科研处", "学生处", "校团委", "就业处", "党政办公室", "人事处", "马克思主义学院", "机电工程学院"]
activities = ["启动仪式", "党政领导讲职教", "社团活动", "企业谈职教", "演讲比赛", "技能竞赛", "职教开放日", "技能展示"]
surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂焦向柳邢"
given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲兰飞鹏辉文浩宇轩然欣怡子涵梓萱一诺雨泽梦琪思远嘉豪俊杰晨曦佳怡宏博志强"
classes = [f"{m}{y}{n:02d}班" for m in ("机电", "数控", "汽修", "电商", "会计", "计算机", "护理", "学前教育") for y in (23, 24, 25) for n in (1, 2, 3)]
companies = ["华为技术有限公司", "比亚迪股份有限公司", "中国移动通信集团", "格力电器股份有限公司", "三一重工股份有限公司", "美的集团", "顺丰速运有限公司", "京东物流"]
guests = ["市第一中学", "区职业高级中学", "幸福社区居委会", "市总工会", "家长委员会"]

def name():
    return random.choice(surnames) + "".join(random.choice(given) for _ in range(random.choice((1, 2))))

pool = []   # (姓名, 学号/工号, 身份, 单位/班级)
for i in range(max(2000, rows // 8)):
    # Student numbers typed as numbers in some sheets (as Excel users do), as text in others.
    pool.append((name(), 2023000001 + i, "学生", random.choice(classes)))
for i in range(max(200, rows // 100)):
    pool.append((name(), "T%05d" % (10001 + i), random.choice(("教师", "辅导员", "行政人员")), random.choice(departments)))
for i in range(max(100, rows // 300)):
    pool.append((name(), "", "企业人员", random.choice(companies)))
for i in range(max(100, rows // 300)):
    pool.append((name(), "", random.choice(("家长", "嘉宾", "中职学生", "社区居民")), random.choice(guests)))
# Sizes vary from half to one and a half of the mean, summing to exactly `rows`.
sizes = [random.uniform(0.5, 1.5) for _ in range(sheets)]
scale = rows / sum(sizes)
sizes = [max(1, int(s * scale)) for s in sizes]
sizes[-1] += rows - sum(sizes)
assert sizes[-1] > 0 and sum(sizes) == rows

for k, n in enumerate(sizes):
    dep = departments[k % len(departments)]
    act = activities[(k // len(departments)) % len(activities)]
    day = datetime.datetime(2025, 5, 7 + k % 20, 8 + k % 9, 0)
    folder = os.path.join(out, dep, act)
    os.makedirs(folder, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("签到表")
    ws.merged_cells.add("A1:F1")
    ws.append([f"{dep}“{act}”活动签到表（第 {k + 1} 场）"])
    ws.append([])
    ws.append(["序号", "姓名", "学号/工号", "身份", "单位/班级", "签到时间"])
    as_text = k % 3 == 0
    for i, p in enumerate(random.sample(pool, min(n, len(pool))) if n <= len(pool) else random.choices(pool, k=n)):
        pid = str(p[1]) if as_text else p[1]
        t = day + datetime.timedelta(seconds=random.randint(0, 5400))
        ws.append([i + 1, p[0], pid, p[2], p[3], t])
    wb.save(os.path.join(folder, "签到表_%s_%03d.xlsx" % (act, k + 1)))
print("%d sheets, %d rows, pool of %d people in %s" % (sheets, rows, len(pool), out), file=sys.stderr)
PY
    echo "$ROWS" > "$WORK/inbox.rows"
fi
FILES=$(find "$INBOX" -type f -name '*.xlsx' | wc -l)
BYTES=$(du -sb "$INBOX" | cut -f1)

# secs CMD…: wall seconds of one run; its exit status goes to $WORK/rc.
secs() {
    local t0 t1 rc=0
    t0=$(date +%s.%N); "$@" >/dev/null 2>"$WORK/stderr.txt" || rc=$?; t1=$(date +%s.%N)
    echo "$rc" > "$WORK/rc"
    LC_NUMERIC=C printf '%.3f' "$(echo "$t1 - $t0" | bc -l)"
}
ratio() { LC_NUMERIC=C printf '%.1f' "$(echo "$1 / $2" | bc -l)"; }
rss_mb() { awk -F': ' '/Maximum resident/ {printf "%d", $2 / 1024}' "$1"; }
cpu() { awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
# dangan exits 0, or 3 when some file or row was reported: both are a finished run.
ok() { local rc; rc=$(cat "$WORK/rc"); [ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "$1 failed (exit $rc):" >&2; cat "$WORK/stderr.txt" >&2; exit 1; }; echo "$rc"; }

# openpyxl, read-only, every row of every sheet of every file.
find "$INBOX" -type f -name '*.xlsx' -print0 > "$WORK/files.lst"
T_PY=$(secs /usr/bin/time -v -o "$WORK/rss-openpyxl.txt" python3 -c '
import sys, openpyxl
n = 0
for p in open(sys.argv[1], "rb").read().decode().split("\0"):
    if not p:
        continue
    wb = openpyxl.load_workbook(p, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            n += 1
    wb.close()
print(n)' "$WORK/files.lst")
ok openpyxl >/dev/null

rm -rf "$WORK/archive"
T_IMPORT=$(secs /usr/bin/time -v -o "$WORK/rss-import.txt" "$BIN" --inbox "$INBOX" --archive "$WORK/archive" -q import)
RC_IMPORT=$(ok "dangan import")
T_STATS=$(secs /usr/bin/time -v -o "$WORK/rss-stats.txt" "$BIN" --inbox "$INBOX" --archive "$WORK/archive" -q stats)
ok "dangan stats" >/dev/null
T_DANGAN=$(LC_NUMERIC=C printf '%.3f' "$(echo "$T_IMPORT + $T_STATS" | bc -l)")
FIGURES=$("$BIN" --inbox "$INBOX" --archive "$WORK/archive" --json stats 2>/dev/null | tr -d '\n' | cut -c1-400 || true)
SHEET_PROBLEMS=$("$BIN" --inbox "$INBOX" --archive "$WORK/archive" --json list 2>/dev/null \
    | python3 -c 'import json, sys
n = sum(len(json.loads(l).get("problems") or []) for l in sys.stdin if l.strip())
print(n)' || echo "?")

# ---- zip bombs ----------------------------------------------------------------------------
# Each variant in an inbox of its own, imported alone, so that each peak RSS is its own.
BOMBS="$WORK/bombs"
if [ ! -f "$BOMBS/done" ]; then
    rm -rf "$BOMBS"; mkdir -p "$BOMBS"
    python3 - "$BOMBS" <<'PY'
# A hand-written zip (so the sizes it declares can be chosen): a minimal xlsx whose sheet1.xml is
# a sign-in header followed by 320 MiB of repetition. 单元格: one cell of 320 MiB of "A" (a few
# hundred KB deflated), the zip declaring its real size; 单元格_瞒报: the same claiming 1 MiB;
# 重复行_瞒报: one small row repeated ~2.8 million times (~1 MB deflated), claiming 1 MiB.
import os, struct, sys, zlib

folder = sys.argv[1]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
parts = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{R}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="{R}"><sheets><sheet name="签到表" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{R}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}
head = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>签到表</t></is></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>序号</t></is></c><c r="B3" t="inlineStr"><is><t>姓名</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t>身份</t></is></c></row>').encode()
TARGET = 320 << 20

def sheet(middle, body, tail):
    """head + middle, then `body` repeated up to TARGET bytes, then tail + the closing tags."""
    yield head + middle
    chunk = body * ((1 << 20) // len(body))
    n = len(head) + len(middle)
    while n + len(chunk) < TARGET:
        yield chunk
        n += len(chunk)
    yield tail + b"</sheetData></worksheet>"

def deflate(chunks):
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    crc, size, out = 0, 0, []
    for c in chunks:
        crc = zlib.crc32(c, crc)
        size += len(c)
        out.append(z.compress(c))
    out.append(z.flush())
    return b"".join(out), crc, size

small = [(name, *deflate([text.encode()])) for name, text in parts.items()]

def write(path, sheet1, claim=None):
    entries = small + [("xl/worksheets/sheet1.xml", *sheet1)]
    local, central = bytearray(), bytearray()
    for name, data, crc, size in entries:
        n = name.encode()
        said = claim if (claim and name.endswith("sheet1.xml")) else size
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, 8, 0, 0x5A21, crc,
                               len(data), said, len(n), 0, 0, 0, 0, 0, len(local)) + n
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 8, 0, 0x5A21, crc,
                             len(data), said, len(n), 0) + n + data
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    with open(path, "wb") as f:
        f.write(bytes(local + central + eocd))

# One cell holding 320 MiB of the same byte: ~1000:1, a few hundred KB.
cell = deflate(sheet(b'<row r="4"><c r="A4"><v>1</v></c><c r="B4" t="inlineStr"><is><t>', b"A" * 4096,
                     b"</t></is></c></row>"))
# One small row repeated ~2.8 million times.
rows = deflate(sheet(b"", '<row><c><v>1</v></c><c t="inlineStr"><is><t>张三</t></is></c><c t="inlineStr"><is><t>学生</t></is></c></row>'.encode(), b""))
for variant, data, claim in (("单元格", cell, None), ("单元格_瞒报", cell, 1 << 20), ("重复行_瞒报", rows, 1 << 20)):
    d = os.path.join(folder, variant, "教务科研处", "启动仪式")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, f"签到表_炸弹_{variant}.xlsx"), data, claim)
    # Dated like the activity, so that no date warning hides the reason in the output.
    os.utime(os.path.join(d, f"签到表_炸弹_{variant}.xlsx"), (1746576000, 1746576000))
PY
    touch "$BOMBS/done"
fi
BOMB_REPORT=""
for v in 单元格 单元格_瞒报 重复行_瞒报; do
    f="$BOMBS/$v/教务科研处/启动仪式/签到表_炸弹_$v.xlsx"
    SIZES=$(python3 -c 'import sys, zipfile
i = zipfile.ZipFile(sys.argv[1]).getinfo("xl/worksheets/sheet1.xml")
print(f"{i.compress_size >> 10} KiB, sheet1.xml claims {i.file_size >> 20} MiB", end="")' "$f")
    rm -rf "$WORK/bomb-archive-$v"
    T=$(secs /usr/bin/time -v -o "$WORK/rss-bomb-$v.txt" "$BIN" --inbox "$BOMBS/$v" --archive "$WORK/bomb-archive-$v" -q import)
    RC=$(cat "$WORK/rc")
    [ "$RC" = 0 ] || [ "$RC" = 3 ] || { echo "dangan import of the $v bomb failed (exit $RC):" >&2; tail -5 "$WORK/stderr.txt" >&2; }
    # What the catalog says of the file: its problems, as `dangan list --json` prints them.
    SAID=$("$BIN" --inbox "$BOMBS/$v" --archive "$WORK/bomb-archive-$v" --json list 2>/dev/null | python3 -c '
import json, sys
found = []
for line in sys.stdin:
    if not line.strip():
        continue
    v = json.loads(line)
    probs = v.get("problems") or []
    found += [p if isinstance(p, str) else (p.get("reason") or p.get("message") or json.dumps(p, ensure_ascii=False)) for p in probs]
print("list --json problems: " + "; ".join(found) if found else "NOT REFUSED: list --json shows no problem")' 2>&1 || echo "list failed")
    # Rows skipped inside the sheet, with their reasons, are shown by `dangan status` only.
    SKIPPED=$("$BIN" --inbox "$BOMBS/$v" --archive "$WORK/bomb-archive-$v" status 2>/dev/null \
        | sed -n '/表格中被跳过的行/,/^$/p' | sed -n '2,4s/^ *[^ ]* /      status: /p' || true)
    BOMB_REPORT+="  $v ($SIZES): ${T}s, exit $RC, peak RSS $(rss_mb "$WORK/rss-bomb-$v.txt") MB   (target: refused with a reason, RSS low)
      $SAID${SKIPPED:+
$SKIPPED}
"
done

RSS_PY=$(rss_mb "$WORK/rss-openpyxl.txt")
RSS_IMPORT=$(rss_mb "$WORK/rss-import.txt")
RSS_STATS=$(rss_mb "$WORK/rss-stats.txt")
cat <<REPORT
dangan sheets benchmark — $FILES xlsx, $ROWS rows, $((BYTES / 1024)) KB, $(nproc) cores, page cache: warm
  openpyxl read_only, all rows   ${T_PY}s   (CPU $(cpu "$WORK/rss-openpyxl.txt")s, peak RSS $RSS_PY MB)
  dangan import                  ${T_IMPORT}s   (CPU $(cpu "$WORK/rss-import.txt")s; exit $RC_IMPORT, $SHEET_PROBLEMS problems listed)
  dangan stats                   ${T_STATS}s   (CPU $(cpu "$WORK/rss-stats.txt")s)
  dangan import + stats          ${T_DANGAN}s   = $(ratio "$T_PY" "$T_DANGAN")× faster than openpyxl   (target ≥ 10×)
  peak RSS: import $RSS_IMPORT MB, stats $RSS_STATS MB   (target ≤ 200 MB)
  figures: ${FIGURES:-?}
zip bombs — 320 MiB of sheet XML each, imported one by one:
${BOMB_REPORT%
}
REPORT
