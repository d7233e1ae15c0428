//! [`VerifiedTokenCache`]: tokens that already passed every check, so a client
//! calling again with the same token skips the signature work.
//!
//! Keyed by the token itself, compared whole on every hit, and found through
//! [`TailHash`]: foldhash (fast, seeded per process) of the token's last bytes. It was keyed by the
//! token's SHA-256: hashing a 700-byte token that way took as long as the rest
//! of the cached check, a quarter of the extra cost of a protected request (README
//! "Benchmarks"); an equality check on the whole token needs no collision
//! resistance from the hash. Only tokens that passed every check get in, so a
//! client cannot fill the map with keys of its choosing. Each
//! entry remembers the exact key that verified it, and counts only while that key is
//! still the one the issuer publishes under its `kid`: a key removed or replaced
//! (even under the same `kid`) invalidates its entries, and an entry inserted by a
//! verification that raced a key refresh is never served, nor one past its `exp`
//! (the entry is dropped when seen). Bounded in bytes, with O(1) eviction
//! (quick_cache's S3-FIFO), rather than a hand-rolled map and mutex: a lookup
//! there is a read lock and a probe, where moka (used before) also queued every
//! read for its policy and kept a timer per entry, about 15 % of the extra cost
//! of a protected request. Only successes are cached.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::Weighter;

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

/// What an entry is counted as, in bytes: the token, its decoded claims (about
/// as large) and the entry's own bookkeeping.
#[derive(Clone, Copy)]
struct TokenWeight;

impl Weighter<Box<[u8]>, Arc<CachedToken>> for TokenWeight {
    fn weight(&self, token: &Box<[u8]>, _: &Arc<CachedToken>) -> u64 {
        (token.len() as u64).saturating_mul(2).saturating_add(256)
    }
}

/// Entries a cache of `max_bytes` holds with tokens of a typical 1 KB.
fn estimated_entries(max_bytes: u64) -> usize {
    usize::try_from(max_bytes / 2_304)
        .unwrap_or(usize::MAX)
        .max(16)
}

/// How the cache finds a token's bucket: foldhash (seeded per process) of its
/// length and its last 32 bytes, which are signature bytes in any JWS, and so
/// differ between any two tokens the issuer signed. Hashing the whole token cost
/// more than the rest of the lookup. Hand-written (a few lines over foldhash)
/// because no hasher crate hashes a suffix: the hash only picks the bucket, the
/// whole token is compared, so tokens sharing a tail (forged ones: only verified
/// tokens are ever inserted) cost a comparison, never a wrong answer.
#[derive(Clone, Default)]
pub struct TailHash(foldhash::fast::RandomState);

/// The [`Hasher`] of [`TailHash`].
pub struct TailHasher(foldhash::fast::FoldHasher<'static>);

/// Bytes of a token that [`TailHash`] hashes.
const HASHED_TAIL: usize = 32;

impl BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0
            .write(&bytes[bytes.len().saturating_sub(HASHED_TAIL)..]);
    }

    fn write_usize(&mut self, length: usize) {
        self.0.write_usize(length);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Tokens verified before, each until its `exp`: a repeated token skips the
/// signature check, as long as the key that verified it is still published.
pub struct VerifiedTokenCache {
    entries: Cache<Box<[u8]>, Arc<CachedToken>, TokenWeight, TailHash>,
    leeway: u64,
}

impl VerifiedTokenCache {
    /// At most about `max_bytes` of tokens and claims, each kept until `exp` +
    /// `leeway` seconds.
    pub fn new(max_bytes: u64, leeway: u64) -> Self {
        Self {
            entries: Cache::with(
                estimated_entries(max_bytes),
                max_bytes,
                TokenWeight,
                TailHash::default(),
                DefaultLifecycle::default(),
            ),
            leeway,
        }
    }

    /// The cached token, if still valid at `now` (expiry tolerance included) and
    /// verified by a key that `is_current(kid, key)` says is the one published
    /// now under its `kid`.
    pub fn get(
        &self,
        token: &[u8],
        now: u64,
        is_current: impl FnOnce(Option<&str>, &Arc<VerifyKey>) -> bool,
    ) -> Option<Arc<Claims>> {
        let entry = self.entries.get(token)?;
        let same_key = is_current(entry.kid.as_deref(), &entry.key);
        if !same_key || entry.claims.exp.saturating_add(self.leeway) < now {
            self.entries.remove(token);
            return None;
        }
        Some(entry.claims.clone())
    }

    /// Remembers a verified `token`.
    pub fn insert(&self, token: &str, verified: CachedToken) {
        self.entries
            .insert(token.as_bytes().into(), Arc::new(verified));
    }

    /// Entries held now.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
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
    use std::time::{SystemTime, UNIX_EPOCH};

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
        assert!(cache
            .get(hash, exp, |_, key| Arc::ptr_eq(key, &k))
            .is_some());
        assert!(cache
            .get(hash, exp + 5, |_, key| Arc::ptr_eq(key, &k))
            .is_some());
        assert!(cache
            .get(hash, exp + 6, |_, key| Arc::ptr_eq(key, &k))
            .is_none());
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
            .get(hash, now(), |kid, key| {
                asked = kid.map(str::to_owned);
                Arc::ptr_eq(key, &old)
            })
            .is_some());
        assert_eq!(asked.as_deref(), Some("k1"), "looked up by the entry's kid");
        // Same kid, another key (replaced at the IdP): the entry no longer counts.
        assert!(cache
            .get(hash, now(), |_, key| Arc::ptr_eq(key, &replacement))
            .is_none());
        assert!(cache
            .get(hash, now(), |_, key| Arc::ptr_eq(key, &old))
            .is_none());
        // Key gone altogether.
        cache.insert(
            "a.b.c",
            CachedToken {
                claims: claims(now() + 600),
                key: old.clone(),
                kid: Some("k1".into()),
            },
        );
        assert!(cache.get(hash, now(), |_, _| false).is_none());
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
            .get(b"header.payload.signature", now(), |_, key| Arc::ptr_eq(
                key, &k
            ))
            .is_some());
        for other in [
            "header.payload.signaturf",
            "header.payload.signature ",
            "header.payload",
            "",
        ] {
            assert!(
                cache
                    .get(other.as_bytes(), now(), |_, key| Arc::ptr_eq(key, &k))
                    .is_none(),
                "{other:?}"
            );
        }
    }
}
