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

    /// Issues the block and writes it.
    ///
    /// A block larger than one tick's sequence spans ticks ahead of the clock, and the
    /// generator sleeps until they arrive (about 1 ms per 4096 IDs in the default layout).
    /// Such blocks are issued on a blocking thread so the async workers keep serving other
    /// connections; smaller ones, the common case, are issued in place, because a blocking
    /// hand-off would cost more than the rare sub-millisecond wait it avoids.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let app = ctx.app;
        let issued = if self.count <= app.layout().ids_per_tick() {
            app.issue(self.count)
        } else {
            // Through the app's bounded pool, like HTTP, so at most a few blocks sleep at once.
            let count = self.count;
            app.run_blocking(move |app| app.issue(count)).await
        };
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
