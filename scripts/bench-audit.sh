#!/usr/bin/env bash
# Store audit benchmark, run by hand on a quiet machine:
#   scripts/bench-audit.sh [MEGABYTES=1024] [WORKDIR=/tmp/dangan-bench-audit]
# Generates phone-sized EXIF-dated JPEGs (scripts/make-bench-photos.py), imports them, then
# prints CPU seconds (user+sys) and wall seconds of: `verify --store` against `sha256sum` and
# `openssl dgst -sha256` over the same objects; an unchanged `nightly` with the default audit
# share (1/30) and with the whole store audited (DANGAN_AUDIT_NIGHTS=1); `import --dry-run` of
# the photos as one zip; and peak RSS. Page cache: dropped before each run, with a wait of
# SETTLE seconds (scripts/cold-cache.sh), where that is allowed; else warm.
set -euo pipefail
MB=${1:-1024}
WORK=${2:-/tmp/dangan-bench-audit}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="${DANGAN_BIN:-$ROOT/target/release/dangan}"
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release -q)

mkdir -p "$WORK"
INBOX="$WORK/inbox"
ARCHIVE="$WORK/archive"
[ -d "$INBOX" ] || python3 "$ROOT/scripts/make-bench-photos.py" "$INBOX" "$MB"
rm -rf "$ARCHIVE"
"$BIN" --inbox "$INBOX" --archive "$ARCHIVE" -q import || true

# shellcheck source=cold-cache.sh
. "$ROOT/scripts/cold-cache.sh"
# measure LABEL CMD…: CPU seconds, wall seconds and peak RSS of one run
measure() {
    local label=$1; shift
    cold
    /usr/bin/time -f "%U %S %e %M" -o "$WORK/time" "$@" >/dev/null 2>&1 || true
    read -r u s e m < "$WORK/time"
    printf '%-44s cpu %6.2f s  wall %6.2f s  rss %6d KB\n' "$label" "$(echo "$u + $s" | bc -l)" "$e" "$m"
}
N=$(find "$ARCHIVE/objects" -mindepth 2 -type f -not -path "$ARCHIVE/objects/tmp/*" | wc -l)
echo "objects: $N, $(du -sh "$ARCHIVE/objects" | cut -f1)"
measure "verify --store" "$BIN" --inbox "$INBOX" --archive "$ARCHIVE" verify --store
measure "sha256sum (objects)" sh -c "find '$ARCHIVE/objects' -mindepth 2 -type f -not -path '$ARCHIVE/objects/tmp/*' -print0 | xargs -0 sha256sum"
measure "openssl dgst -sha256 (objects)" sh -c "find '$ARCHIVE/objects' -mindepth 2 -type f -not -path '$ARCHIVE/objects/tmp/*' -print0 | xargs -0 openssl dgst -sha256"
measure "nightly, unchanged, audit 1/30" "$BIN" --inbox "$INBOX" --archive "$ARCHIVE" nightly
measure "nightly, unchanged, audit all" env DANGAN_AUDIT_NIGHTS=1 "$BIN" --inbox "$INBOX" --archive "$ARCHIVE" nightly
ZIPBOX="$WORK/zipbox/教务科研处/启动仪式"
if [ ! -f "$ZIPBOX/照片.zip" ]; then
    mkdir -p "$ZIPBOX"
    (cd "$INBOX" && find . -name '*.jpg' | head -n 1000 | zip -q -0 -@ "$ZIPBOX/照片.zip")
fi
measure "import --dry-run, the photos as one stored zip" "$BIN" --inbox "$WORK/zipbox" --archive "$WORK/none" import --dry-run
measure "unzip -l (the same zip)" unzip -l "$ZIPBOX/照片.zip"
