//! # snowdrift-model
//!
//! Holds no code of its own: its test `tests/model/` is an exhaustive stateright model of the
//! window protocol (issue 9 §2), built on `snowdrift-coordination`'s decision code, with the
//! mutants that show it can fail. A crate of its own so that the model and the checker can be
//! built optimized without slowing any other crate's build. Run it with
//! `cargo test -p snowdrift-model --test model -- --nocapture`; `docs/PROTOCOL.md` ("The
//! model") says what it checks, `docs/TESTING.md` its bounds, states and times.
