//! `NEXTID`: one ID, as an integer reply (`:175928847299117063`).

use super::super::errors;
use super::super::parse::{ArgError, Args};
use super::{Context, Outcome, Run};

/// `NEXTID` takes no arguments.
#[derive(Debug)]
pub struct NextId;

impl Run for NextId {
    /// Refuses any argument.
    fn parse(args: &mut Args<'_>) -> Result<NextId, ArgError> {
        args.finish()?;
        Ok(NextId)
    }

    /// Issues one ID on the generator's single-ID path.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        match ctx.app.issue_one().await {
            Ok(id) => ctx.reply().integer(id.as_u64()),
            Err(err) => errors::service(&mut ctx.reply(), &err),
        }
        Outcome::Continue
    }
}
