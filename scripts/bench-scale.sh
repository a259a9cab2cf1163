#!/usr/bin/env bash
# Scale benchmark (docs/DESIGN.md, *Scale*), run by hand on a quiet machine — not part of CI:
#   scripts/bench-scale.sh [N...]          (default: 5000 40000)
#   env: DANGAN_BIN=path/to/dangan   the binary to measure (default: this repository's release
#                                    build, built here first: ${CARGO_TARGET_DIR:-target}/release)
#        WORKDIR=/tmp/dangan-scale   where the inboxes (cached per N) and the runs live
#        SETTLE=4                    seconds waited after each drop of the page cache
#        VIPS_SAMPLE=5000            vipsthumbnail is timed over at most this many of the photos
#                                    (evenly spaced) and scaled to all of them; 0 = all
#        SOURCE_DATE_EPOCH           for `archive` (default 1767139200, 2025-12-31 00:00 UTC)
# For each N: generates (once; cached in WORKDIR/inbox-N) N small phone photos of about 45 KB,
# EXIF-dated in May 2025, spread over the departments and activity folders of the built-in catalog
# (`dangan init`), plus one sign-in sheet per activity folder (make-scale-photos.py). Then, from one
# run on the same files, the wall time, peak RSS (/usr/bin/time -v) and CPU time of each dangan
# command, beside the standard tools the targets are stated against: `cp -r` + `sync`, `find -ls`,
# `vipsthumbnail -s 320`, `zip -q -0 -r`, `unzip -tq`. Last, the table over all N: every figure,
# the ratios against the targets, and each command's growth from the first N to the last.
# Order of a run: cp+sync, find -ls, import (first), import (unchanged), import --dry-run (into an
# empty archive), stats, check, list --json, status, report cold (archive/thumbs and archive/报告
# removed), report warm, nightly (unchanged: inbox, thumbnails and report as the last night left
# them), vipsthumbnail, archive --year 2025 (build + its own verification), verify, zip, unzip -t.
# Page cache: every timed command starts after `sync; echo 3 > /proc/sys/vm/drop_caches` and a
# wait of SETTLE seconds (scripts/cold-cache.sh; default 4: the freed memory has gone back to a
# VM's host) when that is allowed (root on a real machine), else warm — said in the output.
# Installs what it lacks (apt-get: time libvips-tools zip unzip; pip: pillow openpyxl); no other
# network use (the build is cargo's, offline once the crates are fetched).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORKDIR:-/tmp/dangan-scale}
VIPS_SAMPLE=${VIPS_SAMPLE:-5000}
if [ $# -eq 0 ]; then set -- 5000 40000; fi
for n in "$@"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "用法：scripts/bench-scale.sh [N...]（N 为照片数，默认 5000 40000）" >&2; exit 2; }
done

need() { command -v "$1" >/dev/null 2>&1; }
if [ ! -x /usr/bin/time ] || ! need vipsthumbnail || ! need zip || ! need unzip; then
    apt-get install -y -qq time libvips-tools zip unzip >/dev/null
fi
python3 -c 'import PIL, openpyxl' 2>/dev/null || python3 -m pip install -q pillow openpyxl

if [ -n "${DANGAN_BIN:-}" ]; then
    BIN=$(cd "$(dirname "$DANGAN_BIN")" && pwd)/$(basename "$DANGAN_BIN")
else
    # As bench-archive.sh builds: libsqlite3-sys's build script reads SOURCE_DATE_EPOCH.
    (cd "$ROOT" && env -u SOURCE_DATE_EPOCH cargo build --release -q)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/dangan"
fi
[ -x "$BIN" ] || { echo "没有可执行的 dangan：$BIN" >&2; exit 1; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767139200}
mkdir -p "$WORK"

# The built-in catalog, as `dangan init` writes it: the folders of the generated inbox.
CONFIG_DIR="$WORK/config"
rm -rf "$CONFIG_DIR"; mkdir -p "$CONFIG_DIR"
(cd "$CONFIG_DIR" && "$BIN" -q init >/dev/null)
CONFIG="$CONFIG_DIR/dangan.toml"
GEN="$ROOT/scripts/make-scale-photos.py"
KEY_BASE=$(cat "$GEN" "$CONFIG" | sha256sum | cut -c1-16)

# shellcheck source=cold-cache.sh
. "$ROOT/scripts/cold-cache.sh"
# measure KEY [--ok-3] CMD…: one run of CMD after dropping the page cache; appends
# "KEY wall_s rss_kb cpu_s" to $RES. Its stdout goes to $OUT (default /dev/null), its stderr to
# $RUN/stderr-KEY.txt. Exit 0 is required; with --ok-3 also 3 (dangan: done, some files reported).
measure() {
    local key=$1 ok3=; shift
    if [ "$1" = --ok-3 ]; then ok3=1; shift; fi
    local tf="$RUN/time-$key.txt" t0 t1 rc=0
    cold
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$tf" "$@" >"${OUT:-/dev/null}" 2>"$RUN/stderr-$key.txt" || rc=$?
    t1=$(date +%s.%N)
    if [ "$rc" != 0 ] && ! { [ "$rc" = 3 ] && [ -n "$ok3" ]; }; then
        echo "$key 失败（退出码 $rc）：$*" >&2
        tail -20 "$RUN/stderr-$key.txt" >&2
        exit 1
    fi
    awk -v k="$key" -v t0="$t0" -v t1="$t1" -F': ' '
        /Maximum resident/ {rss = $2} /User time|System time/ {cpu += $2}
        END {printf "%s\t%.3f\t%d\t%.2f\n", k, t1 - t0, rss, cpu}' "$tf" >> "$RES"
    echo "  $(tail -1 "$RES" | awk -F'\t' '{printf "%-16s %9.2f s %7d MB %8.2f s CPU", $1, $2, $3 / 1024, $4}')" >&2
}

SUMMARY=()
for N in "$@"; do
    INBOX="$WORK/inbox-$N"
    KEY="$KEY_BASE-$N"
    if [ "$(cat "$INBOX.key" 2>/dev/null)" != "$KEY" ]; then
        rm -rf "$INBOX" "$INBOX.key"
        echo "generating $N photos → $INBOX" >&2
        python3 "$GEN" "$CONFIG" "$INBOX" "$N" >&2
        echo "$KEY" > "$INBOX.key"
    fi
    RUN="$WORK/run-$N"
    rm -rf "$RUN"; mkdir -p "$RUN"
    ARCHIVE="$RUN/archive"
    RES="$RUN/results.tsv"
    # Every dangan command with the built-in catalog (as `init` wrote it), whatever the cwd holds.
    D=("$BIN" --config "$CONFIG" --inbox "$INBOX" --archive "$ARCHIVE")
    : > "$RES"
    FILES=$(find "$INBOX" -type f | wc -l)
    BYTES=$(du -sb "$INBOX" | cut -f1)
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "N = $N: $FILES files, $((BYTES / 1048576)) MB, load $LOAD0" >&2

    measure cp_sync bash -c "cp -r '$INBOX' '$RUN/cp' && sync"
    rm -rf "$RUN/cp"
    measure find_ls find "$INBOX" -ls
    OUT="$RUN/import.json" measure import --ok-3 "${D[@]}" import --json
    OUT="$RUN/import-again.json" measure import_again --ok-3 "${D[@]}" import --json
    OUT="$RUN/dry-run.json" measure dry_run --ok-3 "$BIN" --config "$CONFIG" --inbox "$INBOX" --archive "$RUN/empty-archive" import --dry-run --json
    rm -rf "$RUN/empty-archive"
    measure stats --ok-3 "${D[@]}" -q stats
    measure check --ok-3 "${D[@]}" -q check
    measure list_json --ok-3 "${D[@]}" list --json
    measure status --ok-3 "${D[@]}" status
    rm -rf "$ARCHIVE/thumbs" "$ARCHIVE/报告"
    measure report_cold --ok-3 "${D[@]}" -q report
    measure report_warm --ok-3 "${D[@]}" -q report
    OUT="$RUN/nightly.json" measure nightly --ok-3 "${D[@]}" nightly --json

    # vipsthumbnail over the same photos (the inbox's JPEGs are the store's objects, byte for
    # byte), two processes at a time like dangan's threads, 50 files per process.
    find "$INBOX" -name '*.jpg' | sort > "$RUN/photos.txt"
    PHOTOS=$(wc -l < "$RUN/photos.txt")
    if [ "$VIPS_SAMPLE" -gt 0 ] && [ "$PHOTOS" -gt "$VIPS_SAMPLE" ]; then
        awk -v n="$PHOTOS" -v s="$VIPS_SAMPLE" 'int((NR - 1) * s / n) != int(NR * s / n)' "$RUN/photos.txt" > "$RUN/vips-list.txt"
    else
        cp "$RUN/photos.txt" "$RUN/vips-list.txt"
    fi
    VIPS_N=$(wc -l < "$RUN/vips-list.txt")
    mkdir -p "$RUN/vips"
    measure vips xargs -d '\n' -a "$RUN/vips-list.txt" -P "$(nproc)" -n 50 vipsthumbnail -s 320 -o "$RUN/vips/%s.jpg[Q=80]"
    [ "$(find "$RUN/vips" -type f | wc -l)" = "$VIPS_N" ] || { echo "vipsthumbnail made $(find "$RUN/vips" -type f | wc -l) of $VIPS_N thumbnails" >&2; exit 1; }
    rm -rf "$RUN/vips"

    OUT="$RUN/archive.json" measure archive --ok-3 "${D[@]}" --json archive --year 2025 --out "$RUN/dangan-2025.zip"
    measure verify --ok-3 "${D[@]}" -q verify "$RUN/dangan-2025.zip"
    # The bag goes before the plain zip is made: at 40 000 files both at once need 4+ GB.
    BAG_MB=$(( $(stat -c %s "$RUN/dangan-2025.zip") / 1048576 ))
    rm -f "$RUN/dangan-2025.zip"
    measure zip bash -c "cd '$WORK' && zip -q -0 -r '$RUN/zip.zip' 'inbox-$N'"
    measure unzip_t unzip -tq "$RUN/zip.zip"
    ZIP_MB=$(( $(stat -c %s "$RUN/zip.zip") / 1048576 ))
    rm -f "$RUN/zip.zip"

    {
        echo "n=$N"; echo "files=$FILES"; echo "mb=$((BYTES / 1048576))"; echo "photos=$PHOTOS"
        echo "vips_n=$VIPS_N"; echo "cache=$CACHE"; echo "load0=$LOAD0"; echo "load1=$(cut -d' ' -f1-3 /proc/loadavg)"
        echo "bag_mb=$BAG_MB"; echo "zip_mb=$ZIP_MB"
        echo "import_json=$(cat "$RUN/import.json")"; echo "again_json=$(cat "$RUN/import-again.json")"
        echo "dry_json=$(cat "$RUN/dry-run.json")"; echo "nightly_json=$(cat "$RUN/nightly.json")"
    } > "$RUN/meta.txt"
    SUMMARY+=("$RUN")
done

BIN_ID="$BIN ($("$BIN" --version 2>/dev/null || echo dangan), sha256 $(sha256sum "$BIN" | cut -c1-12), built $(date -u -r "$BIN" +%FT%TZ))"
REV=$(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null || echo "?")
python3 - "$BIN_ID" "$REV" "$(nproc)" "$SOURCE_DATE_EPOCH" "${SUMMARY[@]}" <<'PY'
import json, sys

bin_id, rev, cores, sde, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
data = []
for run in runs:
    meta = dict(l.rstrip("\n").split("=", 1) for l in open(f"{run}/meta.txt"))
    res = {}
    for l in open(f"{run}/results.tsv"):
        k, wall, rss, cpu = l.split("\t")
        res[k] = (float(wall), int(rss) / 1024, float(cpu))
    n, vn = int(meta["photos"]), int(meta["vips_n"])
    if vn < n:   # timed over a sample: scaled to every photo
        w, r, c = res["vips"]
        res["vips"] = (w * n / vn, r, c * n / vn)
    data.append((meta, res))

ROWS = [  # key, label, reference key, target ratio, reference label
    ("cp_sync", "cp -r + sync", None, None, ""),
    ("find_ls", "find INBOX -ls", None, None, ""),
    ("vips", "vipsthumbnail -s 320", None, None, ""),
    ("zip", "zip -q -0 -r", None, None, ""),
    ("unzip_t", "unzip -tq", None, None, ""),
    ("import", "dangan import (first)", "cp_sync", 1.2, "cp+sync"),
    # Against the listing, not the first import: an unchanged import lists the inbox and reads
    # the catalog's rows, so its floor is `find -ls` (at 5 000 small photos 8 % of a first
    # import: a share of the first import mostly measured how fast that one got).
    ("import_again", "import (unchanged)", "find_ls", 1.5, "find -ls"),
    ("nightly", "nightly (unchanged)", "find_ls", 3.0, "find -ls"),
    ("dry_run", "import --dry-run", None, None, ""),
    ("stats", "stats", None, None, ""),
    ("check", "check", None, None, ""),
    ("list_json", "list --json >/dev/null", None, None, ""),
    ("status", "status", None, None, ""),
    ("report_cold", "report (cold)", "vips", 0.5, "vipsthumbnail"),
    ("report_warm", "report (warm)", "report_cold", 0.05, "cold report"),
    ("archive", "archive --year 2025", "zip", 0.6, "zip -0"),
    ("verify", "verify", "unzip_t", 0.5, "unzip -t"),
]
GROWTH = {"import", "stats", "report_cold", "report_warm", "archive", "verify"}
DANGAN = {k for k, *_ in ROWS[5:]}

print(f"dangan scale benchmark — {bin_id}")
print(f"  this script's checkout: {rev}")
print(f"  {cores} cores, SOURCE_DATE_EPOCH={sde}")
for meta, res in data:
    imp = json.loads(meta["import_json"])
    print(f"  N={meta['n']}: {meta['files']} files ({meta['photos']} photos ≈45 KB, "
          f"{int(meta['files']) - int(meta['photos'])} sign-in sheets), {meta['mb']} MB; "
          f"page cache {meta['cache']}; load avg {meta['load0']} → {meta['load1']}; "
          f"import: new {imp.get('new')}, problems {imp.get('problems')}, rejected {imp.get('rejected')}; "
          f"bag {meta['bag_mb']} MB, zip {meta['zip_mb']} MB"
          + (f"; vipsthumbnail timed over {meta['vips_n']} photos, scaled ×{int(meta['photos']) / int(meta['vips_n']):.2f}"
             if int(meta["vips_n"]) < int(meta["photos"]) else ""))
print()

ns = [m["n"] for m, _ in data]
hdr = f"{'':24}" + "".join(f"{'N=' + n:>34}" for n in ns)
if len(data) > 1:
    hdr += f"   growth {ns[0]}→{ns[-1]}"
print(hdr)
print(f"{'':24}" + "".join(f"{'wall s':>10}{'RSS MB':>8}{'ratio':>16}" for _ in ns))
nratio = int(ns[-1]) / int(ns[0]) if len(ns) > 1 else 1
growth_target = 9 / 8 * nratio
misses = []
for key, label, ref, target, reflabel in ROWS:
    line = f"{label:24}"
    for meta, res in data:
        wall, rss, cpu = res[key]
        cell = ""
        if ref:
            r = wall / res[ref][0]
            mark = "" if r <= target else "!"
            cell = f"{r:.2f}×{mark}"
            if mark:
                misses.append(f"N={meta['n']} {label}: {r:.2f}× {reflabel} (target ≤ {target}×)")
        rss_mark = "!" if key in DANGAN and rss > 200 else ""
        if rss_mark:
            misses.append(f"N={meta['n']} {label}: peak RSS {rss:.0f} MB (target ≤ 200 MB)")
        line += f"{wall:10.2f}{rss:7.0f}{rss_mark or ' '}{cell:>16}"
    if len(data) > 1:
        g = res[key][0] / data[0][1][key][0]
        gm = "!" if key in GROWTH and g > growth_target else ""
        if gm:
            misses.append(f"{label}: grows {g:.1f}× from N={ns[0]} to N={ns[-1]} (target ≤ {growth_target:.1f}×)")
        line += f"   {g:6.2f}×{gm}"
    if ref:
        line += f"   (vs {reflabel}, target ≤ {target}×)"
    print(line)
print()
print("ratio: this command's wall time over the reference in the same run; ! = target missed;")
print("targets: docs/DESIGN.md, Scale (import, nightly, report cold, archive, verify, RSS ≤ 200 MB, growth ≤ "
      f"{growth_target:.1f}× = 9/8 of the N ratio for import, stats, report, archive, verify);")
print("import (unchanged) ≤ 1.5× find -ls (its floor: it lists the inbox); report warm ≤ 5 % of the cold report.")
print("archive = build + fsync + its own verification. nightly runs after the warm report (thumbnails cached).")
print()
print("CPU s (user + sys):")
for key, label, *_ in ROWS:
    print(f"  {label:24}" + "".join(f"{res[key][2]:10.2f}" for _, res in data))
print()
if misses:
    print("targets missed:")
    for m in misses:
        print("  " + m)
else:
    print("every target met")
PY
