//! The Redis-protocol listener of the real binary: every command and error path, pipelining,
//! hostile input, and `redis-cli`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod protocols;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use protocols::{field, Node, Reply, Resp};

#[test]
fn every_command_answers_as_documented() {
    let node = Node::start(&[]);
    let mut c = Resp::connect(node.resp);

    let a = c.call(&["NEXTID"]).int();
    let b = c.call(&["nextid"]).int();
    assert!(a > 0 && b > a, "{a} {b}");

    let ids = c.call(&["NEXTIDS", "5"]);
    let ids: Vec<i64> = ids.array().iter().map(Reply::int).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] < w[1]) && ids[0] > b);
    // Larger than one tick's sequence: issued off the async workers, still in order.
    let big = c.call(&["NEXTIDS", "9000"]);
    let big: Vec<i64> = big.array().iter().map(Reply::int).collect();
    assert_eq!(big.len(), 9000);
    assert!(big.windows(2).all(|w| w[0] < w[1]) && big[0] > ids[4]);

    let decoded = c.call(&["DECODE", "175928847299117063"]);
    let flat = decoded.array();
    assert_eq!(field(flat, "id").text(), "175928847299117063");
    assert_eq!(field(flat, "time").text(), "2022-05-01T11:18:25.796Z");
    assert_eq!(field(flat, "datacenter").int(), 1);
    assert_eq!(field(flat, "sequence").int(), 7);
    let base32 = field(flat, "base32").text();
    let again = c.call(&["DECODE", &base32]);
    assert_eq!(field(again.array(), "id").text(), "175928847299117063");

    assert_eq!(c.call(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(c.call(&["PING", "hi"]), Reply::Bulk(Some(b"hi".to_vec())));
    assert_eq!(c.call(&["ECHO", "x y"]), Reply::Bulk(Some(b"x y".to_vec())));
    let info = c.call(&["INFO"]).text();
    for needle in [
        "# Server\r\n",
        "ready:1\r\n",
        "# Layout\r\n",
        "# Clock\r\n",
        "# Coordination\r\n",
    ] {
        assert!(
            info.contains(needle),
            "{needle:?} missing from INFO:\n{info}"
        );
    }
    let clock = c.call(&["INFO", "clock"]).text();
    assert!(
        clock.starts_with("# Clock\r\n") && !clock.contains("# Server"),
        "{clock}"
    );

    assert_eq!(c.call(&["SELECT", "0"]), Reply::Simple("OK".into()));
    assert!(c.call(&["SELECT", "1"]).text().contains("out of range"));
    assert_eq!(
        c.call(&["CLIENT", "SETNAME", "tester"]),
        Reply::Simple("OK".into())
    );
    assert_eq!(c.call(&["CLIENT", "GETNAME"]).text(), "tester");
    assert!(c.call(&["CLIENT", "ID"]).int() > 0);
    assert!(c
        .call(&["CLIENT", "INFO"])
        .text()
        .contains("name=tester resp=2"));
    let setinfo = ["CLIENT", "SETINFO", "LIB-NAME", "redis-py"];
    assert_eq!(c.call(&setinfo), Reply::Simple("OK".into()));
    let config = c.call(&["CONFIG", "GET", "save"]);
    assert_eq!(config.array().len(), 2);
    assert_eq!(c.call(&["CONFIG", "GET", "nothing"]).array().len(), 0);
    assert_eq!(c.call(&["COMMAND", "DOCS"]).array().len(), 0);

    // HELLO 3 switches this connection to RESP3: maps and nulls change shape.
    match c.call(&["HELLO", "3", "SETNAME", "three"]) {
        Reply::Map(pairs) => {
            let get = |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| key.text() == k)
                    .unwrap()
                    .1
                    .clone()
            };
            assert_eq!(get("server").text(), "snowdrift");
            assert_eq!(get("proto").int(), 3);
        }
        other => panic!("HELLO 3 answered {other:?}"),
    }
    assert!(matches!(c.call(&["DECODE", "0"]), Reply::Map(_)));
    assert_eq!(c.call(&["CLIENT", "GETNAME"]).text(), "three");
    assert_eq!(
        c.call(&["CLIENT", "SETNAME", ""]),
        Reply::Simple("OK".into())
    );
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), Reply::Null);
    let hello2 = c.call(&["HELLO", "2"]);
    assert_eq!(field(hello2.array(), "proto").int(), 2);
    assert!(c.call(&["HELLO", "4"]).text().starts_with("NOPROTO"));

    // Errors: -ERR, and the connection goes on.
    let errors: [(&[&str], &str); 14] = [
        (&["NEXTIDS", "0"], "ERR batch_out_of_range: "),
        (&["NEXTIDS", "10001"], "ERR batch_out_of_range: "),
        (
            &["NEXTIDS", "ten"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["NEXTIDS", "-1"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["NEXTIDS"],
            "ERR wrong number of arguments for 'nextids' command",
        ),
        (
            &["NEXTIDS", "1", "2"],
            "ERR wrong number of arguments for 'nextids' command",
        ),
        (
            &["NEXTID", "x"],
            "ERR wrong number of arguments for 'nextid' command",
        ),
        (
            &["DECODE"],
            "ERR wrong number of arguments for 'decode' command",
        ),
        (&["DECODE", "not-an-id!"], "ERR invalid_id: "),
        (&["DECODE", "18446744073709551615"], "ERR id_out_of_range: "),
        (&["INCR", "counter"], "ERR unknown command 'INCR'"),
        (&["CLIENT", "KILL"], "ERR unknown subcommand 'KILL'"),
        (
            &["CONFIG", "SET", "a", "b"],
            "ERR unsupported CONFIG subcommand",
        ),
        (&["HELLO", "x"], "ERR Protocol version is not an integer"),
    ];
    for (command, expected) in errors {
        let reply = c.call(command);
        assert!(
            matches!(&reply, Reply::Error(text) if text.starts_with(expected)),
            "{command:?} answered {reply:?}, expected {expected:?}…"
        );
    }
    assert_eq!(c.call(&["PING"]), Reply::Simple("PONG".into()));

    // Inline commands, as typed into a raw socket.
    c.send(b"NEXTIDS 2\r\n\r\nPING\n");
    assert_eq!(c.read().array().len(), 2);
    assert_eq!(c.read(), Reply::Simple("PONG".into()));

    // QUIT: +OK, then the server closes.
    assert_eq!(c.call(&["QUIT"]), Reply::Simple("OK".into()));
    assert_eq!(c.read_to_close(), "");
}

#[test]
fn nextids_pipelined_a_thousand_deep_come_back_in_order_and_unique() {
    let node = Node::start(&[]);
    let mut c = Resp::connect(node.resp);
    let mut burst = Vec::new();
    for i in 0..1000 {
        burst.extend_from_slice(&protocols::encode(&["NEXTIDS", &(1 + i % 7).to_string()]));
    }
    c.send(&burst);
    let mut seen = HashSet::new();
    let mut last = 0;
    for i in 0..1000 {
        let reply = c.read();
        let ids = reply.array();
        assert_eq!(ids.len(), 1 + i % 7, "reply {i} belongs to another command");
        for id in ids.iter().map(Reply::int) {
            assert!(id > last, "reply {i}: {id} is not above {last}");
            assert!(seen.insert(id));
            last = id;
        }
    }
    assert_eq!(seen.len(), (0..1000).map(|i| 1 + i % 7).sum::<usize>());
}

#[test]
fn hostile_input_is_refused_and_closed_while_others_are_served() {
    let node = Node::start(&[]);
    let mut bystander = Resp::connect(node.resp);
    assert!(bystander.call(&["NEXTID"]).int() > 0);

    // A slowloris client: a byte every 250 ms, never idle, never done. It runs alongside the
    // other cases and is cut off by the 5 s request timeout.
    let addr = node.resp;
    let slow = std::thread::spawn(move || {
        let mut c = Resp::connect(addr);
        let started = Instant::now();
        for byte in b"*2\r\n$7\r\nNEXTIDS\r\n$4\r\n1000".iter().cycle() {
            if std::io::Write::write_all(&mut c.stream, &[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
            if started.elapsed() > Duration::from_secs(12) {
                panic!("a trickling client was not cut off");
            }
        }
        (c.read_to_close(), started.elapsed())
    });

    let cases: [(&str, Vec<u8>); 6] = [
        ("not a bulk string", b"*1\r\n:5\r\n".to_vec()),
        ("bulk length over the limit", b"*1\r\n$1000000\r\n".to_vec()),
        ("negative bulk length", b"*1\r\n$-5\r\n".to_vec()),
        ("array length over the limit", b"*100000\r\n".to_vec()),
        ("garbage length", b"*ab\r\n".to_vec()),
        ("oversized inline request", vec![b'A'; 64 * 1024]),
    ];
    for (what, bytes) in cases {
        let mut c = Resp::connect(node.resp);
        // Written from a thread: the server may close before taking all of a large input.
        let mut writer = c.stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut writer, &bytes);
        });
        let answer = c.read_to_close();
        let _ = sender.join();
        assert!(
            answer.starts_with("-ERR Protocol error: ") && answer.ends_with("\r\n"),
            "{what}: answered {answer:?}"
        );
        assert_eq!(answer.matches("\r\n").count(), 1, "{what}: {answer:?}");
        // Meanwhile the well-behaved connection is served as before.
        assert!(bystander.call(&["NEXTID"]).int() > 0, "after {what}");
    }

    let (answer, took) = slow.join().unwrap();
    assert!(
        answer.starts_with("-ERR Protocol error: request not completed within 5s"),
        "slowloris: {answer:?}"
    );
    assert!(
        took < Duration::from_secs(8),
        "slowloris held on for {took:?}"
    );
    assert!(bystander.call(&["NEXTID"]).int() > 0);
}

#[test]
fn redis_cli_gets_an_id() {
    let Ok(version) = Command::new("redis-cli").arg("--version").output() else {
        eprintln!("redis-cli is not installed (scripts/test installs redis-tools); skipped");
        return;
    };
    assert!(version.status.success());
    let node = Node::start(&[]);
    let port = node.resp.port().to_string();
    let run = |args: &[&str]| {
        let output = Command::new("timeout")
            .arg("10")
            .arg("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let id: u64 = run(&["NEXTID"]).trim().parse().unwrap();
    assert!(id > 0);
    let ids = run(&["NEXTIDS", "3"]);
    assert_eq!(ids.lines().count(), 3, "{ids}");
    assert_eq!(run(&["PING"]).trim(), "PONG");
    // RESP3 through redis-cli's own HELLO.
    let decoded = run(&["-3", "DECODE", &id.to_string()]);
    assert!(decoded.contains("datacenter"), "{decoded}");
}
