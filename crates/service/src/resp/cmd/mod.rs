//! The commands: one file each, with the same two steps.
//!
//! `parse` reads the arguments (after the name) into the command's struct, and `apply` runs it
//! against the [`App`] and writes its reply. Adding a command means one file here and one arm
//! in [`Command::parse`] and [`Command::apply`].
//!
//! Besides Snowdrift's own commands (`NEXTID`, `NEXTIDS`, `DECODE`), a few of Redis's are
//! answered, minimally, because client libraries and tools send them when they connect:
//! `HELLO` and `CLIENT` (redis-py, go-redis, Lettuce…), `SELECT 0`, `CONFIG GET` (what
//! `redis-benchmark` asks first), `COMMAND` (`redis-cli`'s hints), `PING`, `ECHO`, `INFO`,
//! `QUIT`.

mod client;
mod command;
mod config;
mod decode;
mod echo;
mod hello;
mod info;
mod next_id;
mod next_ids;
mod ping;
mod quit;
mod select;

use super::errors;
use super::parse::{ArgError, Args};
use super::reply::{Reply, Version};
use crate::app::App;

/// What a connection knows about its client.
#[derive(Debug)]
pub struct Session {
    /// A number unique in this process, for `CLIENT ID` and `HELLO`.
    pub id: u64,
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

/// A parsed command, ready to run.
#[derive(Debug)]
pub enum Command {
    /// `NEXTID`
    NextId(next_id::NextId),
    /// `NEXTIDS n`
    NextIds(next_ids::NextIds),
    /// `DECODE id`
    Decode(decode::Decode),
    /// `PING [message]`
    Ping(ping::Ping),
    /// `ECHO message`
    Echo(echo::Echo),
    /// `INFO [section…]`
    Info(info::Info),
    /// `HELLO [protover [AUTH user pass] [SETNAME name]]`
    Hello(hello::Hello),
    /// `CLIENT subcommand …`
    Client(client::Client),
    /// `CONFIG GET parameter…`
    Config(config::Config),
    /// `COMMAND …`
    Command(command::CommandInfo),
    /// `SELECT db`
    Select(select::Select),
    /// `QUIT`
    Quit(quit::Quit),
}

/// Why a frame is not a command to run; answered with `-ERR`, the connection goes on.
#[derive(Debug)]
pub enum Refused {
    /// No command of that name.
    Unknown(String),
    /// The command's arguments are wrong.
    Args(ArgError),
}

impl Command {
    /// Reads the command in `args` (the first is its name).
    pub fn parse(buf: &[u8], args: &[std::ops::Range<usize>]) -> Result<Command, Refused> {
        let Some((name, rest)) = args.split_first() else {
            return Err(Refused::Unknown(String::new()));
        };
        let name = buf.get(name.clone()).unwrap_or_default();
        let is = |expected: &str| name.eq_ignore_ascii_case(expected.as_bytes());
        let command: &'static str = [
            "nextid", "nextids", "decode", "ping", "echo", "info", "hello", "client", "config",
            "command", "select", "quit",
        ]
        .into_iter()
        .find(|candidate| is(candidate))
        .ok_or_else(|| Refused::Unknown(String::from_utf8_lossy(name).into_owned()))?;
        let mut args = Args::new(buf, rest, command);
        let parsed = match command {
            "nextid" => next_id::NextId::parse(&mut args).map(Command::NextId),
            "nextids" => next_ids::NextIds::parse(&mut args).map(Command::NextIds),
            "decode" => decode::Decode::parse(&mut args).map(Command::Decode),
            "ping" => ping::Ping::parse(&mut args).map(Command::Ping),
            "echo" => echo::Echo::parse(&mut args).map(Command::Echo),
            "info" => info::Info::parse(&mut args).map(Command::Info),
            "hello" => hello::Hello::parse(&mut args).map(Command::Hello),
            "client" => client::Client::parse(&mut args).map(Command::Client),
            "config" => config::Config::parse(&mut args).map(Command::Config),
            "command" => Ok(Command::Command(command::CommandInfo)),
            "select" => select::Select::parse(&mut args).map(Command::Select),
            _ => quit::Quit::parse(&mut args).map(Command::Quit),
        };
        parsed.map_err(Refused::Args)
    }

    /// Runs the command and writes its reply into `out`.
    pub async fn apply(self, app: &App, session: &mut Session, out: &mut Vec<u8>) -> Outcome {
        // HELLO may switch the version its own reply is written in, so it writes for itself.
        let command = match self {
            Command::Hello(cmd) => {
                cmd.apply(session, out);
                return Outcome::Continue;
            }
            other => other,
        };
        let mut reply = Reply::new(out, session.version);
        match command {
            Command::NextId(cmd) => cmd.apply(app, &mut reply),
            Command::NextIds(cmd) => cmd.apply(app, &mut reply).await,
            Command::Decode(cmd) => cmd.apply(app, &mut reply),
            Command::Ping(cmd) => cmd.apply(&mut reply),
            Command::Echo(cmd) => cmd.apply(&mut reply),
            Command::Info(cmd) => cmd.apply(app, &mut reply),
            Command::Hello(_) => {}
            Command::Client(cmd) => cmd.apply(session, &mut reply),
            Command::Config(cmd) => cmd.apply(&mut reply),
            Command::Command(cmd) => cmd.apply(&mut reply),
            Command::Select(cmd) => cmd.apply(&mut reply),
            Command::Quit(cmd) => return cmd.apply(&mut reply),
        }
        Outcome::Continue
    }
}

impl Refused {
    /// Writes the `-ERR` reply.
    pub fn reply(&self, out: &mut Vec<u8>, version: Version) {
        let mut reply = Reply::new(out, version);
        match self {
            Refused::Unknown(name) => {
                // Like Redis: name the command, truncated, so a flood of junk stays small.
                let shown: String = name.chars().take(64).collect();
                reply.error("ERR", &format!("unknown command '{shown}'"));
            }
            Refused::Args(err) => errors::arguments(&mut reply, err),
        }
    }
}
