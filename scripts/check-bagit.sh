#!/bin/sh
# Second opinion on a year-end archive: unpack a BagIt zip written by `dangan archive` into a
# temporary folder and let bagit-python (the Library of Congress implementation) validate it.
#
#   scripts/check-bagit.sh archive/<机构名称>-2025-职业教育活动周档案.zip
#
# Needs python3 with bagit-python (`pip install bagit`). Exit status: 0 valid, 1 invalid,
# 2 bad usage or missing tools. Never modifies the zip.
set -eu

if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    echo "用法：$0 档案.zip" >&2
    exit 2
fi
if ! python3 -c 'import bagit' 2>/dev/null; then
    echo "需要 python3 与 bagit-python：pip install bagit" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

python3 - "$1" "$work" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
if bad is not None:
    sys.exit("CRC 校验失败：" + bad)
z.extractall(sys.argv[2])
PY

set -- "$work"/*/
if [ "$#" -ne 1 ] || [ ! -d "$1" ]; then
    echo "zip 中应只有一个顶层文件夹" >&2
    exit 1
fi
python3 -c 'import sys, bagit; sys.argv = ["bagit", "--quiet", "--validate", sys.argv[1]]; bagit.main()' "$1"
echo "bagit-python：有效"
