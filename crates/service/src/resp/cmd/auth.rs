//! `AUTH [username] password`: authenticates the connection with a token of the token file.
//!
//! As Redis clients send it: `AUTH <token>` (redis-cli `-a`, `requirepass` style) or
//! `AUTH default <token>` (ACL style, redis-py and go-redis with a username). The only user is
//! `default`. Answers, in Redis's words so client libraries map them to their exceptions:
//! `+OK`; `-WRONGPASS invalid username-password pair or user is disabled.` for a token that is
//! not accepted or another user; and, when the node has no token file, `AUTH <password>` gets
//! the error Redis gives without `requirepass`, while `AUTH default <anything>` is accepted
//! as Redis's password-less default user accepts it. A failed `AUTH` leaves a connection that
//! was authenticated before authenticated, as Redis does.

use super::super::parse::{ArgError, Args};
use super::super::reply::Reply;
use super::{Context, Outcome, Run};
use crate::auth::{Auth, Presented, Refusal};

/// The only Redis user: the one clients name when they send a username at all.
pub const USER: &[u8] = b"default";

/// `AUTH`, with what was presented.
#[derive(Debug)]
pub struct Authenticate {
    user: Option<Vec<u8>>,
    token: Presented,
}

/// The outcome of presenting credentials, shared with `HELLO … AUTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Authenticated.
    Accepted,
    /// Not accepted: answer `-WRONGPASS`.
    Wrong,
    /// `AUTH <password>` on a node without tokens: answer Redis's "no password" error.
    NoPasswordSet,
}

/// Checks credentials presented by `AUTH` or `HELLO … AUTH` against `auth`.
pub fn verdict(auth: &Auth, user: Option<&[u8]>, token: &Presented) -> Verdict {
    let default_user = user.is_none_or(|user| user == USER);
    if !auth.enabled() {
        return match user {
            None => Verdict::NoPasswordSet,
            Some(_) if default_user => Verdict::Accepted,
            Some(_) => Verdict::Wrong,
        };
    }
    if !default_user {
        auth.record("resp", Refusal::Wrong);
        return Verdict::Wrong;
    }
    match auth.check("resp", Some(&token.0)) {
        Ok(()) => Verdict::Accepted,
        Err(_) => Verdict::Wrong,
    }
}

/// Writes the error for a refused verdict.
pub fn refuse(reply: &mut Reply<'_>, verdict: Verdict) {
    match verdict {
        Verdict::Accepted => {}
        Verdict::Wrong => reply.error(
            "WRONGPASS",
            "invalid username-password pair or user is disabled.",
        ),
        Verdict::NoPasswordSet => reply.error(
            "ERR",
            "AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        ),
    }
}

impl Run for Authenticate {
    /// Reads `password` or `username password`.
    fn parse(args: &mut Args<'_>) -> Result<Authenticate, ArgError> {
        let first = args.next_bytes()?.to_vec();
        let parsed = match args.next_opt() {
            None => Authenticate {
                user: None,
                token: Presented(first),
            },
            Some(second) => Authenticate {
                user: Some(first),
                token: Presented(second.to_vec()),
            },
        };
        args.finish()?;
        Ok(parsed)
    }

    /// Checks the token and marks the session.
    async fn apply(self, ctx: &mut Context<'_>) -> Outcome {
        let verdict = verdict(&ctx.session.auth, self.user.as_deref(), &self.token);
        let (session, mut reply) = ctx.split();
        if verdict == Verdict::Accepted {
            session.authenticated = true;
            reply.simple("OK");
        } else {
            refuse(&mut reply, verdict);
        }
        Outcome::Continue
    }
}
