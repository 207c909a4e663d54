//! Login attempt limits, per client address and per username (in-process, per replica).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Two keyed limiters: one for addresses, one for usernames.
#[derive(Clone)]
pub struct LoginLimiter {
    by_addr: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    by_user: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl LoginLimiter {
    /// `per_minute` attempts per key, refilled evenly, with a burst of the same size.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).expect("nonzero");
        let quota = Quota::per_minute(n).allow_burst(n);
        Self {
            by_addr: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            by_user: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt; on refusal returns the seconds to wait.
    pub fn check(&self, addr: Option<IpAddr>, username: &str) -> Result<(), u64> {
        let now = self.clock.now();
        let wait = |nu: governor::NotUntil<_>| nu.wait_time_from(now).as_secs().max(1);
        if let Some(addr) = addr {
            self.by_addr.check_key(&addr).map_err(wait)?;
        }
        self.by_user.check_key(&username.to_owned()).map_err(wait)?;
        Ok(())
    }

    /// Drops keys that are back at full quota, so memory stays bounded.
    pub fn cleanup(&self) {
        self.by_addr.retain_recent();
        self.by_user.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_past_the_quota_are_refused_per_address_and_per_user() {
        let l = LoginLimiter::new(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            l.check(Some(a), "alice").unwrap();
        }
        assert!(l.check(Some(a), "bob").is_err(), "address exhausted");
        assert!(l.check(Some(b), "alice").is_err(), "user exhausted");
        assert!(l.check(Some(b), "carol").is_ok());
    }
}
