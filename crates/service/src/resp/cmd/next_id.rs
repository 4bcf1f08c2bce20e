//! `NEXTID`: one ID, as an integer reply (`:175928847299117063`).

use super::super::errors;
use super::super::parse::{ArgError, Args};
use super::super::reply::Reply;
use crate::app::App;

/// `NEXTID` takes no arguments.
#[derive(Debug)]
pub struct NextId;

impl NextId {
    /// Refuses any argument.
    pub fn parse(args: &mut Args<'_>) -> Result<NextId, ArgError> {
        args.finish()?;
        Ok(NextId)
    }

    /// Issues one ID on the generator's single-ID path.
    pub fn apply(self, app: &App, reply: &mut Reply<'_>) {
        match app.issue_one() {
            Ok(id) => reply.integer(id.as_u64()),
            Err(err) => errors::service(reply, &err),
        }
    }
}
