//! Process set-up shared by both binaries.

/// Cap glibc's malloc arenas at two. By default glibc gives every thread
/// that allocates its own arena; with rayon's workers building trees and
/// parsing chunks, memory freed in one arena cannot serve another, and the
/// training benchmark on 1M rows peaked ~200 MiB higher (1357 vs 1157 MiB)
/// for no gain in speed. Called first thing in `main`, before any thread,
/// by the batch jobs; not by the scoring service (see churn-score.rs).
pub fn init() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
