//! `CLIENT …`: the subcommands client libraries send while connecting (`SETNAME`, `SETINFO`)
//! and the ones people use to look at a connection (`GETNAME`, `ID`, `INFO`). Others are
//! refused the way Redis refuses an unknown subcommand.

use super::super::parse::{ArgError, Args};
use super::super::reply::Version;
use super::{Context, Outcome, Run};

/// A `CLIENT` subcommand.
#[derive(Debug)]
pub enum Client {
    /// `CLIENT SETNAME name`
    SetName(String),
    /// `CLIENT GETNAME`
    GetName,
    /// `CLIENT ID`
    Id,
    /// `CLIENT INFO`
    Info,
    /// `CLIENT SETINFO attr value` (library name and version): accepted, not kept.
    SetInfo,
    /// `CLIENT NO-EVICT|NO-TOUCH on|off`: meaningless here, accepted so clients that send
    /// them connect.
    Accepted,
}

impl Run for Client {
    /// Reads the subcommand and its arguments.
    fn parse(args: &mut Args<'_>) -> Result<Client, ArgError> {
        let sub = args.next_bytes()?;
        let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
        let client = if is("SETNAME") {
            let name = args.next_text()?;
            if name.bytes().any(|b| b <= b' ' || b == 0x7f) {
                return Err(ArgError::Invalid(
                    "Client names cannot contain spaces, newlines or special characters."
                        .to_string(),
                ));
            }
            Client::SetName(name.to_string())
        } else if is("GETNAME") {
            Client::GetName
        } else if is("ID") {
            Client::Id
        } else if is("INFO") {
            Client::Info
        } else if is("SETINFO") {
            args.next_bytes()?;
            args.next_bytes()?;
            Client::SetInfo
        } else if is("NO-EVICT") || is("NO-TOUCH") {
            args.next_bytes()?;
            Client::Accepted
        } else {
            return Err(ArgError::Invalid(format!(
                "unknown subcommand '{}'. Try CLIENT HELP.",
                String::from_utf8_lossy(&sub[..sub.len().min(64)])
            )));
        };
        args.finish()?;
        Ok(client)
    }

    /// Runs it.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let (session, mut reply) = ctx.split();
        match self {
            Client::SetName(name) => {
                // An empty name removes it, as in Redis.
                session.name = (!name.is_empty()).then_some(name);
                reply.simple("OK");
            }
            Client::GetName => match &session.name {
                Some(name) => reply.bulk(name.as_bytes()),
                None => reply.null(),
            },
            Client::Id => reply.integer(session.id),
            Client::Info => {
                let resp = match session.version {
                    Version::Resp2 => 2,
                    Version::Resp3 => 3,
                };
                let line = format!(
                    "id={} name={} resp={resp}\n",
                    session.id,
                    session.name.as_deref().unwrap_or("")
                );
                reply.bulk(line.as_bytes());
            }
            Client::SetInfo | Client::Accepted => reply.simple("OK"),
        }
        Outcome::Continue
    }
}
