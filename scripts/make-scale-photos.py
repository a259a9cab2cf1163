#!/usr/bin/env python3
"""Generates a scale-benchmark inbox: N small phone photos (1024x768 JPEG, about 45 KB each, EXIF
DateTimeOriginal in May 2025, every file distinct bytes) spread evenly over the (department,
activity) folders of a dangan.toml, and one sign-in sheet (签到表.xlsx: 姓名 学号 身份 单位, 30 rows)
per activity folder (its mtime on the activity's first day). Layout: OUT/<部门>/<活动>/IMG_YYYYMMDD_HHMMSS_<serial>.jpg.

    make-scale-photos.py CONFIG.toml OUT N

The base image is encoded once (Pillow); each file then gets its own APP1 EXIF segment (its own
date and ImageUniqueID), as make-bench-photos.py does. Unlike make-bench-photos.py the photos carry
no embedded EXIF thumbnail (WeChat's compressed photos have none), so a report must decode them.
An activity the catalog gives no department (各教学单位, 二级学院) goes to 机电工程学院's folder.
Dates fall within the activity's start/end when the catalog gives them, else in the period
(May 2025). Deterministic for a given N.
"""
import calendar, io, os, random, re, struct, sys

from PIL import Image
from openpyxl import Workbook

config, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
TEACHING_UNIT = "机电工程学院"
TARGET = 45 * 1024


def activities(path):
    """[(name, [departments], start_day, end_day)] of the [[activity]] tables of a dangan.toml."""
    text = open(path, encoding="utf-8").read()
    try:
        import tomllib
        doc = tomllib.loads(text)
        period = doc.get("period", {})
        p0 = period.get("start").day if period.get("start") else 1
        p1 = period.get("end").day if period.get("end") else 31
        acts = []
        for a in doc["activity"]:
            s, e = a.get("start"), a.get("end")
            acts.append((a["name"], list(a.get("departments", [])),
                         s.day if s else p0, e.day if e else p1))
        return acts
    except ImportError:   # Python < 3.11: the few keys needed, read from `dangan init`'s layout
        acts = []
        for block in text.split("[[activity]]")[1:]:
            name = re.search(r'^name\s*=\s*"([^"]*)"', block, re.M).group(1)
            deps = re.search(r'^departments\s*=\s*\[([^\]]*)\]', block, re.M)
            deps = re.findall(r'"([^"]*)"', deps.group(1)) if deps else []
            s = re.search(r'^start\s*=\s*\d{4}-\d\d-(\d\d)', block, re.M)
            e = re.search(r'^end\s*=\s*\d{4}-\d\d-(\d\d)', block, re.M)
            acts.append((name, deps, int(s.group(1)) if s else 1, int(e.group(1)) if e else 31))
        return acts


folders = []   # (department, activity, first day, last day)
for name, deps, d0, d1 in activities(config):
    for dep in deps or [TEACHING_UNIT]:
        folders.append((dep, name, d0, d1))

# One noisy colour base image, encoded once at the quality that brings it near 45 KB.
random.seed(12)
W, H = 1024, 768
base = Image.merge("RGB", [Image.effect_noise((W // 32, H // 32), 40).resize((W, H), Image.BICUBIC)
                           for _ in range(3)])
for quality in range(85, 30, -3):
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=quality)
    jpeg = buf.getvalue()
    if len(jpeg) <= TARGET:
        break


def exif(date, serial):
    """APP1: little-endian TIFF, IFD0 (Make, Model, DateTime, ExifIFD pointer) and ExifIFD
    (DateTimeOriginal, ImageUniqueID); no IFD1 thumbnail."""
    def ascii(s):
        return s.encode() + b"\0"
    make, model, dt, uid = ascii("Xiaomi"), ascii("Redmi Note 12"), ascii(date), ascii("scale-%010d" % serial)
    n0, ne = 4, 2
    ifd0 = 8
    exif_ifd = ifd0 + 2 + n0 * 12 + 4
    data = exif_ifd + 2 + ne * 12 + 4
    make_at = data
    model_at = make_at + len(make)
    dt_at = model_at + len(model)
    uid_at = dt_at + len(dt)
    t = b"II*\0" + struct.pack("<I", ifd0)
    t += struct.pack("<H", n0)
    t += struct.pack("<HHII", 0x010F, 2, len(make), make_at)
    t += struct.pack("<HHII", 0x0110, 2, len(model), model_at)
    t += struct.pack("<HHII", 0x0132, 2, len(dt), dt_at)
    t += struct.pack("<HHII", 0x8769, 4, 1, exif_ifd)
    t += struct.pack("<I", 0)
    t += struct.pack("<H", ne)
    t += struct.pack("<HHII", 0x9003, 2, len(dt), dt_at)
    t += struct.pack("<HHII", 0xA420, 2, len(uid), uid_at)
    t += struct.pack("<I", 0)
    t += make + model + dt + uid
    seg = b"Exif\0\0" + t
    return b"\xff\xe1" + struct.pack(">H", len(seg) + 2) + seg


total = 0
for i in range(n):
    dep, act, d0, d1 = folders[i % len(folders)]
    day = d0 + (i // len(folders)) % (d1 - d0 + 1)
    hh, mm, ss = 8 + i % 10, (i * 7) % 60, (i * 13) % 60
    date = "2025:05:%02d %02d:%02d:%02d" % (day, hh, mm, ss)
    folder = os.path.join(out, dep, act)
    os.makedirs(folder, exist_ok=True)
    data = jpeg[:2] + exif(date, i) + jpeg[2:]
    name = "IMG_202505%02d_%02d%02d%02d_%06d.jpg" % (day, hh, mm, ss, i)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    total += len(data)

# One sign-in sheet per activity folder; people drawn from a shared pool, so some sign in twice.
surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建林红玲波宇浩然思雨欣怡子轩梓涵"
pool = []
for k in range(2000):
    name = random.choice(surnames) + random.choice(given) + (random.choice(given) if k % 3 else "")
    r = random.random()
    if r < 0.8:
        role, unit, pid = "学生", "%s%02d班" % (random.choice(["机电", "汽修", "会计", "护理", "数控"]), 1 + k % 30), "2023%06d" % k
    elif r < 0.95:
        role, unit, pid = "教师", random.choice(["教务科研处", "学生处", TEACHING_UNIT, "马克思主义学院"]), "T%05d" % k
    else:
        role, unit, pid = "企业人员", random.choice(["东方锅炉", "华西能源", "川润股份"]) + "有限公司", ""
    pool.append((name, pid, role, unit))
sheets = 0
for dep, act, d0, _ in folders:
    folder = os.path.join(out, dep, act)
    os.makedirs(folder, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "签到"
    ws.append(["姓名", "学号", "身份", "单位"])
    for person in random.sample(pool, 30):
        ws.append(list(person))
    path = os.path.join(folder, "签到表.xlsx")
    wb.save(path)
    # The sheet has no date column: its date is its mtime, set to the activity's first day (18:00
    # at +08:00), as a copy that keeps times would have it.
    stamp = calendar.timegm((2025, 5, d0, 10, 0, 0))
    os.utime(path, (stamp, stamp))
    sheets += 1
print("%d photos (%d bytes each, %.1f MB) in %d folders, %d sign-in sheets in %s"
      % (n, total // max(n, 1), total / 1048576, len(folders), sheets, out))
