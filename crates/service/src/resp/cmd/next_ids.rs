//! `NEXTIDS n`: `n` consecutive IDs from one block reservation, as an array of integers.

use super::super::errors;
use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `NEXTIDS n`, with `n` in `1..=max_batch` (checked by [`App::issue`](crate::app::App::issue)).
#[derive(Debug)]
pub struct NextIds {
    count: u64,
}

impl Run for NextIds {
    /// Reads `n`.
    fn parse(args: &mut Args<'_>) -> Result<NextIds, ArgError> {
        let count = args.next_u64()?;
        args.finish()?;
        Ok(NextIds { count })
    }

    /// Issues the block and writes it. A block that spans ticks ahead of the clock awaits
    /// them on a timer in the App; the connection's later (pipelined) commands wait behind it,
    /// other connections do not.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let issued = ctx.app.issue(self.count).await;
        let mut reply = ctx.reply();
        match issued {
            Ok(block) => {
                reply.array(block.len());
                for id in block {
                    reply.integer(id.as_u64());
                }
            }
            Err(err) => errors::service(&mut reply, &err),
        }
        Outcome::Continue
    }
}
