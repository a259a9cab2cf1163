#!/usr/bin/env bash
# Judging at every run, by hand: stats, check, list, status and a warm report on a catalog of
# N files (made by scripts/bench-scale.sh N, default 40000), one binary against another on the
# same catalog in the same run — e.g. the last schema-1 build against this one:
#   OLD=/path/to/old/dangan scripts/bench-judgements.sh [N]
# Each command runs three times; the best CPU time (user + sys) and wall time are printed, with
# peak RSS. The old binary reads a copy of the catalog as it is; the new one a copy it migrates.
set -euo pipefail
N=${1:-40000}
WORK=${WORKDIR:-/tmp/dangan-scale}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NEW=${NEW:-$ROOT/target/release/dangan}
OLD=${OLD:?the binary to compare against}
RUN="$WORK/run-$N/archive"
CFG="$WORK/config/dangan.toml"
[ -f "$RUN/catalog.sqlite" ] || { echo "no catalog at $RUN: run scripts/bench-scale.sh $N first"; exit 1; }
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null 2>&1
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767139200}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for who in old new; do
    mkdir -p "$TMP/$who/archive"
    cp "$RUN/catalog.sqlite" "$TMP/$who/archive/"
    ln -s "$RUN/thumbs" "$TMP/$who/archive/thumbs"
    ln -s "$RUN/objects" "$TMP/$who/archive/objects"
done
(cd "$TMP/new" && "$NEW" --config "$CFG" --archive archive status >/dev/null)   # migrate once
printf '%s files, %s cores, load %s\n' "$N" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %-4s %8s %8s %9s\n' command bin "cpu s" "wall s" "RSS MB"
for cmd in "stats" "check" "list --json" "status" "report"; do
    for who in old new; do
        bin=$OLD; [ "$who" = new ] && bin=$NEW
        best_cpu=999; best_wall=999; rss=0
        for _ in 1 2 3; do
            # shellcheck disable=SC2086
            read -r wall cpu kb < <(cd "$TMP/$who" && /usr/bin/time -f "%e %U %S %M" "$bin" --config "$CFG" --archive archive $cmd 2>&1 >/dev/null | tail -1 | awk '{print $1, $2+$3, $4}')
            best_cpu=$(echo "if ($cpu < $best_cpu) $cpu else $best_cpu" | bc -l)
            best_wall=$(echo "if ($wall < $best_wall) $wall else $best_wall" | bc -l)
            rss=$kb
        done
        printf '%-12s %-4s %8.2f %8.2f %9d\n' "$cmd" "$who" "$best_cpu" "$best_wall" $((rss / 1024))
    done
done
