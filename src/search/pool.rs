//! The search pool: searches run on the blocking threads, at most one per
//! core at a time, so that a burst of searches waits here rather than
//! holding up the workers that answer content. A few more may wait their
//! turn; past that, a search is refused at once (the route answers 503 with
//! `Retry-After`), rather than queued without bound.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::Semaphore;

/// Searches that may wait for a turn, per core.
const WAITING_PER_CORE: usize = 128;

/// Runs searches, a bounded number at a time.
pub struct SearchPool {
    running: Arc<Semaphore>,
    /// Searches running or waiting.
    admitted: AtomicUsize,
    max_admitted: usize,
}

/// The pool is full: the search was not run.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("search is busy: {0} searches are running or waiting")]
pub struct SearchBusy(pub usize);

impl SearchPool {
    /// A pool running up to `cores` searches at once, with 128 per core waiting.
    pub fn new(cores: usize) -> Self {
        let cores = cores.max(1);
        Self {
            running: Arc::new(Semaphore::new(cores)),
            admitted: AtomicUsize::new(0),
            max_admitted: cores * (1 + WAITING_PER_CORE),
        }
    }

    /// A pool sized to this machine's cores.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `search` on a blocking thread once a core is free; refuses at
    /// once when the pool is full.
    pub async fn run<T: Send + 'static>(
        &self,
        search: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SearchBusy> {
        let admitted = self.admitted.fetch_add(1, Ordering::AcqRel);
        let _admission = Admission(&self.admitted);
        if admitted >= self.max_admitted {
            return Err(SearchBusy(admitted));
        }
        let permit = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| SearchBusy(admitted))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            search()
        })
        .await
        .map_err(|_| SearchBusy(admitted))
    }
}

/// Leaves the count of admitted searches when the search ends, however.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_pool_refuses_at_once_and_takes_searches_again_when_they_end() {
        let pool = Arc::new(SearchPool::new(1));
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
        assert!(pool.run(|| ()).await.is_err(), "one more is refused");
        for _ in 0..full {
            release.send(()).unwrap();
        }
        for search in held {
            assert!(search.await.unwrap().is_ok());
        }
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }
}
