#!/usr/bin/env python3
"""Builds the small sample inbox shipped in inbox/ (run once by hand; its output is committed).

Needs: pip install pillow openpyxl python-docx. Every file is made here; nothing is copied
from elsewhere. Dates follow the 2025 plan (启动仪式 5/7, 党政领导讲职教 5/12–16, …).
"""
import os, sys, datetime
from PIL import Image, ImageDraw
import openpyxl
from openpyxl.styles import Alignment
import docx

root = sys.argv[1] if len(sys.argv) > 1 else "inbox"

def photo(path, when, colour, label, exif=True, size=(640, 480)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = Image.new("RGB", size, colour)
    d = ImageDraw.Draw(img)
    for i in range(0, size[0], 40):
        d.line([(i, 0), (size[0] - i, size[1])], fill=(255, 255, 255), width=2)
    d.rectangle([40, 40, 300, 120], fill=(250, 250, 240))
    d.text((50, 60), label, fill=(20, 20, 20))
    kw = {"quality": 80}
    if exif:
        e = Image.Exif()
        e[0x010F] = "HUAWEI"          # Make
        e[0x0110] = "ELS-AN00"        # Model
        e[0x0132] = when              # DateTime
        ifd = e.get_ifd(0x8769)
        ifd[0x9003] = when            # DateTimeOriginal
        ifd[0x9004] = when            # DateTimeDigitized
        ifd[0x9011] = "+08:00"        # OffsetTimeOriginal
        kw["exif"] = e.tobytes()
    img.save(path, "JPEG", **kw)
    t = datetime.datetime(2025, 5, 28, 18, 0).timestamp()
    os.utime(path, (t, t))

def sheet(path, title, header, rows, sheet_name="Sheet1"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_name
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.properties.created = datetime.datetime(2025, 5, 7, 12, 0)
    wb.properties.modified = datetime.datetime(2025, 5, 7, 12, 0)
    wb.save(path)

def document(path, paragraphs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.core_properties.created = datetime.datetime(2025, 5, 5, 9, 0)
    doc.core_properties.modified = datetime.datetime(2025, 5, 5, 9, 0)
    doc.save(path)

J = os.path.join
# 教务科研处: the launch ceremony, with EXIF photos, a sign-in sheet, a plan and a summary.
base = J(root, "教务科研处", "启动仪式")
photo(J(base, "IMG_20250507_093012.jpg"), "2025:05:07 09:30:12", (180, 40, 40), "Launch 1")
photo(J(base, "IMG_20250507_094530.jpg"), "2025:05:07 09:45:30", (160, 60, 40), "Launch 2")
sheet(J(base, "启动仪式签到表.xlsx"), "2025年职业教育活动周（月）启动仪式签到表",
      ["序号", "姓名", "工号/学号", "身份", "单位", "签到时间"],
      [[1, "李明", "T2019001", "教师", "教务科研处", datetime.datetime(2025, 5, 7, 8, 50)],
       [2, "王芳", "T2015023", "教师", "机电工程学院", datetime.datetime(2025, 5, 7, 8, 52)],
       [3, "张伟", "2023010101", "学生", "机电2301班", datetime.datetime(2025, 5, 7, 8, 55)],
       [4, "刘洋", "2023010102", "学生", "机电2301班", datetime.datetime(2025, 5, 7, 8, 56)],
       [5, "陈静", "", "企业代表", "自贡华西能源工业有限公司", datetime.datetime(2025, 5, 7, 8, 58)],
       [6, "赵磊", "", "中职学生", "自贡市职业技术学校", datetime.datetime(2025, 5, 7, 9, 0)]])
document(J(base, "启动仪式活动方案.docx"),
         ["自贡职业技术学院2025年职业教育活动周（月）启动仪式方案", "2025年5月5日",
          "一、活动主题：数智赋能职教，技能点亮未来", "二、活动时间：2025年5月7日", "三、活动地点：体育馆"])
document(J(base, "启动仪式活动总结.docx"),
         ["自贡职业技术学院2025年职业教育活动周（月）启动仪式总结", "2025年5月8日",
          "5月7日上午，学院在体育馆隆重举行2025年职业教育活动周（月）启动仪式。党委书记朱成勇宣布职业教育活动月正式启动，"
          "执行院长肖华讲话，教师代表和学生代表先后发言。各部门主要负责人、二级学院院长、师生代表参加。"])

# 党政办公室: lectures 5/12–16, WeChat photos without EXIF, dated by their names.
base = J(root, "党政办公室", "党政领导讲职教")
photo(J(base, "微信图片_20250513101500.jpg"), None, (40, 80, 160), "Lecture 1", exif=False)
photo(J(base, "mmexport1747106100000.jpg"), None, (40, 100, 170), "Lecture 2", exif=False)

# 校团委: the speech contest in a dated folder, and a media register.
base = J(root, "校团委", "演讲比赛")
photo(J(base, "2025-05-15", "DSC_0001.jpg"), "2025:05:15 14:20:00", (40, 140, 60), "Speech 1")
sheet(J(root, "校团委", "演讲比赛", "媒体报道登记表.xlsx"), "职业教育活动周媒体报道登记表",
      ["序号", "报道标题", "刊发媒体", "媒体级别", "发布日期", "链接"],
      [[1, "自贡职院举办“职教学生谈职教”演讲比赛", "自贡日报", "市级", "2025-05-16", "https://example.cn/zgrb/20250516/1.html"],
       [2, "职教活动周：技能点亮未来", "四川教育", "省级", "2025-05-18", "https://example.cn/scjy/2025/0518.html"],
       [3, "我校职教活动周启动", "学院微信公众号", "校级", "2025-05-07", "https://example.cn/wx/1"]])

# 学生处: a class-meeting summary as plain text (GB18030, as Windows Notepad may save it).
base = J(root, "学生处", "主题班会")
os.makedirs(base, exist_ok=True)
with open(J(base, "主题班会总结.txt"), "w", encoding="gb18030") as f:
    f.write("宣传职教政策主题班会总结\n2025年5月14日\n各班级围绕职业规划、技能提升、职业素养开展主题班会。\n")

print("sample inbox written to", root)
