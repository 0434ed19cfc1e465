//! The content being served, replaced whole on reload.
//!
//! A reload builds a complete new [`Store`] beside the one serving, and only
//! a store that loaded without a problem is swapped in, in one atomic step:
//! a request holds the store it started with to its end, so it sees the old
//! content or the new, never a mix, and a bad edit changes nothing served.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use arc_swap::{ArcSwap, Guard};

use super::Store;
use crate::content::{ContentError, ContentSource};

/// The live content and where it is reloaded from.
#[derive(Debug)]
pub struct LiveContent {
    current: ArcSwap<Store>,
    source: ContentSource,
    /// Held for a whole reload: two reloads at once (SIGHUP during a watch
    /// event) could otherwise finish out of order and swap older files in last.
    reloading: Mutex<()>,
    /// Counts the swaps: caches of what was made from the content key their
    /// entries by it (see [`Self::generation`]).
    generation: AtomicU64,
}

impl LiveContent {
    pub fn new(store: Store, source: ContentSource) -> Self {
        Self {
            current: ArcSwap::from_pointee(store),
            source,
            reloading: Mutex::new(()),
            generation: AtomicU64::new(0),
        }
    }

    /// The store to answer one request from; hold it for the whole request.
    pub fn current(&self) -> Guard<Arc<Store>> {
        self.current.load()
    }

    /// The store being served, to hand to another thread (a search).
    pub fn snapshot(&self) -> Arc<Store> {
        self.current.load_full()
    }

    /// How many times the content has been swapped. Read it before
    /// [`Self::current`]: what is made from that store is then from this
    /// generation's content or a newer one.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Where the content comes from.
    pub fn source(&self) -> &ContentSource {
        &self.source
    }

    /// Loads the source anew and, if it is valid, serves it from now on.
    /// Blocking: it reads and prepares every file, and builds the search
    /// index before the swap, so search keeps answering through a reload.
    pub fn reload(&self) -> Result<Arc<Store>, ContentError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let store = Arc::new(Store::load(&self.source)?);
        Ok(self.swap(store))
    }

    /// Serves the same content with its review statuses as of `today`, if
    /// any has moved on since the store served was made; returns the new
    /// store then.
    pub fn restamp(&self, today: crate::content::Date) -> Option<Arc<Store>> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let store = self.current.load().restamped(today)?;
        Some(self.swap(Arc::new(store)))
    }

    fn swap(&self, store: Arc<Store>) -> Arc<Store> {
        store.index_for_search();
        self.current.store(Arc::clone(&store));
        // After the swap: a request that reads the new generation is sure to
        // load the new store, so what it makes is never filed under content
        // it did not see.
        self.generation.fetch_add(1, Ordering::SeqCst);
        store
    }
}

impl crate::http::response_cache::Generation for LiveContent {
    fn generation(&self) -> u64 {
        LiveContent::generation(self)
    }
}
