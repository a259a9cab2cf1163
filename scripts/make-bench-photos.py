#!/usr/bin/env python3
"""Generates a benchmark inbox of phone-sized JPEGs (4000x3000, EXIF-dated) in department
folders: one noisy base image encoded once, then each file gets its own EXIF segment (its own
date and serial), so every file has distinct content. Usage: make-bench-photos.py DIR MEGABYTES
"""
import io, os, random, struct, sys

from PIL import Image

out, megabytes = sys.argv[1], int(sys.argv[2])
random.seed(7)
W, H = 4000, 3000
base = Image.effect_noise((W // 4, H // 4), 60).convert("RGB").resize((W, H))
buf = io.BytesIO()
base.save(buf, "JPEG", quality=92)
jpeg = buf.getvalue()
# A small embedded thumbnail, as phones write one.
tb = io.BytesIO()
base.resize((160, 120)).save(tb, "JPEG", quality=70)
thumb = tb.getvalue()

def exif(date, serial):
    # Little-endian TIFF: IFD0 (DateTime, ExifIFD ptr), ExifIFD (DateTimeOriginal, comment), IFD1 thumbnail.
    def ascii(s):
        return s.encode() + b"\0"
    dt = ascii(date)
    note = ascii("bench-%08d" % serial)
    entries0 = 2
    ifd0 = 8
    exif_ifd = ifd0 + 2 + entries0 * 12 + 4
    entries_e = 2
    ifd1 = exif_ifd + 2 + entries_e * 12 + 4
    entries1 = 2
    data = ifd1 + 2 + entries1 * 12 + 4
    dt_at, note_at, thumb_at = data, data + len(dt), data + len(dt) + len(note)
    t = b"II*\0" + struct.pack("<I", ifd0)
    t += struct.pack("<H", entries0)
    t += struct.pack("<HHII", 0x0132, 2, len(dt), dt_at)
    t += struct.pack("<HHII", 0x8769, 4, 1, exif_ifd)
    t += struct.pack("<I", ifd1)
    t += struct.pack("<H", entries_e)
    t += struct.pack("<HHII", 0x9003, 2, len(dt), dt_at)
    t += struct.pack("<HHII", 0xA420, 2, len(note), note_at)   # ImageUniqueID
    t += struct.pack("<I", 0)
    t += struct.pack("<H", entries1)
    t += struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
    t += struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    t += struct.pack("<I", 0)
    t += dt + note + thumb
    seg = b"Exif\0\0" + t
    return b"\xff\xe1" + struct.pack(">H", len(seg) + 2) + seg

departments = ["教务科研处", "学生处", "校团委", "就业处", "党政办公室", "人事处", "马克思主义学院", "机电工程学院"]
activities = ["启动仪式", "党政领导讲职教", "社团活动", "企业谈职教", "演讲比赛", "技能竞赛"]
total, i = 0, 0
while total < megabytes * 1024 * 1024:
    dep = departments[i % len(departments)]
    act = activities[(i // len(departments)) % len(activities)]
    day = 7 + i % 20
    date = "2025:05:%02d %02d:%02d:%02d" % (day, 8 + i % 10, i % 60, (i * 7) % 60)
    folder = os.path.join(out, dep, act)
    os.makedirs(folder, exist_ok=True)
    data = jpeg[:2] + exif(date, i) + jpeg[2:]
    with open(os.path.join(folder, "IMG_2025%04d_%06d.jpg" % (500 + day, i)), "wb") as f:
        f.write(data)
    total += len(data)
    i += 1
print("%d files, %.1f MB in %s" % (i, total / 1048576, out))
