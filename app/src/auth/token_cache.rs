//! [`VerifiedTokenCache`]: tokens that already passed every check, so a client
//! calling again with the same token skips the signature work.
//!
//! Keyed by the SHA-256 of the whole token (the token itself is never stored);
//! an entry is dropped at the token's `exp`. Only successes are cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::Claims;

type TokenHash = [u8; 32];

pub struct VerifiedTokenCache {
    capacity: usize,
    entries: Mutex<HashMap<TokenHash, Arc<Claims>>>,
}

impl VerifiedTokenCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn hash(token: &str) -> TokenHash {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of a cached token still valid at `now` (expiry tolerance included).
    pub fn get(&self, hash: &TokenHash, now: u64, leeway: u64) -> Option<Arc<Claims>> {
        let mut entries = self.lock();
        let claims = entries.get(hash)?;
        if claims.exp.saturating_add(leeway) < now {
            entries.remove(hash);
            return None;
        }
        Some(claims.clone())
    }

    /// Remembers a verified token. When full, expired entries go first, then arbitrary
    /// ones: the cache stays bounded, and a miss only costs one verification.
    pub fn insert(&self, hash: TokenHash, claims: Arc<Claims>, now: u64) {
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&hash) {
            entries.retain(|_, cached| cached.exp >= now);
            while entries.len() >= self.capacity {
                let Some(victim) = entries.keys().next().copied() else {
                    break;
                };
                entries.remove(&victim);
            }
        }
        if self.capacity > 0 {
            entries.insert(hash, claims);
        }
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenHash, Arc<Claims>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn claims(exp: u64) -> Arc<Claims> {
        Arc::new(Claims {
            sub: "user".into(),
            scopes: vec![],
            permissions: vec![],
            exp,
            raw: Map::new(),
        })
    }

    #[test]
    fn entries_expire_at_exp_plus_leeway() {
        let cache = VerifiedTokenCache::new(10);
        let hash = VerifiedTokenCache::hash("a.b.c");
        cache.insert(hash, claims(100), 50);
        assert!(cache.get(&hash, 100, 5).is_some());
        assert!(cache.get(&hash, 105, 5).is_some());
        assert!(cache.get(&hash, 106, 5).is_none());
        assert!(cache.is_empty(), "an expired entry is dropped when seen");
    }

    #[test]
    fn stays_bounded_and_evicts_expired_entries_first() {
        let cache = VerifiedTokenCache::new(3);
        let live = VerifiedTokenCache::hash("live");
        cache.insert(VerifiedTokenCache::hash("old-1"), claims(10), 0);
        cache.insert(VerifiedTokenCache::hash("old-2"), claims(10), 0);
        cache.insert(live, claims(1_000), 0);
        for i in 0..10 {
            cache.insert(
                VerifiedTokenCache::hash(&format!("new-{i}")),
                claims(1_000),
                500,
            );
            assert!(cache.len() <= 3);
        }
        let fresh = VerifiedTokenCache::new(3);
        fresh.insert(VerifiedTokenCache::hash("old"), claims(10), 0);
        fresh.insert(live, claims(1_000), 0);
        fresh.insert(VerifiedTokenCache::hash("x"), claims(1_000), 0);
        fresh.insert(VerifiedTokenCache::hash("y"), claims(1_000), 500);
        assert!(fresh
            .get(&VerifiedTokenCache::hash("old"), 500, 0)
            .is_none());
        assert!(
            fresh.get(&live, 500, 0).is_some(),
            "live entry kept while an expired one could go"
        );
    }
}
