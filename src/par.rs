//! Independent work on every core, its results handed on in input order, with a bounded number
//! of results waiting: the one way sealstrap runs work in parallel (`seal --all-envs` planning
//! its environments, `reseal`, `verify`, `key usage`, `scan`'s files and git blobs, the
//! journal's syncs).
//!
//! [`for_each_ordered`] runs `work` for each item on `threads` scoped threads (std only, no
//! thread pool that outlives the call) and passes the results to `sink` on the calling thread in
//! the order of the items, so whatever `sink` prints or writes (the transaction's staged files,
//! the report lines) is the same bytes in the same order as a run on one thread. A worker takes
//! item `i` only while `i` is less than the number of results already passed on plus the window
//! (twice the threads), so at most that many results are held at once however long the list:
//! memory follows the work in flight, not the number of files.
//!
//! No I/O of its own; `work` and `sink` do what the caller gives them.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// How many results may be finished or in progress beyond the last one passed on, per thread.
const WINDOW_PER_THREAD: usize = 2;

/// The shared state: the next item to start, how many results were passed on, the finished
/// results not passed on yet, and whether to stop (the sink failed, or a thread panicked).
struct State<R> {
    next: usize,
    emitted: usize,
    done: BTreeMap<usize, R>,
    stop: bool,
    panicked: bool,
}

struct Shared<R> {
    state: Mutex<State<R>>,
    changed: Condvar,
}

impl<R> Shared<R> {
    /// The state, also after a panic on another thread (whose result is then simply missing).
    fn lock(&self) -> MutexGuard<'_, State<R>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State<R>>) -> MutexGuard<'a, State<R>> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }
}

/// Stops the workers when dropped: at the end of the calling thread's loop however it ends
/// (also by a panic in `sink`), so no worker waits for window space forever.
struct StopOnDrop<'a, R>(&'a Shared<R>);

impl<R> Drop for StopOnDrop<'_, R> {
    fn drop(&mut self) {
        self.0.lock().stop = true;
        self.0.changed.notify_all();
    }
}

/// Marks the run as failed if a worker unwinds, so the calling thread stops waiting for a result
/// that will never come; the scope then re-raises the worker's panic.
struct PanicFlag<'a, R>(&'a Shared<R>);

impl<R> Drop for PanicFlag<'_, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut st = self.0.lock();
            st.panicked = true;
            st.stop = true;
            drop(st);
            self.0.changed.notify_all();
        }
    }
}

/// Runs `work(i, &items[i])` for every item on up to `threads` threads and calls
/// `sink(i, result)` on the calling thread for `i = 0, 1, 2, ...` in order. With one thread (or
/// one item) everything runs on the calling thread, exactly as a plain loop.
///
/// The first error `sink` returns stops the run: no item is started after it, the items in
/// progress finish and are dropped, and the error is returned. A panic in `work` or `sink` is
/// raised again on the calling thread once every worker has stopped.
pub fn for_each_ordered<T, R, E>(
    items: &[T],
    threads: usize,
    work: impl Fn(usize, &T) -> R + Sync,
    mut sink: impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
{
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        for (i, item) in items.iter().enumerate() {
            sink(i, work(i, item))?;
        }
        return Ok(());
    }
    let window = threads * WINDOW_PER_THREAD;
    let shared = Shared {
        state: Mutex::new(State {
            next: 0,
            emitted: 0,
            done: BTreeMap::new(),
            stop: false,
            panicked: false,
        }),
        changed: Condvar::new(),
    };
    let (shared, work) = (&shared, &work);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let _flag = PanicFlag(shared);
                    loop {
                        let i = {
                            let mut st = shared.lock();
                            loop {
                                if st.stop || st.next >= items.len() {
                                    return;
                                }
                                if st.next < st.emitted + window {
                                    break;
                                }
                                st = shared.wait(st);
                            }
                            st.next += 1;
                            st.next - 1
                        };
                        let result = work(i, &items[i]);
                        let mut st = shared.lock();
                        if st.stop {
                            return;
                        }
                        st.done.insert(i, result);
                        drop(st);
                        shared.changed.notify_all();
                    }
                })
            })
            .collect();
        let outcome = {
            let _stop = StopOnDrop(shared);
            pass_on(shared, items.len(), &mut sink)
        };
        // Every worker has stopped (or stops now): raise the first one's panic as it was.
        for w in workers {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
        outcome
    })
}

/// The calling thread's half: waits for result 0, 1, 2, ... and gives each to `sink`.
fn pass_on<R, E>(
    shared: &Shared<R>,
    len: usize,
    sink: &mut impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E> {
    for i in 0..len {
        let result = {
            let mut st = shared.lock();
            loop {
                if let Some(r) = st.done.remove(&i) {
                    st.emitted = i + 1;
                    break Some(r);
                }
                if st.panicked {
                    break None;
                }
                st = shared.wait(st);
            }
        };
        shared.changed.notify_all();
        // A worker panicked: stop here; the caller raises its panic once the workers joined.
        let Some(result) = result else {
            return Ok(());
        };
        sink(i, result)?;
    }
    Ok(())
}

/// The threads to use: every core the process may run on (1 if that cannot be known).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A delay that differs from item to item, so later items often finish first.
    fn jitter(i: usize) {
        std::thread::sleep(Duration::from_micros(((i * 7919) % 13) as u64 * 200));
    }

    #[test]
    fn results_reach_the_sink_in_input_order_on_any_number_of_threads() {
        let items: Vec<usize> = (0..200).collect();
        for threads in [1, 2, 3, 8, 500] {
            let mut seen = Vec::new();
            let r: Result<(), ()> = for_each_ordered(
                &items,
                threads,
                |i, x| {
                    jitter(i);
                    x * 3
                },
                |i, r| {
                    seen.push((i, r));
                    Ok(())
                },
            );
            assert_eq!(r, Ok(()));
            let want: Vec<(usize, usize)> = items.iter().map(|&x| (x, x * 3)).collect();
            assert_eq!(seen, want, "{threads} threads");
        }
    }

    #[test]
    fn more_than_one_thread_does_the_work() {
        let items: Vec<usize> = (0..64).collect();
        let ids = Mutex::new(std::collections::HashSet::new());
        let r: Result<(), ()> = for_each_ordered(
            &items,
            4,
            |i, _| {
                jitter(i);
                ids.lock().unwrap().insert(std::thread::current().id());
            },
            |_, ()| Ok(()),
        );
        assert_eq!(r, Ok(()));
        assert!(ids.lock().unwrap().len() > 1);
        assert!(!ids.lock().unwrap().contains(&std::thread::current().id()));
    }

    #[test]
    fn no_more_results_are_held_than_the_window_however_slow_the_sink() {
        let items: Vec<usize> = (0..300).collect();
        let threads = 3;
        let started = AtomicUsize::new(0);
        let emitted = AtomicUsize::new(0);
        let most_ahead = AtomicUsize::new(0);
        let r: Result<(), ()> = for_each_ordered(
            &items,
            threads,
            |_, _| {
                let s = started.fetch_add(1, Ordering::SeqCst) + 1;
                let ahead = s - emitted.load(Ordering::SeqCst);
                most_ahead.fetch_max(ahead, Ordering::SeqCst);
            },
            |_, ()| {
                // A slow consumer: the workers would run far ahead if nothing held them.
                std::thread::sleep(Duration::from_micros(300));
                emitted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(started.load(Ordering::SeqCst), items.len());
        // The window, plus the one result being passed on while the sink sleeps.
        let ahead = most_ahead.load(Ordering::SeqCst);
        assert!(
            ahead <= threads * WINDOW_PER_THREAD + 1,
            "{ahead} items were started beyond those passed on"
        );
    }

    #[test]
    fn a_sink_error_stops_the_run_and_is_returned() {
        let items: Vec<usize> = (0..1000).collect();
        let worked = AtomicUsize::new(0);
        let mut sunk = Vec::new();
        let r = for_each_ordered(
            &items,
            4,
            |i, _| {
                worked.fetch_add(1, Ordering::SeqCst);
                i
            },
            |i, r| {
                if i == 10 {
                    return Err(format!("stop at {r}"));
                }
                sunk.push(r);
                Ok(())
            },
        );
        assert_eq!(r, Err("stop at 10".to_string()));
        assert_eq!(sunk, (0..10).collect::<Vec<_>>());
        // Nothing starts beyond the window after the failing item.
        assert!(worked.load(Ordering::SeqCst) <= 11 + 4 * WINDOW_PER_THREAD);
    }

    #[test]
    #[should_panic(expected = "item 37")]
    fn a_panic_in_the_work_reaches_the_caller() {
        let items: Vec<usize> = (0..100).collect();
        let _: Result<(), ()> = for_each_ordered(
            &items,
            3,
            |i, _| {
                if i == 37 {
                    panic!("item 37");
                }
            },
            |_, ()| Ok(()),
        );
    }

    #[test]
    fn a_panic_in_the_sink_does_not_leave_workers_waiting() {
        let items: Vec<usize> = (0..100).collect();
        let caught = std::panic::catch_unwind(|| {
            let _: Result<(), ()> = for_each_ordered(
                &items,
                3,
                |_, _| (),
                |i, ()| {
                    assert_ne!(i, 5, "sink fails at 5");
                    Ok(())
                },
            );
        });
        assert!(caught.is_err());
    }

    #[test]
    fn no_items_is_no_calls() {
        let r: Result<(), ()> = for_each_ordered(
            &[] as &[u8],
            4,
            |_, _| unreachable!(),
            |_, ()| unreachable!(),
        );
        assert_eq!(r, Ok(()));
    }
}
