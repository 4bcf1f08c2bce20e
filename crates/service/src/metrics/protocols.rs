//! Request, error and latency series of the gRPC and Redis-protocol listeners, in HTTP's
//! scheme: a counter by call and status, and a latency histogram by call.
//!
//! The calls of each protocol are a fixed list, so every series has bounded labels. The
//! success series of each call is registered once and its handle cached, as HTTP's are (a
//! lookup by name and labels costs more than the ID it counts); errors are rare and looked up
//! when they happen.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, histogram, Counter, Histogram};

use super::{GRPC_DURATION, GRPC_REQUESTS, RESP_DURATION, RESP_REQUESTS};

/// The gRPC methods of `snowdrift.v1.Snowdrift`, as the `method` label names them.
pub const GRPC_METHODS: [&str; 5] = ["NextId", "NextIds", "StreamIds", "Decode", "Info"];

/// The `command` label of a frame that named no command the server knows.
pub const UNKNOWN_COMMAND: &str = "unknown";

/// The Redis-protocol commands, as the `command` label names them: the command table's names
/// (`crate::resp::cmd::names`), then [`UNKNOWN_COMMAND`].
pub fn resp_commands() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        crate::resp::cmd::names()
            .chain(std::iter::once(UNKNOWN_COMMAND))
            .collect()
    })
}

/// A call's cached success counter and latency histogram.
struct Call {
    ok: Counter,
    latency: Histogram,
}

/// The cached handles of one protocol, in the order of its call list.
struct Calls(Vec<Call>);

impl Calls {
    fn new(
        names: &[&'static str],
        requests: &'static str,
        duration: &'static str,
        label: &'static str,
        ok: &'static str,
    ) -> Calls {
        Calls(
            names
                .iter()
                .map(|name| Call {
                    ok: counter!(requests, label => *name, "status" => ok),
                    latency: histogram!(duration, label => *name),
                })
                .collect(),
        )
    }
}

static GRPC: OnceLock<Calls> = OnceLock::new();
static RESP: OnceLock<Calls> = OnceLock::new();

fn grpc() -> &'static Calls {
    GRPC.get_or_init(|| Calls::new(&GRPC_METHODS, GRPC_REQUESTS, GRPC_DURATION, "method", "OK"))
}

fn resp() -> &'static Calls {
    RESP.get_or_init(|| {
        Calls::new(
            resp_commands(),
            RESP_REQUESTS,
            RESP_DURATION,
            "command",
            "ok",
        )
    })
}

/// Records one gRPC call of `method` (one of [`GRPC_METHODS`]) that ended with `code`.
pub fn grpc_request(method: &'static str, code: tonic::Code, elapsed: Duration) {
    let Some(index) = GRPC_METHODS.iter().position(|known| *known == method) else {
        return;
    };
    let Some(call) = grpc().0.get(index) else {
        return;
    };
    if code == tonic::Code::Ok {
        call.ok.increment(1);
    } else {
        counter!(GRPC_REQUESTS, "method" => method, "status" => grpc_code_name(code)).increment(1);
    }
    call.latency.record(elapsed.as_secs_f64());
}

/// Records one Redis-protocol command, `index` into [`resp_commands`]; `error` is the prefix of
/// its error reply (`ERR`, `NOAUTH`…), or `None` when it succeeded.
pub fn resp_request(index: usize, error: Option<&str>, elapsed: Duration) {
    let Some(call) = resp().0.get(index) else {
        return;
    };
    match error {
        None => call.ok.increment(1),
        Some(prefix) => {
            let command = resp_commands()
                .get(index)
                .copied()
                .unwrap_or(UNKNOWN_COMMAND);
            counter!(RESP_REQUESTS, "command" => command, "status" => resp_status(prefix))
                .increment(1);
        }
    }
    call.latency.record(elapsed.as_secs_f64());
}

/// The index in [`resp_commands`] of a command name (any case); "unknown" for the rest.
pub fn resp_command_index(name: &str) -> usize {
    let names = resp_commands();
    names
        .iter()
        .position(|known| known.eq_ignore_ascii_case(name))
        .unwrap_or(names.len() - 1)
}

/// The error prefixes the server writes, as the `status` label; anything else is `ERR`, so a
/// label never carries client-chosen text.
fn resp_status(prefix: &str) -> &'static str {
    [
        "ERR",
        "NOAUTH",
        "WRONGPASS",
        "WRONGTYPE",
        "NOPROTO",
        "BUSY",
        "UNAVAILABLE",
    ]
    .into_iter()
    .find(|known| *known == prefix)
    .unwrap_or("ERR")
}

/// The gRPC specification's name of a status code.
pub fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_map_to_their_label_and_the_rest_to_unknown() {
        let names = resp_commands();
        assert_eq!(names[resp_command_index("NEXTID")], "nextid");
        assert_eq!(names[resp_command_index("NextIds")], "nextids");
        assert_eq!(names[resp_command_index("FLUSHALL")], "unknown");
        assert_eq!(names[resp_command_index("")], "unknown");
        assert_eq!(names[resp_command_index("unknown")], "unknown");
    }

    #[test]
    fn error_statuses_never_carry_client_text() {
        assert_eq!(resp_status("NOAUTH"), "NOAUTH");
        assert_eq!(resp_status("ERR"), "ERR");
        assert_eq!(resp_status("whatever-the-client-sent"), "ERR");
    }

    #[test]
    fn grpc_codes_use_the_specifications_names() {
        assert_eq!(grpc_code_name(tonic::Code::Ok), "OK");
        assert_eq!(grpc_code_name(tonic::Code::Unavailable), "UNAVAILABLE");
        assert_eq!(
            grpc_code_name(tonic::Code::InvalidArgument),
            "INVALID_ARGUMENT"
        );
    }
}
