//! Readiness: a node is ready when it can issue now, or within the generator's bounded wait.
//! The judgement is a pure function of the node's phase and the generator's own answer
//! ([`snowdrift::IdGenerator::issue_wait`]), which applies the bounds every call applies: the
//! window, the fence, `max_wait`. A state ahead of the clock by borrowed lead or by blocks,
//! as under full-rate load, is ready as long as that wait is within `max_wait`.

use std::time::Duration;

use crate::status::{NodePhase, NotReady};

/// Ready (`Ok`), or which condition failed. `last_error` is the keeper's last coordination
/// error, if its last attempt failed: the cause of a window that ran out.
pub(super) fn judge(
    phase: NodePhase,
    issue: Result<Duration, snowdrift::Error>,
    last_error: Option<&str>,
) -> Result<(), NotReady> {
    match phase {
        NodePhase::Serving => {}
        NodePhase::Reclaiming => {
            return Err(NotReady {
                reason: "reclaiming",
                detail: "the slot was lost or its lease may lapse: fenced, claiming a slot again"
                    .into(),
            })
        }
        NodePhase::Stopped => {
            return Err(NotReady {
                reason: "stopped",
                detail: "the node was shut down".into(),
            })
        }
    }
    issue.map(|_wait| ()).map_err(|e| {
        let detail = match (&e, last_error) {
            (snowdrift::Error::CeilingReached { .. }, Some(cause)) => {
                format!("{e}; the last attempt to extend it failed: {cause}")
            }
            _ => e.to_string(),
        };
        NotReady {
            reason: e.code(),
            detail,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_with_a_bounded_wait_is_ready_and_everything_else_says_why() {
        let wait = Ok(Duration::from_millis(40));
        assert_eq!(judge(NodePhase::Serving, wait.clone(), None), Ok(()));
        assert_eq!(
            judge(NodePhase::Serving, Ok(Duration::ZERO), Some("x")),
            Ok(())
        );
        let reason = |phase, issue| judge(phase, issue, None).unwrap_err().reason;
        assert_eq!(reason(NodePhase::Reclaiming, wait.clone()), "reclaiming");
        assert_eq!(reason(NodePhase::Stopped, wait), "stopped");
        let ceiling = Err(snowdrift::Error::CeilingReached { ceiling: 7 });
        assert_eq!(reason(NodePhase::Serving, ceiling), "ceiling_reached");
        assert_eq!(
            reason(NodePhase::Serving, Err(snowdrift::Error::Fenced)),
            "fenced"
        );
    }
}
