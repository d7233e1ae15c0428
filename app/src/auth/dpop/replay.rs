//! [`ReplayStore`]: the proof `jti`s seen within the `iat` window, so each proof is
//! accepted once. In this process by default (bounded, moka); in Redis when
//! several servers share the load (`REDIS_URL`), so a proof accepted by one replica
//! is refused by the others. Redis also keeps the server nonces' shared secret.
//!
//! Redis down means DPoP requests cannot be checked for replay: they fail closed
//! ([`ReplayError::Unavailable`], a 503) and `/readyz` says not ready.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};

/// Why a `jti` was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// Seen before within the window.
    Replayed,
    /// The shared store did not answer in time.
    Unavailable,
}

/// Longest wait for Redis before a request is answered 503.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the nonce secret lives in Redis (shared by every replica).
const NONCE_SECRET_KEY: &str = "dpop:nonce-secret";

pub enum ReplayStore {
    Memory(moka::sync::Cache<String, ()>),
    Redis {
        connection: ConnectionManager,
        ttl: Duration,
    },
}

/// The key a proof is remembered under: its key's thumbprint and its `jti`
/// (`jti`s are unique per key), hashed to a fixed length.
fn entry_key(jkt: &str, jti: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(jkt.as_bytes());
    hash.update([0]);
    hash.update(jti.as_bytes());
    format!("dpop:jti:{}", URL_SAFE_NO_PAD.encode(hash.finalize()))
}

impl ReplayStore {
    /// In this process: at most `capacity` entries, each kept twice the window
    /// (`iat` may be that far in the past or in the future).
    pub fn memory(capacity: u64, window: Duration) -> Self {
        Self::Memory(
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(window * 2)
                .build(),
        )
    }

    /// In Redis at `url` (`redis://host:port/db`). Connects lazily and reconnects
    /// on its own, so the server starts (and serves everything but DPoP) while
    /// Redis is down. Only a malformed URL is an error.
    pub fn redis(url: &str, window: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|error| error.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|error| error.to_string())?;
        Ok(Self::Redis {
            connection,
            ttl: window * 2,
        })
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Redis { .. })
    }

    /// Records the proof; [`ReplayError::Replayed`] if it was seen before.
    pub async fn remember(&self, jkt: &str, jti: &str) -> Result<(), ReplayError> {
        let key = entry_key(jkt, jti);
        match self {
            Self::Memory(seen) => {
                if seen.entry(key).or_insert(()).is_fresh() {
                    Ok(())
                } else {
                    Err(ReplayError::Replayed)
                }
            }
            Self::Redis { connection, ttl } => {
                let mut connection = connection.clone();
                // SET NX: exactly one replica wins for a given proof.
                let mut set = redis::cmd("SET");
                set.arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(ttl.as_secs().max(1));
                let set = set.query_async::<Option<String>>(&mut connection);
                match tokio::time::timeout(REDIS_TIMEOUT, set).await {
                    Ok(Ok(Some(_))) => Ok(()),
                    Ok(Ok(None)) => Err(ReplayError::Replayed),
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "DPoP replay store (Redis) failed");
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
        let Self::Redis { connection, .. } = self else {
            return Ok(candidate.to_vec());
        };
        let mut connection = connection.clone();
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
                tracing::warn!(%error, "DPoP nonce secret: Redis failed");
                Err(ReplayError::Unavailable)
            }
            Err(_) => Err(ReplayError::Unavailable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_proof_is_accepted_once_per_key() {
        let store = ReplayStore::memory(100, Duration::from_secs(60));
        assert_eq!(store.remember("key-1", "a").await, Ok(()));
        assert_eq!(store.remember("key-1", "b").await, Ok(()));
        // The same jti from another key is another proof.
        assert_eq!(store.remember("key-2", "a").await, Ok(()));
        assert_eq!(
            store.remember("key-1", "a").await,
            Err(ReplayError::Replayed)
        );
        assert!(store.is_ready().await);
    }

    #[tokio::test]
    async fn redis_that_does_not_answer_fails_closed() {
        // Nothing listens on port 1.
        let store = ReplayStore::redis("redis://127.0.0.1:1/", Duration::from_secs(60)).unwrap();
        assert_eq!(
            store.remember("key", "a").await,
            Err(ReplayError::Unavailable)
        );
        assert!(!store.is_ready().await);
        assert_eq!(
            store.shared_secret(&[7; 32]).await,
            Err(ReplayError::Unavailable)
        );
        assert!(ReplayStore::redis("not a url", Duration::from_secs(60)).is_err());
    }
}
