//! The client: `next_id` from the buffer, `fetch` straight from the network, and the stats.

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::buffer::Buffer;
use crate::config::ClientConfig;
use crate::error::Error;
use crate::pool::Pool;
use crate::refill::{self, Shared};
use crate::stats::{Counters, Stats};

/// A client of one or more Snowdrift nodes.
///
/// Create it inside a tokio runtime; it starts a background task that keeps its buffer full,
/// which stops when the client is dropped.
#[derive(Debug)]
pub struct Client {
    shared: Arc<Shared>,
    refiller: Option<JoinHandle<()>>,
}

impl Client {
    /// A client with `config`. Connections are made on first use; with a buffer, the first
    /// refill starts at once.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Config("a Client must be created inside a tokio runtime".to_string())
        })?;
        let shared = Arc::new(Shared {
            buffer: Buffer::new(config.buffer_capacity, config.low_water),
            pool: Pool::new(&config)?,
            stats: Counters::default(),
            config,
        });
        let refiller = (shared.config.buffer_capacity > 0)
            .then(|| runtime.spawn(refill::run(Arc::clone(&shared))));
        Ok(Client { shared, refiller })
    }

    /// The next ID.
    ///
    /// While the buffer holds IDs this is a local pop and never waits on the network. When it
    /// is empty the call waits for the refill, up to `wait_timeout`, and returns
    /// [`Error::Unavailable`] if no endpoint could issue (or [`Error::BadRequest`] if they
    /// refuse the client's requests). Without a buffer every call is one request.
    #[inline]
    pub async fn next_id(&self) -> Result<u64, Error> {
        if let Some(id) = self.shared.buffer.pop() {
            return Ok(id);
        }
        let result = self.next_id_slow().await;
        if result.is_err() {
            Counters::bump(&self.shared.stats.errors, 1);
        }
        result
    }

    /// The next ID if one is buffered, without waiting.
    #[inline]
    pub fn try_next_id(&self) -> Option<u64> {
        self.shared.buffer.pop()
    }

    /// `count` fresh IDs straight from the network (with failover), bypassing the buffer: for
    /// bulk use such as `snowdrift fetch`. Requests are `batch` IDs each.
    pub async fn fetch(&self, count: usize) -> Result<Vec<u64>, Error> {
        let mut ids = Vec::with_capacity(count);
        while ids.len() < count {
            let want = (count - ids.len()).min(self.shared.config.batch as usize);
            let fetched = self
                .shared
                .pool
                .fetch(want as u32, &self.shared.stats)
                .await?;
            ids.extend(fetched.ids);
        }
        ids.truncate(count);
        Ok(ids)
    }

    /// IDs buffered now.
    pub fn buffered(&self) -> usize {
        self.shared.buffer.len()
    }

    /// What the client has done so far.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    #[cold]
    async fn next_id_slow(&self) -> Result<u64, Error> {
        let shared = &self.shared;
        if self.refiller.is_none() {
            let fetched = shared.pool.fetch(1, &shared.stats).await?;
            return fetched
                .ids
                .first()
                .copied()
                .ok_or_else(|| Error::Unavailable {
                    attempts: 1,
                    failures: "a node answered with no ID".to_string(),
                    retry_after: None,
                });
        }
        Counters::bump(&shared.stats.waits, 1);
        let deadline = Instant::now() + shared.config.wait_timeout;
        let mark = shared.buffer.failures();
        loop {
            // Register for the wake-up before looking, so a refill in between is not missed.
            let filled = shared.buffer.filled.notified();
            tokio::pin!(filled);
            filled.as_mut().enable();
            if let Some(id) = shared.buffer.pop() {
                return Ok(id);
            }
            if let Some(error) = shared.buffer.failure_since(mark) {
                return Err(error);
            }
            shared.buffer.wanted.notify_one();
            if tokio::time::timeout_at(deadline, filled).await.is_err() {
                return Err(Error::Unavailable {
                    attempts: 0,
                    failures: format!(
                        "no IDs arrived within {:?} of finding the buffer empty",
                        shared.config.wait_timeout
                    ),
                    retry_after: None,
                });
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(refiller) = self.refiller.take() {
            refiller.abort();
        }
    }
}
