//! [`VerifiedTokenCache`]: tokens that already passed every check, so a client
//! calling again with the same token skips the signature work.
//!
//! Keyed by the token itself, compared whole on every hit, and found through
//! foldhash (a fast hash with a random per-process seed). It was keyed by the
//! token's SHA-256: hashing a 700-byte token that way took as long as the rest
//! of the cached check, a quarter of the extra cost of a protected request (README
//! "Benchmarks"); an equality check on the whole token needs no collision
//! resistance from the hash. Only tokens that passed every check get in, so a
//! client cannot fill the map with keys of its choosing. Each
//! entry remembers the exact key that verified it, and counts only while that key is
//! still the one the issuer publishes under its `kid`: a key removed or replaced
//! (even under the same `kid`) invalidates its entries, and an entry inserted by a
//! verification that raced a key refresh is never served. Entries go at the
//! token's `exp`. Bounded in bytes, with O(1) eviction (moka's TinyLFU), rather
//! than a hand-rolled map and mutex. Only successes are cached.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use foldhash::fast::RandomState;
use moka::sync::Cache;

use super::keys::VerifyKey;
use super::Claims;

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

impl moka::Expiry<Box<[u8]>, Arc<CachedToken>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &Box<[u8]>,
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

/// Tokens verified before, each until its `exp`: a repeated token skips the
/// signature check, as long as the key that verified it is still published.
pub struct VerifiedTokenCache {
    entries: Cache<Box<[u8]>, Arc<CachedToken>, RandomState>,
    leeway: u64,
}

/// What an entry is counted as, in bytes: the token, its decoded claims (about
/// as large) and the entry's own bookkeeping.
fn weight(token: &[u8]) -> u32 {
    u32::try_from(token.len().saturating_mul(2).saturating_add(256)).unwrap_or(u32::MAX)
}

impl VerifiedTokenCache {
    /// At most about `max_bytes` of tokens and claims, each kept until `exp` +
    /// `leeway` seconds.
    pub fn new(max_bytes: u64, leeway: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|token: &Box<[u8]>, _| weight(token))
                .expire_after(UntilExpiry { leeway })
                .build_with_hasher(RandomState::default()),
            leeway,
        }
    }

    /// The cached token, if still valid at `now` (expiry tolerance included) and
    /// verified by `current_key(kid)`, the key published now under its `kid`.
    pub fn get(
        &self,
        token: &[u8],
        now: u64,
        current_key: impl FnOnce(Option<&str>) -> Option<Arc<VerifyKey>>,
    ) -> Option<Arc<Claims>> {
        let entry = self.entries.get(token)?;
        let same_key =
            current_key(entry.kid.as_deref()).is_some_and(|key| Arc::ptr_eq(&key, &entry.key));
        if !same_key || entry.claims.exp.saturating_add(self.leeway) < now {
            self.entries.invalidate(token);
            return None;
        }
        Some(entry.claims.clone())
    }

    /// Remembers a verified `token`.
    pub fn insert(&self, token: &str, verified: CachedToken) {
        self.entries
            .insert(token.as_bytes().into(), Arc::new(verified));
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
        let cache = VerifiedTokenCache::new(10_000, 5);
        let hash = b"a.b.c".as_slice();
        let k = key();
        let exp = now() + 100;
        cache.insert(
            "a.b.c",
            CachedToken {
                claims: claims(exp),
                key: k.clone(),
                kid: None,
            },
        );
        assert!(cache.get(hash, exp, |_| Some(k.clone())).is_some());
        assert!(cache.get(hash, exp + 5, |_| Some(k.clone())).is_some());
        assert!(cache.get(hash, exp + 6, |_| Some(k.clone())).is_none());
        assert!(cache.is_empty(), "an expired entry is dropped when seen");
    }

    #[test]
    fn entries_count_only_while_their_key_is_current() {
        let cache = VerifiedTokenCache::new(10_000, 5);
        let hash = b"a.b.c".as_slice();
        let (old, replacement) = (key(), key());
        cache.insert(
            "a.b.c",
            CachedToken {
                claims: claims(now() + 600),
                key: old.clone(),
                kid: Some("k1".into()),
            },
        );
        let mut asked = None;
        assert!(cache
            .get(hash, now(), |kid| {
                asked = kid.map(str::to_owned);
                Some(old.clone())
            })
            .is_some());
        assert_eq!(asked.as_deref(), Some("k1"), "looked up by the entry's kid");
        // Same kid, another key (replaced at the IdP): the entry no longer counts.
        assert!(cache
            .get(hash, now(), |_| Some(replacement.clone()))
            .is_none());
        assert!(cache.get(hash, now(), |_| Some(old.clone())).is_none());
        // Key gone altogether.
        cache.insert(
            "a.b.c",
            CachedToken {
                claims: claims(now() + 600),
                key: old.clone(),
                kid: Some("k1".into()),
            },
        );
        assert!(cache.get(hash, now(), |_| None).is_none());
    }

    #[test]
    fn stays_bounded_in_bytes() {
        // 1 KB tokens count 2 304 bytes each: 100 KB hold 44 of them.
        let cache = VerifiedTokenCache::new(100_000, 5);
        let k = key();
        for i in 0..1_000 {
            cache.insert(
                &format!("{i:01024}"),
                CachedToken {
                    claims: claims(now() + 600),
                    key: k.clone(),
                    kid: None,
                },
            );
        }
        assert!(cache.len() <= 44, "{} entries", cache.len());
    }

    #[test]
    fn a_token_is_found_only_by_itself() {
        let cache = VerifiedTokenCache::new(100_000, 5);
        let k = key();
        cache.insert(
            "header.payload.signature",
            CachedToken {
                claims: claims(now() + 600),
                key: k.clone(),
                kid: None,
            },
        );
        assert!(cache
            .get(b"header.payload.signature", now(), |_| Some(k.clone()))
            .is_some());
        for other in [
            "header.payload.signaturf",
            "header.payload.signature ",
            "header.payload",
            "",
        ] {
            assert!(
                cache
                    .get(other.as_bytes(), now(), |_| Some(k.clone()))
                    .is_none(),
                "{other:?}"
            );
        }
    }
}
