//! [`SessionStore`]: where sealed session records live, behind one small
//! interface with two implementations: an embedded file (the default, so a
//! restart or a `cargo leptos watch` rebuild keeps everyone signed in) and Redis
//! (`REDIS_URL`: shared by every replica). Keys are the SHA-256 of session ids,
//! values are sealed by the key ring: what the store holds is useless without
//! `SESSION_SECRET`, and its keys do not give away a cookie.
//!
//! Each entry expires on its own (rolling: [`SessionStore::touch`] moves the
//! expiry without rewriting the value, so it never races a renewal's write).
//! [`SessionStore::replace`] writes only over an entry that still exists, so a
//! renewal that finishes after a logout does not bring the session back.
//!
//! Written here rather than on `tower-sessions`: its stores keep the session
//! under the cookie's id in clear, and it has no "write only if still there" nor
//! a lock for single-flight renewal across replicas; what is left is a few
//! calls to redb and Redis.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// key → expiry (milliseconds since the epoch, big-endian) followed by the value.
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// How long a Redis call may take before the session counts as unreadable.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// The store could not answer (a file error, Redis down).
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An entry: its sealed value and how long it has left.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub value: Vec<u8>,
    pub expires_in: Duration,
}

/// A held cross-replica lock; give it back with [`SessionStore::unlock`].
#[derive(Debug)]
pub struct Lock {
    key: String,
    token: String,
}

/// Sessions in a local file or in Redis.
#[derive(Clone)]
pub enum SessionStore {
    File(Arc<Database>),
    Redis(ConnectionManager),
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn file_error(error: impl std::fmt::Display) -> StoreError {
    StoreError(format!("session file: {error}"))
}

fn redis_error(error: redis::RedisError) -> StoreError {
    StoreError(format!("Redis: {error}"))
}

/// One Redis command on the shared connection.
async fn query<T: redis::FromRedisValue>(
    connection: &ConnectionManager,
    command: &redis::Cmd,
) -> Result<T, StoreError> {
    command
        .query_async(&mut connection.clone())
        .await
        .map_err(redis_error)
}

/// A Redis expiry in milliseconds (at least 1: 0 is an error there).
fn millis(ttl: Duration) -> u64 {
    ttl.as_millis().max(1) as u64
}

fn session_key(key: &str) -> String {
    format!("session:{key}")
}

impl SessionStore {
    /// The embedded store in `path` (created if missing). Fails when another
    /// process has the file open (one server per file; replicas share Redis).
    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let database = Database::create(path).map_err(|error| {
            StoreError(format!(
                "cannot open the session file {}: {error}",
                path.display()
            ))
        })?;
        let write = database.begin_write().map_err(file_error)?;
        write.open_table(SESSIONS).map_err(file_error)?;
        write.commit().map_err(file_error)?;
        Ok(Self::File(Arc::new(database)))
    }

    /// Redis at `url`; connects lazily and reconnects on its own.
    pub fn redis(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(redis_error)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(redis_error)?;
        Ok(Self::Redis(connection))
    }

    /// The entry under `key`, unless missing or expired.
    pub async fn load(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        match self {
            // A read transaction is a few microseconds from the page cache: done
            // in place rather than on the blocking pool.
            Self::File(database) => {
                let read = database.begin_read().map_err(file_error)?;
                let table = read.open_table(SESSIONS).map_err(file_error)?;
                let Some(stored) = table.get(key).map_err(file_error)? else {
                    return Ok(None);
                };
                Ok(unpack(stored.value()))
            }
            Self::Redis(connection) => {
                let mut connection = connection.clone();
                let (value, ttl_ms): (Option<Vec<u8>>, i64) = redis::pipe()
                    .get(session_key(key))
                    .pttl(session_key(key))
                    .query_async(&mut connection)
                    .await
                    .map_err(redis_error)?;
                Ok(value.filter(|_| ttl_ms > 0).map(|value| Entry {
                    value,
                    expires_in: Duration::from_millis(ttl_ms as u64),
                }))
            }
        }
    }

    /// Writes `value` under `key` for `ttl` (a new session).
    pub async fn insert(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        self.write(key, value, ttl, false).await.map(|_| ())
    }

    /// Writes `value` under `key` for `ttl` only if an entry is still there;
    /// `false` when it was gone (ended meanwhile).
    pub async fn replace(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.write(key, value, ttl, true).await
    }

    async fn write(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
        only_if_there: bool,
    ) -> Result<bool, StoreError> {
        match self {
            Self::File(database) => {
                let key = key.to_owned();
                write_table(database, move |table| {
                    let there = table
                        .get(key.as_str())
                        .map_err(file_error)?
                        .is_some_and(|stored| unpack(stored.value()).is_some());
                    if only_if_there && !there {
                        return Ok(false);
                    }
                    let packed = pack(now_ms() + ttl.as_millis() as u64, &value);
                    table
                        .insert(key.as_str(), packed.as_slice())
                        .map_err(file_error)?;
                    Ok(true)
                })
                .await
            }
            Self::Redis(connection) => {
                let mut command = redis::cmd("SET");
                command
                    .arg(session_key(key))
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl));
                if only_if_there {
                    command.arg("XX");
                }
                let answer: Option<String> = query(connection, &command).await?;
                Ok(answer.is_some())
            }
        }
    }

    /// Moves the expiry of `key` to `ttl` from now, value untouched.
    pub async fn touch(&self, key: &str, ttl: Duration) -> Result<(), StoreError> {
        match self {
            Self::File(database) => {
                let key = key.to_owned();
                write_table(database, move |table| {
                    let current = table
                        .get(key.as_str())
                        .map_err(file_error)?
                        .and_then(|stored| unpack(stored.value()));
                    if let Some(entry) = current {
                        let packed = pack(now_ms() + ttl.as_millis() as u64, &entry.value);
                        table
                            .insert(key.as_str(), packed.as_slice())
                            .map_err(file_error)?;
                    }
                    Ok(())
                })
                .await
            }
            Self::Redis(connection) => {
                let command = redis::cmd("PEXPIRE")
                    .arg(session_key(key))
                    .arg(millis(ttl))
                    .to_owned();
                query::<i64>(connection, &command).await.map(|_| ())
            }
        }
    }

    /// Removes `key` (a logout, an ended session).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Self::File(database) => {
                let key = key.to_owned();
                write_table(database, move |table| {
                    table.remove(key.as_str()).map_err(file_error)?;
                    Ok(())
                })
                .await
            }
            Self::Redis(connection) => {
                let command = redis::cmd("DEL").arg(session_key(key)).to_owned();
                query::<i64>(connection, &command).await.map(|_| ())
            }
        }
    }

    /// Takes the cross-replica lock of `key` for at most `ttl`, if free. With the
    /// file store there is one process: always granted (the in-process lock in
    /// `Sessions` is the one that counts).
    pub async fn try_lock(&self, key: &str, ttl: Duration) -> Result<Option<Lock>, StoreError> {
        let lock = Lock {
            key: format!("session-lock:{key}"),
            token: super::random_id(),
        };
        match self {
            Self::File(_) => Ok(Some(lock)),
            Self::Redis(connection) => {
                let command = redis::cmd("SET")
                    .arg(&lock.key)
                    .arg(&lock.token)
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(ttl))
                    .to_owned();
                let answer: Option<String> = query(connection, &command).await?;
                Ok(answer.map(|_| lock))
            }
        }
    }

    /// Gives the lock back (only if still ours: it may have expired and been taken).
    pub async fn unlock(&self, lock: Lock) {
        if let Self::Redis(connection) = self {
            let mut connection = connection.clone();
            let script = redis::Script::new(
                "if redis.call('GET', KEYS[1]) == ARGV[1] then \
                 return redis.call('DEL', KEYS[1]) else return 0 end",
            );
            let released: Result<i64, _> = script
                .key(&lock.key)
                .arg(&lock.token)
                .invoke_async(&mut connection)
                .await;
            if let Err(error) = released {
                tracing::warn!(%error, "could not release a session lock (it expires on its own)");
            }
        }
    }

    /// Drops expired entries from the file (Redis expires its own). Returns how many.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        let Self::File(database) = self else {
            return Ok(0);
        };
        write_table(database, |table| {
            let now = now_ms();
            let before = table.len().map_err(file_error)?;
            table
                .retain(|_, stored| expiry(stored).is_some_and(|at| at > now))
                .map_err(file_error)?;
            Ok((before - table.len().map_err(file_error)?) as usize)
        })
        .await
    }
}

/// Runs `work` on the sessions table in one write transaction (committed when
/// it succeeds), on the blocking pool: a commit waits for the disk.
async fn write_table<T: Send + 'static>(
    database: &Arc<Database>,
    work: impl FnOnce(&mut redb::Table<'_, &'static str, &'static [u8]>) -> Result<T, StoreError>
        + Send
        + 'static,
) -> Result<T, StoreError> {
    let database = database.clone();
    blocking(move || {
        let write = database.begin_write().map_err(file_error)?;
        let out = {
            let mut table = write.open_table(SESSIONS).map_err(file_error)?;
            work(&mut table)?
        };
        write.commit().map_err(file_error)?;
        Ok(out)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| StoreError(format!("session file task: {error}")))?
}

fn pack(expires_at_ms: u64, value: &[u8]) -> Vec<u8> {
    let mut packed = Vec::with_capacity(8 + value.len());
    packed.extend_from_slice(&expires_at_ms.to_be_bytes());
    packed.extend_from_slice(value);
    packed
}

fn expiry(stored: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(stored.get(..8)?.try_into().ok()?))
}

fn unpack(stored: &[u8]) -> Option<Entry> {
    let expires_at = expiry(stored)?;
    let now = now_ms();
    (expires_at > now).then(|| Entry {
        value: stored[8..].to_vec(),
        expires_in: Duration::from_millis(expires_at - now),
    })
}
