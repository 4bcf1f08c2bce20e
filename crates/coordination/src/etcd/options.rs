//! Settings of the etcd backend, with documented defaults (the shape of sonyflake's `Settings`).

use std::time::Duration;

use super::secure::{EtcdAuth, EtcdTls};
use crate::error::CoordError;
use crate::MachineChoice;

/// What to do when this node's clock disagrees with the clocks the other live holders advertise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockSkewPolicy {
    /// Log a warning naming the peers and join anyway (the default: while etcd keeps its data,
    /// skew costs time order, never uniqueness, which the persisted window guarantees on its
    /// own; the floor after etcd loses its data assumes clocks within the skew).
    #[default]
    Warn,
    /// Refuse to join when the clock disagrees with most live peers.
    Refuse,
}

impl ClockSkewPolicy {
    /// Every policy, in the order a help text lists them.
    pub const ALL: [ClockSkewPolicy; 2] = [ClockSkewPolicy::Warn, ClockSkewPolicy::Refuse];

    /// The policy's name in settings: `warn` or `refuse`.
    pub const fn name(self) -> &'static str {
        match self {
            ClockSkewPolicy::Warn => "warn",
            ClockSkewPolicy::Refuse => "refuse",
        }
    }
}

impl std::str::FromStr for ClockSkewPolicy {
    type Err = CoordError;
    /// `warn` or `refuse`, in any case.
    fn from_str(text: &str) -> Result<Self, CoordError> {
        ClockSkewPolicy::ALL
            .into_iter()
            .find(|policy| policy.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                CoordError::Config(format!(
                    "clock skew policy must be \"warn\" or \"refuse\", got {text:?}"
                ))
            })
    }
}

/// The longest lease etcd grants (its `MaxLeaseTTL`, 9 000 000 000 s).
const MAX_LEASE_TTL: Duration = Duration::from_secs(9_000_000_000);

/// Settings of the etcd backend.
///
/// ```
/// use std::time::Duration;
/// use snowdrift_coordination::EtcdOptions;
///
/// let options = EtcdOptions::new(vec!["http://127.0.0.1:2379".into()], "prod", 1);
/// assert_eq!(options.lease_ttl, Duration::from_secs(10));
/// assert_eq!(options.safety_margin, Duration::from_secs(2));
/// options.validate()?;
/// # Ok::<(), snowdrift_coordination::CoordError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdOptions {
    /// etcd client URLs, e.g. `http://10.0.0.1:2379`.
    pub endpoints: Vec<String>,
    /// The cluster name: every key lives under `/snowdrift/<cluster>/`.
    pub cluster: String,
    /// The datacenter field of this node's IDs.
    pub datacenter: u64,
    /// The lowest free machine slot (the default), or a fixed one.
    pub machine: MachineChoice,
    /// The lease's time to live (default 10 s). etcd raises values below its minimum (usually
    /// 2 s); the node always uses the TTL etcd granted.
    pub lease_ttl: Duration,
    /// How long before its own lease deadline the node fences itself (default TTL/5). It must
    /// cover the keeper's check interval plus any difference in clock rate with etcd.
    pub safety_margin: Duration,
    /// Bound on establishing a connection to etcd (default 2 s).
    pub connect_timeout: Duration,
    /// Bound on each etcd request (default 2 s).
    pub request_timeout: Duration,
    /// The most this node's clock may differ from the clocks other live holders advertise
    /// before the [`ClockSkewPolicy`] applies (default 2 s). Also a bound the cluster record
    /// promises: the floor after etcd loses its data covers holders' clocks up to this far
    /// ahead of the record's creator, so a node allowing more than the record is refused.
    pub max_clock_skew: Duration,
    /// What to do beyond `max_clock_skew` (default: warn).
    pub skew_policy: ClockSkewPolicy,
    /// TLS towards etcd (default: off).
    pub tls: EtcdTls,
    /// etcd user and password file (default: none).
    pub auth: Option<EtcdAuth>,
}

impl EtcdOptions {
    /// Options with the defaults for everything but where to connect and which slots to use.
    pub fn new(endpoints: Vec<String>, cluster: impl Into<String>, datacenter: u64) -> EtcdOptions {
        let lease_ttl = Duration::from_secs(10);
        EtcdOptions {
            endpoints,
            cluster: cluster.into(),
            datacenter,
            machine: MachineChoice::Auto,
            lease_ttl,
            safety_margin: lease_ttl / 5,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(2),
            max_clock_skew: Duration::from_secs(2),
            skew_policy: ClockSkewPolicy::Warn,
            tls: EtcdTls::default(),
            auth: None,
        }
    }

    /// Sets the lease TTL, and scales what depends on it: the safety margin becomes TTL/5, and
    /// the connect and request timeouts at most TTL/5 (so a hung request cannot use up the
    /// lease before it is retried).
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = snowdrift_coordination::EtcdOptions::new(vec!["127.0.0.1:2379".into()], "c", 0)
    ///     .with_lease_ttl(Duration::from_secs(3));
    /// assert_eq!(options.safety_margin, Duration::from_millis(600));
    /// assert_eq!(options.request_timeout, Duration::from_millis(600));
    /// ```
    pub fn with_lease_ttl(mut self, ttl: Duration) -> EtcdOptions {
        self.lease_ttl = ttl;
        self.safety_margin = ttl / 5;
        self.request_timeout = self.request_timeout.min(ttl / 5);
        self.connect_timeout = self.connect_timeout.min(ttl / 5);
        self
    }

    /// Checks the settings make sense together. An error names the field at fault
    /// ([`CoordError::Setting`]).
    pub fn validate(&self) -> Result<(), CoordError> {
        let invalid = |setting, reason: String| Err(CoordError::Setting { setting, reason });
        if self.endpoints.iter().all(|e| e.trim().is_empty()) {
            return invalid(
                "endpoints",
                "the etcd backend needs at least one endpoint".into(),
            );
        }
        if let Err(err) = super::keys::Keys::new(&self.cluster) {
            let reason = match err {
                CoordError::Config(reason) => reason,
                other => other.to_string(),
            };
            return invalid("cluster", reason);
        }
        if self.lease_ttl < Duration::from_secs(1) || self.lease_ttl.subsec_nanos() != 0 {
            return invalid(
                "lease_ttl",
                format!(
                    "the lease TTL must be a whole number of seconds, at least 1, got {}",
                    humantime::format_duration(self.lease_ttl)
                ),
            );
        }
        if self.lease_ttl > MAX_LEASE_TTL {
            return invalid(
                "lease_ttl",
                format!(
                    "the lease TTL must be at most {} (etcd's largest), got {}",
                    humantime::format_duration(MAX_LEASE_TTL),
                    humantime::format_duration(self.lease_ttl)
                ),
            );
        }
        if self.safety_margin.is_zero()
            || self
                .safety_margin
                .checked_mul(2)
                .is_none_or(|twice| twice > self.lease_ttl)
        {
            return invalid(
                "safety_margin",
                format!(
                    "the safety margin {:?} must be above zero and at most half the lease TTL {:?}",
                    self.safety_margin, self.lease_ttl
                ),
            );
        }
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return invalid(
                "request_timeout",
                "etcd connect and request timeouts must be above zero".into(),
            );
        }
        super::secure::validate(&self.tls, self.auth.as_ref(), &self.endpoints)?;
        Ok(())
    }

    /// Checks the node's window against the lease: it must be shorter than the lease TTL. A
    /// crashed holder's slot is free again a TTL after its last renewal, and its mark is at
    /// most a window ahead of its clock at its last extension, so with a shorter window the
    /// clock has (nearly) passed that mark when another node takes the slot over, and the
    /// takeover does not wait for it. An error names the `window` field.
    ///
    /// ```
    /// use std::time::Duration;
    /// use snowdrift_coordination::{CoordError, EtcdOptions};
    ///
    /// let options = EtcdOptions::new(vec!["http://127.0.0.1:2379".into()], "prod", 1);
    /// options.validate_window(Duration::from_secs(2))?;
    /// let err = options.validate_window(Duration::from_secs(10)).unwrap_err();
    /// assert!(matches!(err, CoordError::Setting { setting: "window", .. }), "{err}");
    /// # Ok::<(), CoordError>(())
    /// ```
    pub fn validate_window(&self, window: Duration) -> Result<(), CoordError> {
        if window < self.lease_ttl {
            return Ok(());
        }
        Err(CoordError::Setting {
            setting: "window",
            reason: format!(
                "with etcd the window must be shorter than the lease TTL (--lease-ttl, {}): a \
                 crashed node's slot is taken over a TTL after its last renewal, and its mark \
                 is at most a window ahead of its clock, so a shorter window has passed by then; \
                 got {}",
                humantime::format_duration(self.lease_ttl),
                humantime::format_duration(window)
            ),
        })
    }

    /// How often the lease is renewed: a third of the time the node may go without renewing
    /// before it fences itself, so that two renewals in a row may fail without a fence.
    pub(crate) fn keepalive_interval(&self, granted_ttl: Duration) -> Duration {
        let usable = granted_ttl.saturating_sub(self.safety_margin);
        (usable / 3).max(Duration::from_millis(50))
    }

    /// The endpoints, trimmed, each with a scheme (`host:port` means `http://host:port`, or
    /// `https://host:port` with TLS).
    pub(crate) fn endpoint_urls(&self) -> Vec<String> {
        let scheme = if self.tls.enabled() { "https" } else { "http" };
        self.endpoints
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                if e.contains("://") {
                    e.to_string()
                } else {
                    format!("{scheme}://{e}")
                }
            })
            .collect()
    }

    /// "etcd cluster \"prod\" at http://…": where this node's slots live, for messages.
    pub(crate) fn scope(&self) -> String {
        format!(
            "etcd cluster {:?} at {}",
            self.cluster,
            self.endpoint_urls().join(",")
        )
    }
}
