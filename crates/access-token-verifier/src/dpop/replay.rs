//! [`ReplayStore`]: the proofs seen within the `iat` window, so each proof is
//! accepted once. In this process by default; in Redis when several servers share
//! the load (`REDIS_URL`), so a proof accepted by one replica is refused by the
//! others. Redis also keeps the server nonces' shared secret.
//!
//! In process, the store is two generations of hashes, each generation spanning
//! twice the window (a proof is acceptable for at most that long: `iat` ± the
//! window), so an entry lives at least that long and is dropped with its
//! generation, with no per-entry timers. Written here rather than with moka (used
//! for the token cache): moka's per-entry expiry cost about 6 µs per proof, more
//! than the whole budget of what DPoP may add to a request beyond its signature
//! check; this costs a hash and a set insert. Bounded: a generation that fills
//! up fails closed (a 503) rather than forget proofs that could still be replayed.
//!
//! Generations only move forward: a request stamped just before a rotation that
//! takes the lock just after it (or a clock that steps back) is checked against
//! both generations and recorded in the current one, never clearing them.
//!
//! Each key (`cnf.jkt`) has a quota of proofs per generation (from
//! `DPOP_PROOFS_PER_KEY_PER_MINUTE`), in process and in Redis alike: past it, that
//! client alone is refused ([`ReplayError::OverQuota`], a 429 with `Retry-After`),
//! so one client cannot fill the store and make every DPoP caller get a 503.
//!
//! Redis down (or the in-process store full) means DPoP requests cannot be
//! checked for replay: they fail closed ([`ReplayError::Unavailable`], a 503) and
//! `/readyz` says not ready.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

#[cfg(feature = "redis")]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
#[cfg(feature = "redis")]
use base64::Engine;
#[cfg(feature = "redis")]
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Why a `jti` was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// Seen before within the window.
    Replayed,
    /// The shared store did not answer in time.
    Unavailable,
    /// This key sent more proofs than its quota this generation; retry after
    /// this many seconds (when the generation rotates).
    OverQuota {
        /// Seconds until the key's count starts again.
        retry_after_secs: u32,
    },
}

/// Longest wait for Redis before a request is answered 503.
#[cfg(feature = "redis")]
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the nonce secret lives in Redis (shared by every replica).
#[cfg(feature = "redis")]
const NONCE_SECRET_KEY: &str = "dpop:nonce-secret";

/// Where accepted proofs are remembered.
pub enum ReplayStore {
    /// In this process ([`ReplayStore::memory`]).
    Memory(Generations),
    /// In Redis, shared by replicas ([`ReplayStore::redis`], feature `redis`).
    #[cfg(feature = "redis")]
    Redis {
        /// One auto-reconnecting connection.
        connection: ConnectionManager,
        /// How long a proof is remembered (twice the `iat` window).
        ttl: Duration,
        /// Proofs per key per `ttl`.
        quota: u32,
    },
}

/// Proofs a key may send in `span`, at `per_minute` (at least one).
fn quota_for(per_minute: u32, span: Duration) -> u32 {
    let per_span = u64::from(per_minute) * span.as_secs() / 60;
    u32::try_from(per_span.max(1)).unwrap_or(u32::MAX)
}

/// Seconds until the generation of `now` ends (what a client over quota waits).
fn until_rotation(now: u64, span_secs: u64) -> u32 {
    u32::try_from(span_secs - now % span_secs).unwrap_or(u32::MAX)
}

/// A proof's identity: its key's thumbprint and its `jti` (`jti`s are unique per
/// key), hashed to a fixed length.
fn proof_id(jkt: &str, jti: &str) -> [u8; 32] {
    crate::hash::sha256(&[jkt.as_bytes(), &[0], jti.as_bytes()])
}

/// The in-process store (see the module doc).
pub struct Generations {
    state: Mutex<GenerationState>,
    span_secs: u64,
    capacity: usize,
    quota: u32,
}

#[derive(Default)]
struct GenerationState {
    epoch: u64,
    current: HashSet<[u8; 32]>,
    previous: HashSet<[u8; 32]>,
    /// Proofs each key sent in the current generation.
    per_key: HashMap<Box<str>, u32>,
}

impl Generations {
    fn remember(&self, jkt: &str, id: [u8; 32], now: u64) -> Result<(), ReplayError> {
        let epoch = now / self.span_secs;
        // A poisoned lock only means another request panicked mid-insert; the
        // sets are still sound.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Forward only: an earlier epoch (stamped before the last rotation, or a
        // clock stepping back) is checked and recorded as it stands.
        if epoch > state.epoch {
            state.previous = if epoch == state.epoch + 1 {
                std::mem::take(&mut state.current)
            } else {
                HashSet::new()
            };
            state.current.clear();
            state.per_key.clear();
            state.epoch = epoch;
        }
        if state.previous.contains(&id) || state.current.contains(&id) {
            return Err(ReplayError::Replayed);
        }
        let sent = state.per_key.get(jkt).copied().unwrap_or(0);
        if sent >= self.quota {
            return Err(ReplayError::OverQuota {
                retry_after_secs: until_rotation(
                    now.max(state.epoch * self.span_secs),
                    self.span_secs,
                ),
            });
        }
        if state.current.len() >= self.capacity {
            tracing::warn!("DPoP replay store full: refusing DPoP requests until it rotates");
            return Err(ReplayError::Unavailable);
        }
        state.current.insert(id);
        match state.per_key.get_mut(jkt) {
            Some(count) => *count += 1,
            None => {
                state.per_key.insert(jkt.into(), 1);
            }
        }
        Ok(())
    }
}

impl ReplayStore {
    /// In this process: at most `capacity` proofs per generation (twice the
    /// window), and `per_key_per_minute` from one key.
    pub fn memory(capacity: u64, window: Duration, per_key_per_minute: u32) -> Self {
        let span = (window * 2).max(Duration::from_secs(1));
        Self::Memory(Generations {
            state: Mutex::default(),
            span_secs: span.as_secs(),
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            quota: quota_for(per_key_per_minute, span),
        })
    }

    /// In Redis at `url` (`redis://host:port/db`). Connects lazily and reconnects
    /// on its own, so the server starts (and serves everything but DPoP) while
    /// Redis is down. Only a malformed URL is an error.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str, window: Duration, per_key_per_minute: u32) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|error| error.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| error.to_string())?;
        let ttl = (window * 2).max(Duration::from_secs(1));
        Ok(Self::Redis {
            connection,
            ttl,
            quota: quota_for(per_key_per_minute, ttl),
        })
    }

    /// Whether replicas share it (Redis).
    pub fn is_shared(&self) -> bool {
        !matches!(self, Self::Memory(_))
    }

    /// Records the proof at `now` (seconds since the epoch);
    /// [`ReplayError::Replayed`] if it was seen before.
    pub async fn remember(&self, jkt: &str, jti: &str, now: u64) -> Result<(), ReplayError> {
        let id = proof_id(jkt, jti);
        match self {
            Self::Memory(generations) => generations.remember(jkt, id, now),
            #[cfg(feature = "redis")]
            Self::Redis {
                connection,
                ttl,
                quota,
            } => {
                let ttl = ttl.as_secs();
                let key = format!("dpop:jti:{}", URL_SAFE_NO_PAD.encode(id));
                // The key's count for this generation, shared by every replica.
                let epoch = now / ttl;
                let count_key = format!(
                    "dpop:quota:{}:{epoch}",
                    URL_SAFE_NO_PAD.encode(crate::hash::sha256(&[jkt.as_bytes()]))
                );
                let mut connection = connection.clone();
                // One round trip: SET NX (exactly one replica wins for a given
                // proof), then the key's counter (created with its expiry).
                let mut pipe = redis::pipe();
                pipe.cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(ttl);
                pipe.cmd("SET")
                    .arg(&count_key)
                    .arg(0)
                    .arg("NX")
                    .arg("EX")
                    .arg(ttl)
                    .ignore();
                pipe.cmd("INCR").arg(&count_key);
                let sent = pipe.query_async::<(Option<String>, u64)>(&mut connection);
                match tokio::time::timeout(REDIS_TIMEOUT, sent).await {
                    Ok(Ok((_, count))) if count > u64::from(*quota) => {
                        Err(ReplayError::OverQuota {
                            retry_after_secs: until_rotation(now, ttl),
                        })
                    }
                    Ok(Ok((Some(_), _))) => Ok(()),
                    Ok(Ok((None, _))) => Err(ReplayError::Replayed),
                    Ok(Err(error)) => {
                        // The kind only: a connection error's text can name the URL,
                        // and with it a password.
                        tracing::warn!(kind = ?error.kind(), "DPoP replay store (Redis) failed");
                        Err(ReplayError::Unavailable)
                    }
                    Err(_) => {
                        tracing::warn!("DPoP replay store (Redis) timed out");
                        Err(ReplayError::Unavailable)
                    }
                }
            }
        }
    }

    /// Whether the store answers (always, in memory; a `PING` to Redis).
    pub async fn is_ready(&self) -> bool {
        match self {
            Self::Memory(_) => true,
            #[cfg(feature = "redis")]
            Self::Redis { connection, .. } => {
                let mut connection = connection.clone();
                let ping = redis::cmd("PING");
                let ping = ping.query_async::<String>(&mut connection);
                matches!(tokio::time::timeout(REDIS_TIMEOUT, ping).await, Ok(Ok(_)))
            }
        }
    }

    /// The secret every replica signs nonces with: the first replica to ask puts
    /// `candidate` in Redis (SET NX), and everyone reads back the one stored.
    /// In memory: `candidate` itself.
    pub async fn shared_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, ReplayError> {
        match self {
            Self::Memory(_) => Ok(candidate.to_vec()),
            #[cfg(feature = "redis")]
            Self::Redis { connection, .. } => {
                redis_shared_secret(connection.clone(), candidate).await
            }
        }
    }
}

/// [`ReplayStore::shared_secret`] in Redis.
#[cfg(feature = "redis")]
async fn redis_shared_secret(
    mut connection: ConnectionManager,
    candidate: &[u8],
) -> Result<Vec<u8>, ReplayError> {
    {
        let exchange = async {
            redis::cmd("SET")
                .arg(NONCE_SECRET_KEY)
                .arg(candidate)
                .arg("NX")
                .query_async::<Option<String>>(&mut connection)
                .await?;
            redis::cmd("GET")
                .arg(NONCE_SECRET_KEY)
                .query_async::<Option<Vec<u8>>>(&mut connection)
                .await
        };
        match tokio::time::timeout(REDIS_TIMEOUT, exchange).await {
            Ok(Ok(Some(secret))) if secret.len() >= 32 => Ok(secret),
            Ok(Ok(_)) => {
                tracing::warn!("the DPoP nonce secret in Redis is missing or too short");
                Err(ReplayError::Unavailable)
            }
            Ok(Err(error)) => {
                tracing::warn!(kind = ?error.kind(), "DPoP nonce secret: Redis failed");
                Err(ReplayError::Unavailable)
            }
            Err(_) => Err(ReplayError::Unavailable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[tokio::test]
    async fn a_proof_is_accepted_once_per_key() {
        let store = ReplayStore::memory(100, Duration::from_secs(60), 1_000);
        assert_eq!(store.remember("key-1", "a", NOW).await, Ok(()));
        assert_eq!(store.remember("key-1", "b", NOW).await, Ok(()));
        // The same jti from another key is another proof.
        assert_eq!(store.remember("key-2", "a", NOW).await, Ok(()));
        assert_eq!(
            store.remember("key-1", "a", NOW).await,
            Err(ReplayError::Replayed)
        );
        assert!(store.is_ready().await);
    }

    #[tokio::test]
    async fn proofs_are_remembered_for_at_least_twice_the_window_then_forgotten() {
        let window = Duration::from_secs(60);
        let store = ReplayStore::memory(100, window, 1_000);
        // Seen at every point of a generation (120 s), a proof is refused for the
        // next 120 s at least: as long as its iat could still be accepted.
        let start = NOW / 120 * 120;
        for offset in [0, 60, 119] {
            let jti = format!("seen-at-{offset}");
            let seen = start + offset;
            assert_eq!(store.remember("k", &jti, seen).await, Ok(()));
            for later in [seen + 1, seen + 60, seen + 120] {
                assert_eq!(
                    store.remember("k", &jti, later).await,
                    Err(ReplayError::Replayed),
                    "{jti} at +{}",
                    later - seen
                );
            }
        }
        // Two generations on, the memory is gone (the iat check refuses it by then).
        assert_eq!(store.remember("k", "seen-at-0", start + 240).await, Ok(()));
        // A clock jump forward clears everything rather than keep a stale generation.
        assert_eq!(
            store.remember("k", "seen-at-0", start + 10_000).await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn generations_never_rotate_backwards() {
        let store = ReplayStore::memory(100, Duration::from_secs(60), 1_000);
        let boundary = NOW / 120 * 120 + 120;
        // Seen just before a rotation, and just after it.
        assert_eq!(store.remember("k", "before", boundary - 1).await, Ok(()));
        assert_eq!(store.remember("k", "after", boundary + 1).await, Ok(()));
        // A request stamped before the rotation that takes the lock after it (or a
        // clock stepping back) must not clear what both generations hold.
        assert_eq!(store.remember("k", "late", boundary - 1).await, Ok(()));
        for jti in ["before", "after", "late"] {
            assert_eq!(
                store.remember("k", jti, boundary + 2).await,
                Err(ReplayError::Replayed),
                "{jti}"
            );
            assert_eq!(
                store.remember("k", jti, boundary - 2).await,
                Err(ReplayError::Replayed),
                "{jti} with the clock stepped back"
            );
        }
    }

    #[tokio::test]
    async fn one_key_past_its_quota_is_refused_alone_until_the_generation_rotates() {
        // 30 a minute over a 120 s generation: 60 proofs per key.
        let store = ReplayStore::memory(1_000, Duration::from_secs(60), 30);
        let start = NOW / 120 * 120;
        for i in 0..60 {
            assert_eq!(
                store.remember("greedy", &i.to_string(), start).await,
                Ok(())
            );
        }
        assert_eq!(
            store.remember("greedy", "61", start + 20).await,
            Err(ReplayError::OverQuota {
                retry_after_secs: 100
            })
        );
        // Others are not affected, and a replay is still a replay.
        assert_eq!(store.remember("other", "1", start + 20).await, Ok(()));
        assert_eq!(
            store.remember("greedy", "0", start + 20).await,
            Err(ReplayError::Replayed)
        );
        // The next generation starts a new count.
        assert_eq!(store.remember("greedy", "61", start + 120).await, Ok(()));
    }

    #[tokio::test]
    async fn a_full_store_fails_closed() {
        let store = ReplayStore::memory(2, Duration::from_secs(60), 1_000);
        assert_eq!(store.remember("k", "1", NOW).await, Ok(()));
        assert_eq!(store.remember("k", "2", NOW).await, Ok(()));
        assert_eq!(
            store.remember("k", "3", NOW).await,
            Err(ReplayError::Unavailable)
        );
        // Still refuses the replays it holds.
        assert_eq!(
            store.remember("k", "1", NOW).await,
            Err(ReplayError::Replayed)
        );
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn redis_that_does_not_answer_fails_closed() {
        // Nothing listens on port 1.
        let store =
            ReplayStore::redis("redis://127.0.0.1:1/", Duration::from_secs(60), 600).unwrap();
        assert_eq!(
            store.remember("key", "a", NOW).await,
            Err(ReplayError::Unavailable)
        );
        assert!(!store.is_ready().await);
        assert_eq!(
            store.shared_secret(&[7; 32]).await,
            Err(ReplayError::Unavailable)
        );
        assert!(ReplayStore::redis("not a url", Duration::from_secs(60), 600).is_err());
    }
}
