//! `SELECT db`: Snowdrift has one ID space, which clients configured for database 0 select
//! on connect; any other database is refused as Redis refuses one out of range.

use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `SELECT db`.
#[derive(Debug)]
pub struct Select {
    db: Option<u64>,
}

impl Run for Select {
    /// Reads the database number (a non-number is answered like one out of range).
    fn parse(args: &mut Args<'_>) -> Result<Select, ArgError> {
        let db = args.next_u64().ok();
        args.finish()?;
        Ok(Select { db })
    }

    /// `+OK` for 0.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let mut reply = ctx.reply();
        if self.db == Some(0) {
            reply.simple("OK");
        } else {
            reply.error("ERR", "DB index is out of range");
        }
        Outcome::Continue
    }
}
