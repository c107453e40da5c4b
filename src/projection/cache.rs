//! The first page of each owner's decisions, kept in memory: the page every
//! team looks at most. The projector drops an owner's page whenever it saves
//! one of the owner's proposals, so a cached page is never older than the
//! read-model tables. Later pages, and larger ones, go to the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::projected::ProjectedProposal;
use crate::domain::proposal::Owner;

/// The largest page (rows fetched, one past `first`) kept in memory.
pub const CACHED_ROWS: u32 = 51;
/// At most this many owners' pages are kept; past that, one is dropped.
const OWNERS: usize = 256;

/// First pages of decisions by owner, with a generation that moves on every
/// invalidation so a page read before a save is never stored after it.
#[derive(Default)]
pub struct PageCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    generation: u64,
    pages: HashMap<Owner, (u32, Arc<Vec<ProjectedProposal>>)>,
}

impl PageCache {
    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current generation, to pass to `insert` after reading a page.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// An owner's first `limit` decision rows, if kept.
    pub fn get(&self, owner: Owner, limit: u32) -> Option<Arc<Vec<ProjectedProposal>>> {
        let state = self.lock();
        let (kept_limit, rows) = state.pages.get(&owner)?;
        // A page read with a smaller limit answers only that limit, unless
        // it held fewer rows than it asked for (then it is the whole list).
        let complete = rows.len() < *kept_limit as usize;
        (limit <= *kept_limit || complete).then(|| rows.clone())
    }

    /// Keeps a page read from the database while the generation was
    /// `generation`; if anything was invalidated since, the page is dropped.
    pub fn insert(
        &self,
        generation: u64,
        owner: Owner,
        limit: u32,
        rows: Arc<Vec<ProjectedProposal>>,
    ) {
        let mut state = self.lock();
        if state.generation != generation {
            return;
        }
        if state.pages.len() >= OWNERS && !state.pages.contains_key(&owner) {
            if let Some(victim) = state.pages.keys().next().copied() {
                state.pages.remove(&victim);
            }
        }
        state.pages.insert(owner, (limit, rows));
    }

    /// Drops the pages of these owners.
    pub fn invalidate(&self, owners: impl IntoIterator<Item = Owner>) {
        let mut state = self.lock();
        state.generation += 1;
        for owner in owners {
            state.pages.remove(&owner);
        }
    }

    /// Drops every page.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.pages.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::proposal::ProposalId;
    use crate::domain::TeamId;

    fn page(n: usize) -> Arc<Vec<ProjectedProposal>> {
        Arc::new(
            (0..n)
                .map(|_| ProjectedProposal::new(ProposalId::random()))
                .collect(),
        )
    }

    #[test]
    fn given_a_kept_page_when_its_owner_is_saved_then_it_is_read_again() {
        let cache = PageCache::default();
        let owner = Owner::Team(TeamId::random());
        cache.insert(cache.generation(), owner, 21, page(21));
        assert_eq!(cache.get(owner, 21).map(|p| p.len()), Some(21));
        assert_eq!(
            cache.get(owner, 11).map(|p| p.len()),
            Some(21),
            "a smaller page is a prefix"
        );
        cache.invalidate([owner]);
        assert!(cache.get(owner, 21).is_none());
    }

    #[test]
    fn given_a_read_before_a_save_when_it_is_kept_after_then_it_is_dropped() {
        let cache = PageCache::default();
        let owner = Owner::Team(TeamId::random());
        let before = cache.generation();
        cache.invalidate([Owner::Team(TeamId::random())]);
        cache.insert(before, owner, 21, page(3));
        assert!(cache.get(owner, 21).is_none(), "a stale read is not kept");
    }

    #[test]
    fn given_a_short_list_then_any_limit_is_answered_and_a_full_page_only_its_own() {
        let cache = PageCache::default();
        let (short, full) = (Owner::Team(TeamId::random()), Owner::Team(TeamId::random()));
        cache.insert(cache.generation(), short, 11, page(4));
        cache.insert(cache.generation(), full, 11, page(11));
        assert!(
            cache.get(short, 21).is_some(),
            "4 of 11 asked: the whole list"
        );
        assert!(cache.get(full, 21).is_none(), "11 of 11: there may be more");
    }
}
