//! The commands: one file each, and one table that names them.
//!
//! Each command is a type implementing [`Run`]: `parse` reads the arguments (after the name)
//! into it, and `apply` runs it against the [`App`] and writes its reply. Adding a command
//! means its file here and one line in the `commands!` table below, which declares the
//! module and makes the [`Command`] variant, the name lookup and the dispatch from it. A name
//! that is not in the table is always `unknown command`.
//!
//! Besides Snowdrift's own commands (`NEXTID`, `NEXTIDS`, `DECODE`), a few of Redis's are
//! answered, minimally, because client libraries and tools send them when they connect:
//! `HELLO` and `CLIENT` (redis-py, go-redis, Lettuce…), `SELECT 0`, `CONFIG GET` (what
//! `redis-benchmark` asks first), `COMMAND` (`redis-cli`'s hints), `PING`, `ECHO`, `INFO`,
//! `QUIT`.

use std::future::Future;

use super::errors;
use super::parse::{ArgError, Args};
use super::reply::{Reply, Version};
use crate::app::App;
use crate::auth::{Auth, Refusal};

/// Declares the command modules and builds, from one list of `"name" => module::Type`, the
/// [`Command`] enum, the table [`Command::parse`] looks names up in, and the dispatch of
/// [`Command::apply`].
macro_rules! commands {
    ($($name:literal => $module:ident :: $command:ident,)+) => {
        $(mod $module;)+

        /// A parsed command, ready to run.
        #[derive(Debug)]
        pub enum Command {
            $(
                #[doc = concat!("`", $name, "`")]
                $command($module::$command),
            )+
        }

        /// Every command's name, lowercase, and how to read its arguments.
        const TABLE: &[(&str, fn(&mut Args<'_>) -> Result<Command, ArgError>)] = &[
            $(($name, |args| <$module::$command as Run>::parse(args).map(Command::$command)),)+
        ];

        impl Command {
            /// The command's name in lower case, as the table and the metrics write it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$command(_) => $name,)+
                }
            }

            /// Runs whichever command this is.
            async fn run(self, ctx: &mut Context<'_>) -> Outcome {
                match self {
                    $(Command::$command(command) => command.apply(ctx).await,)+
                }
            }
        }
    };
}

commands! {
    "auth" => auth::Authenticate,
    "nextid" => next_id::NextId,
    "nextids" => next_ids::NextIds,
    "decode" => decode::Decode,
    "ping" => ping::Ping,
    "echo" => echo::Echo,
    "info" => info::Info,
    "hello" => hello::Hello,
    "client" => client::Client,
    "config" => config::Config,
    "command" => command::CommandInfo,
    "select" => select::Select,
    "quit" => quit::Quit,
}

/// Every command's name, lowercase, in the table's order (the metrics' `command` labels).
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(name, _)| *name)
}

/// One command: how it reads its arguments and how it runs.
pub trait Run: Sized {
    /// Reads the arguments after the command's name.
    fn parse(args: &mut Args<'_>) -> Result<Self, ArgError>;

    /// Runs the command and writes its reply through `ctx`.
    fn apply(self, ctx: &mut Context<'_>) -> impl Future<Output = Outcome> + Send;
}

/// What a running command can reach: the service, its client's session, and the output.
#[derive(Debug)]
pub struct Context<'a> {
    /// The service.
    pub app: &'a App,
    /// The client's session.
    pub session: &'a mut Session,
    out: &'a mut Vec<u8>,
}

impl Context<'_> {
    /// A reply in the session's protocol version.
    pub fn reply(&mut self) -> Reply<'_> {
        Reply::new(self.out, self.session.version)
    }

    /// The session and a reply at once, for commands that change the session as they answer.
    pub fn split(&mut self) -> (&mut Session, Reply<'_>) {
        let version = self.session.version;
        (self.session, Reply::new(self.out, version))
    }
}

/// What a connection knows about its client.
#[derive(Debug)]
pub struct Session {
    /// A number unique in this process, for `CLIENT ID` and `HELLO`.
    pub id: u64,
    /// The tokens `AUTH` checks against.
    pub auth: Auth,
    /// Whether the client may run commands: it sent an accepted token, or none is needed.
    pub authenticated: bool,
    /// The RESP version replies are written in.
    pub version: Version,
    /// The name the client gave itself (`CLIENT SETNAME`, `HELLO … SETNAME`).
    pub name: Option<String>,
}

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read the next command.
    Continue,
    /// Send what is pending, then close (`QUIT`).
    Close,
}

/// Why a frame is not a command to run; answered with `-ERR`, the connection goes on.
#[derive(Debug)]
pub enum Refused {
    /// No command of that name.
    Unknown(String),
    /// The command's arguments are wrong: the command's name, and what is wrong.
    Args(&'static str, ArgError),
}

impl Command {
    /// Reads the command in `args` (the first is its name): a name the table does not hold is
    /// [`Refused::Unknown`], arguments its command refuses are [`Refused::Args`].
    pub fn parse(buf: &[u8], args: &[std::ops::Range<usize>]) -> Result<Command, Refused> {
        let Some((name, rest)) = args.split_first() else {
            return Err(Refused::Unknown(String::new()));
        };
        let name = buf.get(name.clone()).unwrap_or_default();
        let Some(&(command, parse)) = TABLE
            .iter()
            .find(|(candidate, _)| name.eq_ignore_ascii_case(candidate.as_bytes()))
        else {
            return Err(Refused::Unknown(String::from_utf8_lossy(name).into_owned()));
        };
        parse(&mut Args::new(buf, rest, command)).map_err(|err| Refused::Args(command, err))
    }

    /// Runs the command and writes its reply into `out`. Before the client has authenticated
    /// (when the node has tokens) only `AUTH`, `HELLO` and `QUIT` run; anything else is
    /// answered `-NOAUTH`, as Redis answers it.
    pub async fn apply(self, app: &App, session: &mut Session, out: &mut Vec<u8>) -> Outcome {
        if !session.authenticated && !self.runs_before_auth() {
            session.auth.record("resp", Refusal::Missing);
            Reply::new(out, session.version).error("NOAUTH", "Authentication required.");
            return Outcome::Continue;
        }
        self.run(&mut Context { app, session, out }).await
    }

    /// The commands a client may send before it authenticates: the ones that authenticate,
    /// and `QUIT`.
    fn runs_before_auth(&self) -> bool {
        matches!(
            self,
            Command::Authenticate(_) | Command::Hello(_) | Command::Quit(_)
        )
    }
}

impl Refused {
    /// The name of the command refused, as the metrics label it ("unknown" for none).
    pub fn command(&self) -> &'static str {
        match self {
            Refused::Unknown(_) => "unknown",
            Refused::Args(command, _) => command,
        }
    }

    /// Writes the `-ERR` reply.
    pub fn reply(&self, out: &mut Vec<u8>, version: Version) {
        let mut reply = Reply::new(out, version);
        match self {
            Refused::Unknown(name) => {
                // Like Redis: name the command, truncated, so a flood of junk stays small.
                let shown: String = name.chars().take(64).collect();
                reply.error("ERR", &format!("unknown command '{shown}'"));
            }
            Refused::Args(_, err) => errors::arguments(&mut reply, err),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Parses `words` as one command, the way the frame parser hands them over.
    fn parse(words: &[&[u8]]) -> Result<Command, Refused> {
        let mut buf = Vec::new();
        let mut ranges = Vec::new();
        for word in words {
            ranges.push(buf.len()..buf.len() + word.len());
            buf.extend_from_slice(word);
        }
        Command::parse(&buf, &ranges)
    }

    #[test]
    fn every_name_in_the_table_is_its_own_command_in_any_case() {
        for (name, _) in TABLE {
            for spelled in [name.to_string(), name.to_ascii_uppercase()] {
                let parsed = parse(&[spelled.as_bytes(), b"1"]);
                assert!(
                    !matches!(parsed, Err(Refused::Unknown(_))),
                    "{spelled} is in the table but parsed as unknown"
                );
            }
        }
    }

    proptest! {
        /// Any name the table does not hold is `unknown command`, whatever follows it.
        #[test]
        fn a_name_outside_the_table_is_always_unknown(
            name in proptest::collection::vec(any::<u8>(), 0..12),
            arg in proptest::collection::vec(any::<u8>(), 0..4),
        ) {
            prop_assume!(!TABLE.iter().any(|(known, _)| name.eq_ignore_ascii_case(known.as_bytes())));
            let parsed = parse(&[&name, &arg]);
            prop_assert!(matches!(parsed, Err(Refused::Unknown(_))), "{:?}", parsed);
        }
    }
}
