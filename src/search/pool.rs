//! The search pool: searches run on threads of their own, one per core, so
//! that a burst of searches waits here rather than holding up the workers
//! that answer content. A few more may wait their turn; past that, a search
//! is refused at once (the route answers 503 with `Retry-After`), rather
//! than queued without bound. A waiting search whose client has gone is
//! dropped when its turn comes, not run. The threads run at a lower CPU
//! priority than the workers, so content is answered first when both want
//! the core.
//!
//! A fixed set of threads (rayon's, already in the tree through tantivy)
//! rather than tokio's blocking pool: that one starts a new thread whenever
//! none is idle at the instant a search is handed over, and held 20-27
//! threads for a pool of two after a minute of searches.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::oneshot;

/// Searches that may wait for a turn, per core.
const WAITING_PER_CORE: usize = 128;

/// Runs searches, a bounded number at a time.
pub struct SearchPool {
    threads: rayon::ThreadPool,
    /// Searches running or waiting.
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
}

/// Why the pool gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SearchRefused {
    /// The pool is full: the search was not run.
    #[error("search is busy: {0} searches are running or waiting")]
    Busy(usize),
    /// The search panicked (a bug, logged by the pool's panic handler).
    #[error("the search panicked")]
    Panicked,
}

/// The pool's threads could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the search threads: {0}")]
pub struct PoolError(#[from] rayon::ThreadPoolBuildError);

impl SearchPool {
    /// A pool of `cores` threads, with 128 searches per core waiting.
    pub fn new(cores: usize) -> Result<Self, PoolError> {
        let cores = cores.max(1);
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|index| format!("relief-search-{index}"))
            .start_handler(|_| yield_to_content())
            // rayon aborts the process on a panic in a spawned job unless
            // told otherwise; the search's caller gets an error instead.
            .panic_handler(|_| tracing::error!("a search panicked"))
            .build()?;
        Ok(Self {
            threads,
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: cores * (1 + WAITING_PER_CORE),
        })
    }

    /// A pool sized to this machine's cores.
    pub fn for_this_machine() -> Result<Self, PoolError> {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `search` on one of the pool's threads once one is free; refuses
    /// at once when the pool is full.
    pub async fn run<T: Send + 'static>(
        &self,
        search: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SearchRefused> {
        let admitted = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(Arc::clone(&self.admitted));
        if admitted >= self.max_admitted {
            return Err(SearchRefused::Busy(admitted));
        }
        let (answer, answered) = oneshot::channel();
        self.threads.spawn(move || {
            // Counted until the search ends, so the bound holds for what
            // the threads still have to do, whoever still waits for it.
            let _admission = admission;
            if !answer.is_closed() {
                let _ = answer.send(search());
            }
        });
        // The sender is dropped unsent only when the search panicked: this
        // caller is still here to see it, so it was not skipped.
        answered.await.map_err(|_| SearchRefused::Panicked)
    }
}

/// How much lower than the workers' a search thread's CPU priority is (a
/// nice value, added to the process's): a search thread weighs a third of
/// a worker, so it gets a quarter of a core that a worker wants too.
#[cfg(target_os = "linux")]
const NICENESS: i32 = 5;

/// Lowers the calling thread's CPU priority by [`NICENESS`], so that a
/// worker woken to answer a request (or to send a finished search) takes
/// the core from a search at once, rather than when the search's time
/// slice ends: at 64 connections this took the spread of search latencies
/// from 1.5 to 0.9 ms and their p99 down by 1-2 ms (bench/README.md). A
/// search still has the whole core when no worker wants it.
fn yield_to_content() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `nice` only reads its argument, and `errno` is this
        // thread's own. On Linux a nice value is per thread, so only this
        // search thread is lowered. A refusal (a seccomp profile, say)
        // leaves the priority as it was: searches then compete with the
        // workers as equals, as they do on other systems.
        let refused = unsafe {
            *libc::__errno_location() = 0;
            libc::nice(NICENESS) == -1 && *libc::__errno_location() != 0
        };
        if refused {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "cannot lower a search thread's CPU priority"
            );
        }
    }
}

/// Leaves the count of admitted searches when the search ends, however.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_pool_refuses_at_once_and_takes_searches_again_when_they_end() {
        let pool = Arc::new(SearchPool::new(1).unwrap());
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(std::sync::Mutex::new(wait));
        // One running and 128 waiting fill a pool of one core.
        let full = 1 + WAITING_PER_CORE;
        let mut held = Vec::new();
        for _ in 0..full {
            let (pool, wait) = (Arc::clone(&pool), Arc::clone(&wait));
            held.push(tokio::spawn(async move {
                pool.run(move || wait.lock().unwrap().recv().unwrap()).await
            }));
        }
        while pool.admitted.load(Ordering::Acquire) < full {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            pool.run(|| ()).await,
            Err(SearchRefused::Busy(full)),
            "one more is refused"
        );
        for _ in 0..full {
            release.send(()).unwrap();
        }
        for search in held {
            assert!(search.await.unwrap().is_ok());
        }
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn searches_run_at_a_lower_cpu_priority_than_the_caller() {
        // SAFETY: `getpriority` only reads; 0 is the calling thread.
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let caller = nice();
        let pool = SearchPool::new(1).unwrap();
        let search = pool.run(nice).await.unwrap();
        assert_eq!(search, (caller + NICENESS).min(19));
        assert_eq!(nice(), caller, "the caller's own priority is left alone");
    }

    #[tokio::test]
    async fn a_search_that_panics_is_not_taken_for_a_full_pool_and_the_pool_goes_on() {
        let pool = SearchPool::new(1).unwrap();
        let panicked = pool.run(|| -> u8 { panic!("a bug in a search") }).await;
        assert_eq!(panicked, Err(SearchRefused::Panicked));
        assert_eq!(pool.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_waiting_search_whose_caller_has_gone_is_not_run() {
        let pool = Arc::new(SearchPool::new(1).unwrap());
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let running = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.run(move || wait.recv().unwrap()).await })
        };
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gone = {
            let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
            tokio::spawn(async move { pool.run(move || ran.store(true, Ordering::SeqCst)).await })
        };
        while pool.admitted.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        assert!(running.await.unwrap().is_ok());
        // Its turn has come and gone once the count is back to zero.
        while pool.admitted.load(Ordering::Acquire) > 0 {
            tokio::task::yield_now().await;
        }
        assert!(!ran.load(Ordering::SeqCst), "the abandoned search ran");
    }
}
