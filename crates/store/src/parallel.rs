//! Order-keeping parallel map for the CPU-bound half of a batch: decoding
//! and signature checks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Items one thread takes at a time. Small enough that threads finish
/// within a few signature checks of each other; large enough that taking a
/// block costs nothing beside 64 of them.
const BLOCK_ITEMS: usize = 64;

/// Maps `items` with `f` on every core and returns the results in the
/// order of `items`. Below `parallel_min` items, or on one core, it runs on
/// the calling thread.
///
/// Threads take blocks of [`BLOCK_ITEMS`] in turn rather than one equal
/// share each: items differ in cost (an expenditure carries three
/// signatures, an income one), and on a small machine the cores are shared
/// with the threads that read and apply, so equal shares would finish at
/// different times and leave a core idle.
///
/// # Panics
/// If `f` panics: the panic of a worker thread is raised again here.
pub fn parallel_map<T: Send, U: Send>(
    items: Vec<T>,
    parallel_min: usize,
    f: impl Fn(T) -> U + Sync,
) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < parallel_min.max(2) || threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let mut blocks: Vec<Mutex<Option<Vec<T>>>> =
        Vec::with_capacity(items.len().div_ceil(BLOCK_ITEMS));
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        blocks.push(Mutex::new(Some(items.by_ref().take(BLOCK_ITEMS).collect())));
    }
    let next_block = AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<U>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(blocks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next_block.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = blocks.get(i) else {
                            return done;
                        };
                        let block = slot
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .take()
                            .expect("each block is taken once");
                        done.push((i, block.into_iter().map(&f).collect()));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a parallel_map thread panicked"))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, block)| block).collect()
}

#[cfg(test)]
mod tests {
    use super::parallel_map;

    #[test]
    fn keeps_order_and_maps_every_item_once() {
        for len in [0, 1, 2, 63, 64, 65, 1_000, 4_097] {
            let items: Vec<u64> = (0..len).collect();
            let mapped = parallel_map(items, 2, |x| x * 3 + 1);
            assert_eq!(mapped, (0..len).map(|x| x * 3 + 1).collect::<Vec<_>>());
        }
    }
}
