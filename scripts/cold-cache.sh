# Sourced by the benchmarks: `cold` drops the page cache before a timed command (sets CACHE to
# cold, or to warm where dropping it is not allowed).
# On a virtual machine with free page reporting (virtio_balloon) the freed page cache goes back
# to the host about 2 s later, and every fresh page then costs a fault of the host's: without a
# wait a command found that memory given back or not depending on what ran just before it (2.3 GB
# read right after a drop: 0.9 s; 4 s later: 2.3 s). SETTLE seconds (default 4) are waited after
# each drop, so that every command starts from the same state.
cold() {
    sync
    if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then
        CACHE=cold
        sleep "${SETTLE:-4}"
    else
        CACHE=warm
    fi
}
