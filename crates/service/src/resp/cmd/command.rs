//! `COMMAND …`: an empty array. `redis-cli` asks for command documentation when it starts an
//! interactive session, and works without it; describing Snowdrift's commands in Redis's
//! nested format is not worth its weight.

use super::super::reply::Reply;

/// `COMMAND` with any arguments.
#[derive(Debug)]
pub struct CommandInfo;

impl CommandInfo {
    /// An empty array.
    pub fn apply(self, reply: &mut Reply<'_>) {
        reply.array(0);
    }
}
