//! [`VerifiedTokenCache`]: tokens that already passed every check, so a client
//! calling again with the same token skips the signature work.
//!
//! Keyed by the SHA-256 of the whole token (the token itself is never stored). Each
//! entry remembers the exact key that verified it, and counts only while that key is
//! still the one the issuer publishes under its `kid`: a key removed or replaced
//! (even under the same `kid`) invalidates its entries, and an entry inserted by a
//! verification that raced a key refresh is never served. Entries go at the
//! token's `exp`. Bounded, with O(1) eviction (moka's TinyLFU), rather than a
//! hand-rolled map and mutex. Only successes are cached.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moka::sync::Cache;

use super::keys::VerifyKey;
use super::Claims;

/// SHA-256 of a token: the cache key.
pub type TokenHash = [u8; 32];

/// A verified token: its claims and the key that verified it.
pub struct CachedToken {
    /// Its claims.
    pub claims: Arc<Claims>,
    /// The key that verified it (the entry counts only while it is still published).
    pub key: Arc<VerifyKey>,
    /// That key's `kid`.
    pub kid: Option<String>,
}

/// Each entry lives until its token's `exp` (plus leeway).
struct UntilExpiry {
    leeway: u64,
}

impl moka::Expiry<TokenHash, Arc<CachedToken>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &TokenHash,
        value: &Arc<CachedToken>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Some(Duration::from_secs(
            value
                .claims
                .exp
                .saturating_add(self.leeway)
                .saturating_sub(now),
        ))
    }
}

/// Tokens verified before, by hash, each until its `exp`: a repeated token skips
/// the signature check, as long as the key that verified it is still published.
pub struct VerifiedTokenCache {
    entries: Cache<TokenHash, Arc<CachedToken>>,
    leeway: u64,
}

impl VerifiedTokenCache {
    /// At most `capacity` tokens, each kept until `exp` + `leeway` seconds.
    pub fn new(capacity: u64, leeway: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilExpiry { leeway })
                .build(),
            leeway,
        }
    }

    /// The cache key of `token`.
    pub fn hash(token: &str) -> TokenHash {
        crate::hash::sha256(&[token.as_bytes()])
    }

    /// The cached token, if still valid at `now` (expiry tolerance included) and
    /// verified by `current_key(kid)`, the key published now under its `kid`.
    pub fn get(
        &self,
        hash: &TokenHash,
        now: u64,
        current_key: impl FnOnce(Option<&str>) -> Option<Arc<VerifyKey>>,
    ) -> Option<Arc<Claims>> {
        let entry = self.entries.get(hash)?;
        let same_key =
            current_key(entry.kid.as_deref()).is_some_and(|key| Arc::ptr_eq(&key, &entry.key));
        if !same_key || entry.claims.exp.saturating_add(self.leeway) < now {
            self.entries.invalidate(hash);
            return None;
        }
        Some(entry.claims.clone())
    }

    /// Remembers a verified token.
    pub fn insert(&self, hash: TokenHash, token: CachedToken) {
        self.entries.insert(hash, Arc::new(token));
    }

    /// Entries held now (after pending evictions are applied).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn claims(exp: u64) -> Arc<Claims> {
        Arc::new(Claims {
            sub: "user".into(),
            scopes: vec![],
            permissions: vec![],
            exp,
            raw: Map::new(),
        })
    }

    fn key() -> Arc<VerifyKey> {
        // Any well-formed public key will do: entries compare keys by identity.
        let jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        });
        Arc::new(VerifyKey::from_jwk(&serde_json::from_value(jwk).unwrap()).unwrap())
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn entries_expire_at_exp_plus_leeway() {
        let cache = VerifiedTokenCache::new(10, 5);
        let hash = VerifiedTokenCache::hash("a.b.c");
        let k = key();
        let exp = now() + 100;
        cache.insert(
            hash,
            CachedToken {
                claims: claims(exp),
                key: k.clone(),
                kid: None,
            },
        );
        assert!(cache.get(&hash, exp, |_| Some(k.clone())).is_some());
        assert!(cache.get(&hash, exp + 5, |_| Some(k.clone())).is_some());
        assert!(cache.get(&hash, exp + 6, |_| Some(k.clone())).is_none());
        assert!(cache.is_empty(), "an expired entry is dropped when seen");
    }

    #[test]
    fn entries_count_only_while_their_key_is_current() {
        let cache = VerifiedTokenCache::new(10, 5);
        let hash = VerifiedTokenCache::hash("a.b.c");
        let (old, replacement) = (key(), key());
        cache.insert(
            hash,
            CachedToken {
                claims: claims(now() + 600),
                key: old.clone(),
                kid: Some("k1".into()),
            },
        );
        let mut asked = None;
        assert!(cache
            .get(&hash, now(), |kid| {
                asked = kid.map(str::to_owned);
                Some(old.clone())
            })
            .is_some());
        assert_eq!(asked.as_deref(), Some("k1"), "looked up by the entry's kid");
        // Same kid, another key (replaced at the IdP): the entry no longer counts.
        assert!(cache
            .get(&hash, now(), |_| Some(replacement.clone()))
            .is_none());
        assert!(cache.get(&hash, now(), |_| Some(old.clone())).is_none());
        // Key gone altogether.
        cache.insert(
            hash,
            CachedToken {
                claims: claims(now() + 600),
                key: old.clone(),
                kid: Some("k1".into()),
            },
        );
        assert!(cache.get(&hash, now(), |_| None).is_none());
    }

    #[test]
    fn stays_bounded() {
        let cache = VerifiedTokenCache::new(100, 5);
        let k = key();
        for i in 0..1_000 {
            cache.insert(
                VerifiedTokenCache::hash(&format!("token-{i}")),
                CachedToken {
                    claims: claims(now() + 600),
                    key: k.clone(),
                    kid: None,
                },
            );
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
    }
}
