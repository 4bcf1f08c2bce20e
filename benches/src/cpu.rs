//! CPU time consumed by the calling thread, from `getrusage(RUSAGE_THREAD)`.
//!
//! The sustained-rate program compares it with wall time: the core sleeps (never spins) when a
//! tick's sequence is used up, so a saturated generator should burn far less CPU than wall
//! time. User and system time are kept apart because sleeping costs system time.

use std::time::Duration;

/// CPU time of the calling thread so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThreadCpu {
    /// Time spent in user mode.
    pub user: Duration,
    /// Time spent in the kernel on the thread's behalf.
    pub system: Duration,
}

impl ThreadCpu {
    /// Reads the calling thread's CPU time; zero if the call fails (it does not on Linux).
    pub fn now() -> ThreadCpu {
        // SAFETY: `rusage` is plain old data, so all-zero bytes are a valid value, and
        // `getrusage` only writes into the struct we pass, which lives for the whole call.
        #[allow(unsafe_code)]
        let (rc, usage) = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            let rc = libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
            (rc, usage)
        };
        if rc != 0 {
            return ThreadCpu::default();
        }
        ThreadCpu {
            user: timeval(usage.ru_utime),
            system: timeval(usage.ru_stime),
        }
    }

    /// User plus system time.
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// The CPU time spent since `earlier`.
    pub fn since(&self, earlier: &ThreadCpu) -> ThreadCpu {
        ThreadCpu {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_as_cpu_time() {
        // Spin until the thread's CPU clock shows 20 ms, within a generous wall deadline: a
        // fixed 50 ms of wall time got only 14 ms of CPU on a loaded machine, and the question
        // is whether busy work is counted, not how much of a core the machine grants.
        let before = ThreadCpu::now();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut spent = ThreadCpu::default();
        while spent.total() < Duration::from_millis(20) && start.elapsed() < Duration::from_secs(10)
        {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            spent = ThreadCpu::now().since(&before);
        }
        assert!(spent.total() >= Duration::from_millis(20), "{spent:?}");
    }
}
