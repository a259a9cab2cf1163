//! Thread pools for work that waits on the disk as much as it computes (thumbnails, digests of
//! many small files): two threads a core, so that while one waits for a cold read another
//! computes. Memory is bounded by the work's own budgets, not by the thread count.

use std::sync::OnceLock;

/// Runs `work` (which uses rayon's parallel iterators) on a pool of two threads a core; where
/// no pool can be made (a tight address-space limit), on rayon's global pool.
pub fn on_io_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    on_pool(&POOL, two_a_core(), work)
}

fn two_a_core() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// `work` on the pool in `cell` (of `threads`, made at its first use and kept for the rest of
/// the run: a night used to start and stop a hundred threads), or on rayon's global pool where
/// none can be made.
fn on_pool<R: Send>(
    cell: &'static OnceLock<Option<rayon::ThreadPool>>,
    threads: usize,
    work: impl FnOnce() -> R + Send,
) -> R {
    let pool = cell.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Threads of [`on_read_pool`]: requests the disk has in flight at once.
const READ_THREADS: usize = 16;

/// Runs `work` on a pool of [`READ_THREADS`] threads (or two a core, if more), for work that is
/// mostly waiting for many small cold files or folders (the inbox's files stat'ed, the audit's
/// objects, the originals tree's listings, the bag's thumbnails' sizes): on the machine of the
/// benchmarks, 40 000 cold thumbnails were hashed in 3 s on four threads and in 1 s on sixteen.
/// Where no pool can be made, on rayon's global pool.
pub fn on_read_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    on_pool(&POOL, two_a_core().max(READ_THREADS), work)
}

/// glibc's malloc arenas that dangan's threads share (unless `MALLOC_ARENA_MAX` says otherwise).
const MALLOC_ARENAS: i32 = 2;

/// Makes dangan's threads share [`MALLOC_ARENAS`] malloc arenas instead of glibc's default of up
/// to eight a core: each of the bag's sixteen read-ahead threads otherwise keeps an arena of its
/// own, whose freed buffers no other thread reuses. At 40 000 photos the year-end archive's peak
/// went from 223–225 MB to 193–194 MB with the same time (`scripts/bench-scale.sh`'s inbox, two
/// runs each). Call first thing in `main`, before any thread starts; a no-op off glibc, and where
/// the user set `MALLOC_ARENA_MAX` (glibc reads it itself).
pub fn share_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}
