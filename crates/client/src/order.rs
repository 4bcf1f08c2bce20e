//! The ordering check: IDs from one endpoint must only go up.
//!
//! A node's IDs strictly increase for as long as it holds its slot, across restarts too (its
//! persisted window starts each holder above the last). So a batch that is not increasing, or
//! starts at or below the last ID from the same endpoint, means something is badly wrong — a
//! clock or coordination bug, or two nodes answering at one address — and its IDs may repeat
//! ones already handed out. TiKV PD's clients treat the same for timestamps as fatal; this
//! client refuses the batch, counts it, logs it as an error, and fails over.
//!
//! Refills run one at a time, so the batches of one endpoint arrive in the order it issued
//! them; concurrent direct fetches are not checked, since their replies may cross.

/// The last ID seen from each endpoint.
#[derive(Debug)]
pub struct OrderCheck {
    last: Vec<Option<u64>>,
}

/// A batch that went backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation {
    /// The highest ID accepted before (from this endpoint, or earlier in the batch).
    pub previous: u64,
    /// The ID that was not above it.
    pub got: u64,
}

impl OrderCheck {
    /// A check for `endpoints` endpoints, none seen yet.
    pub fn new(endpoints: usize) -> OrderCheck {
        OrderCheck {
            last: vec![None; endpoints],
        }
    }

    /// Accepts `batch` from `endpoint` if it continues upwards, and remembers its last ID.
    ///
    /// ```
    /// # use snowdrift_client::order::{OrderCheck, Violation};
    /// let mut check = OrderCheck::new(2);
    /// assert!(check.accept(0, &[5, 6, 7]).is_ok());
    /// assert!(check.accept(1, &[1, 2]).is_ok()); // another endpoint has its own order
    /// assert_eq!(check.accept(0, &[7, 8]), Err(Violation { previous: 7, got: 7 }));
    /// assert_eq!(check.accept(0, &[9, 8]), Err(Violation { previous: 9, got: 8 }));
    /// ```
    pub fn accept(&mut self, endpoint: usize, batch: &[u64]) -> Result<(), Violation> {
        let Some(slot) = self.last.get_mut(endpoint) else {
            return Ok(());
        };
        let mut previous = *slot;
        for &id in batch {
            if let Some(before) = previous {
                if id <= before {
                    return Err(Violation {
                        previous: before,
                        got: id,
                    });
                }
            }
            previous = Some(id);
        }
        *slot = previous;
        Ok(())
    }
}
