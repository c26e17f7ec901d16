//! Browser sessions kept in our own store (so they survive restarts), for the session layer.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use servicemeter_store::{Accounts, StoredSession};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The session layer's store over [`Accounts`].
pub struct StoreSessions<S> {
    store: Arc<S>,
}

impl<S> StoreSessions<S> {
    pub fn new(store: Arc<S>) -> StoreSessions<S> {
        StoreSessions { store }
    }
}

impl<S> Clone for StoreSessions<S> {
    fn clone(&self) -> Self {
        StoreSessions {
            store: self.store.clone(),
        }
    }
}

impl<S> fmt::Debug for StoreSessions<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreSessions")
    }
}

fn backend(e: impl fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn stored(record: &Record) -> session_store::Result<StoredSession> {
    Ok(StoredSession {
        data: serde_json::to_vec(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?,
        expires_at: record.expiry_date.unix_timestamp(),
    })
}

#[async_trait]
impl<S: Accounts + 'static> SessionStore for StoreSessions<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new random id until one is free (a collision of 128 random bits is not expected,
        // but it must not hand over another user's session).
        loop {
            if self
                .store
                .create_session(&record.id.to_string(), &stored(record)?)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store
            .save_session(&record.id.to_string(), &stored(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(found) = self
            .store
            .load_session(&id.to_string())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let record: Record = serde_json::from_slice(&found.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let now = time::OffsetDateTime::now_utc();
        Ok((record.expiry_date > now).then_some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}
