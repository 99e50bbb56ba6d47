//! Process set-up shared by both binaries: malloc arenas and the
//! allocator.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// The process's allocator: glibc's malloc until [`use_service_allocator`],
/// mimalloc after it.
///
/// Why two: the scoring service allocates and frees small buffers on every
/// request across its worker threads (hyper's read buffers, parsed
/// columns), and glibc spent ~13% of its samples in malloc and free, much
/// of it consolidating free lists whenever a read buffer was taken; with
/// mimalloc the service answers markedly more requests a second, while the
/// batch jobs go the other way (slower, more memory): docs/benchmarks.md, "Design measurements". So the batch
/// jobs stay on glibc (with [`init`]'s arena cap) and `serve` switches
/// before it starts any thread.
///
/// A block is freed by the allocator that made it: mimalloc answers
/// whether a pointer lies in its heap (a page-map lookup), and nothing is
/// asked of it before the switch, so glibc's blocks — everything allocated
/// before, such as the parsed arguments — keep going back to glibc.
pub struct Allocator;

static SERVICE: AtomicBool = AtomicBool::new(false);

/// Send new allocations to mimalloc from now on. Call before starting any
/// thread; blocks already allocated go on being freed by glibc.
pub fn use_service_allocator() {
    // SAFETY: mimalloc's own allocation API; the block is freed at once.
    // The first call initialises its heap and page map before any
    // `mi_is_in_heap_region` asks about a pointer.
    unsafe { mi::mi_free(mi::mi_malloc(8)) };
    SERVICE.store(true, Ordering::Release);
}

fn mimalloc_owns(ptr: *mut u8) -> bool {
    // SAFETY: a lookup in mimalloc's page map, initialised by
    // `use_service_allocator` before SERVICE was set.
    SERVICE.load(Ordering::Acquire) && unsafe { mi::mi_is_in_heap_region(ptr as *const c_void) }
}

// SAFETY: each block goes back to the allocator that made it (above); both
// honour the layout's size and alignment.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match SERVICE.load(Ordering::Relaxed) {
            true => unsafe { mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8 },
            false => unsafe { System.alloc(layout) },
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match SERVICE.load(Ordering::Relaxed) {
            true => unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 },
            false => unsafe { System.alloc_zeroed(layout) },
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match mimalloc_owns(ptr) {
            true => unsafe { mi::mi_free(ptr as *mut c_void) },
            false => unsafe { System.dealloc(ptr, layout) },
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match mimalloc_owns(ptr) {
            true => unsafe {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            },
            false => unsafe { System.realloc(ptr, layout, new_size) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks made before the switch are freed and grown by glibc, those
    /// made after by mimalloc, and both keep their contents.
    #[test]
    fn each_block_goes_back_to_its_allocator() {
        let a = Allocator;
        let layout = Layout::from_size_align(100, 16).unwrap();
        // SAFETY: blocks of `layout` used within their size and freed once.
        unsafe {
            let before = a.alloc(layout);
            before.write_bytes(7, 100);
            assert!(!mimalloc_owns(before));
            use_service_allocator();
            assert!(!mimalloc_owns(before), "a glibc block is not mimalloc's");
            let after = a.alloc(layout);
            assert!(mimalloc_owns(after));
            assert_eq!(after as usize % 16, 0);
            let grown = a.realloc(before, layout, 5000);
            assert!(!mimalloc_owns(grown));
            assert_eq!(*grown.add(99), 7);
            a.dealloc(grown, Layout::from_size_align(5000, 16).unwrap());
            a.dealloc(after, layout);
        }
    }
}
