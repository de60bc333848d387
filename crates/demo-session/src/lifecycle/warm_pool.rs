//! A warm pool that sizes itself: per account type, the target follows the arrival rate.
//!
//! The pool must cover the arrivals that come while claimed slots are being replaced: an
//! arrival finds the pool holding `P` minus the `N` claims of the last refill time `T`, so
//! it misses when `N ≥ P`. Arrivals are close to a Poisson process, so `N` is Poisson with
//! mean `λT`, and the target is the smallest `P` with `P(N ≤ P − 1) ≥ 0.99` — one more
//! than the 99th percentile of `N` — within `DEMO_WARM_POOL_MIN..=DEMO_WARM_POOL_MAX`.
//! (Sizing for `P(N ≤ P)` instead left the pool one slot short: the campaign simulator,
//! `benches/campaign.rs`, counted the misses.) `λ` is the higher of a fast and a slow
//! exponentially weighted rate (`pool::arrival_rates`: grows within seconds of a rise,
//! shrinks over minutes when demand falls); `T` is measured: an exponentially weighted
//! average of this process's refills (a clone in-process takes tens of milliseconds, a
//! Kubernetes Job seconds, and the pool is sized accordingly).
//!
//! Several replicas stay correct: the rate is read from the shared table, slots are
//! reserved under a per-type advisory lock (`pool::reserve`), surplus slots are locked
//! with `SKIP LOCKED` before removal, and claims take slots with `SKIP LOCKED`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bakery_config::demo::AccountType;

use crate::pool::ArrivalRate;
use crate::settings::WarmPoolSizing;

/// The share of refill windows the pool should cover without a miss.
pub const COVERED: f64 = 0.99;

/// The refill time assumed before one was measured.
const FIRST_REFILL_GUESS: Duration = Duration::from_millis(500);

/// How much a new measurement moves the refill-time average.
const REFILL_WEIGHT: f64 = 0.2;

/// How long a computed target is reused before the rate is read again: the refiller may
/// wake after every claim, and the rate query reads minutes of arrivals.
pub const TARGET_TTL: Duration = Duration::from_secs(1);

/// The pool's sizing state in one process.
pub struct PoolSizing {
    bounds: WarmPoolSizing,
    state: Mutex<SizingState>,
}

struct SizingState {
    refill_secs: f64,
    measured: bool,
    /// Per account type: the last target, the rate it came from, when.
    targets: HashMap<AccountType, (u32, ArrivalRate, Instant)>,
}

impl PoolSizing {
    pub fn new(bounds: WarmPoolSizing) -> Self {
        PoolSizing {
            bounds,
            state: Mutex::new(SizingState {
                refill_secs: FIRST_REFILL_GUESS.as_secs_f64(),
                measured: false,
                targets: HashMap::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SizingState> {
        // the state is plain numbers: a panic elsewhere cannot leave it inconsistent
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A refill of `slots` slots took `took` (all of them, cloned one after another or by
    /// one Job): the time one slot takes to come back.
    pub fn observe_refill(&self, took: Duration, slots: usize) {
        if slots == 0 {
            return;
        }
        let per_slot = took.as_secs_f64() / slots as f64;
        let mut state = self.state();
        state.refill_secs = if state.measured {
            (1.0 - REFILL_WEIGHT) * state.refill_secs + REFILL_WEIGHT * per_slot
        } else {
            per_slot
        };
        state.measured = true;
    }

    /// Seconds one slot takes to refill (the average so far).
    pub fn refill_secs(&self) -> f64 {
        self.state().refill_secs
    }

    /// The last target of `account` if it is younger than [`TARGET_TTL`].
    pub fn fresh_target(&self, account: AccountType) -> Option<u32> {
        let state = self.state();
        state
            .targets
            .get(&account)
            .filter(|(_, _, at)| at.elapsed() < TARGET_TTL)
            .map(|(t, _, _)| *t)
    }

    /// The target for `rate`, remembered for `account`.
    pub fn size_for(&self, account: AccountType, rate: ArrivalRate) -> u32 {
        let target = target(self.bounds, rate.sizing(), self.refill_secs());
        self.state()
            .targets
            .insert(account, (target, rate, Instant::now()));
        target
    }

    /// The last target and rate of `account` (the minimum before any was computed).
    pub fn current(&self, account: AccountType) -> (u32, ArrivalRate) {
        self.state()
            .targets
            .get(&account)
            .map_or((self.bounds.min, ArrivalRate::default()), |(t, r, _)| {
                (*t, *r)
            })
    }

    pub fn bounds(&self) -> WarmPoolSizing {
        self.bounds
    }
}

/// The pool size that serves [`COVERED`] of arrivals from the pool at `rate` sessions a
/// second when one slot takes `refill_secs` to come back, within `bounds`.
pub fn target(bounds: WarmPoolSizing, rate: f64, refill_secs: f64) -> u32 {
    let mean = (rate.max(0.0) * refill_secs.max(0.0)).min(f64::from(bounds.max) * 4.0);
    if mean <= 0.0 {
        return bounds.min;
    }
    poisson_quantile(mean, COVERED, bounds.max)
        .saturating_add(1)
        .clamp(bounds.min, bounds.max)
}

/// The smallest `k ≤ cap` with `P(N ≤ k) ≥ p` for `N` Poisson with `mean` (`cap` if none).
pub fn poisson_quantile(mean: f64, p: f64, cap: u32) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    // P(N = 0) = e^−mean, then P(N = k) = P(N = k − 1) · mean / k
    let mut term = (-mean).exp();
    let mut cumulative = term;
    let mut k = 0;
    while cumulative < p && k < cap {
        k += 1;
        term *= mean / f64::from(k);
        cumulative += term;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: WarmPoolSizing = WarmPoolSizing { min: 1, max: 50 };

    #[test]
    fn the_quantile_covers_the_share_asked() {
        assert_eq!(poisson_quantile(0.0, 0.99, 50), 0);
        // mean 1: P(N ≤ 3) = 0.981, P(N ≤ 4) = 0.996
        assert_eq!(poisson_quantile(1.0, 0.99, 50), 4);
        // mean 10: the 99th percentile is 18
        assert_eq!(poisson_quantile(10.0, 0.99, 50), 18);
        assert_eq!(poisson_quantile(1000.0, 0.99, 50), 50);
    }

    #[test]
    fn the_target_follows_the_rate_within_its_bounds() {
        // no demand: the minimum
        assert_eq!(target(BOUNDS, 0.0, 0.05), 1);
        assert_eq!(target(WarmPoolSizing { min: 0, max: 5 }, 0.0, 0.05), 0);
        // 2 arrivals/s, a 50 ms in-process clone: λT = 0.1; an arrival misses only when
        // two came within one refill: P(N ≤ 1) = 0.995, so two slots
        assert_eq!(target(BOUNDS, 2.0, 0.05), 2);
        // 10 arrivals/s: λT = 0.5, P(N ≤ 2) = 0.986, P(N ≤ 3) = 0.998
        assert_eq!(target(BOUNDS, 10.0, 0.05), 4);
        // the same demand with 5 s Kubernetes Jobs: λT = 10, 99th percentile 18
        assert_eq!(target(BOUNDS, 2.0, 5.0), 19);
        // a burst beyond what the bounds allow
        assert_eq!(target(BOUNDS, 500.0, 5.0), 50);
        assert_eq!(target(WarmPoolSizing::fixed(3), 500.0, 5.0), 3);
        assert_eq!(target(WarmPoolSizing::fixed(0), 2.0, 5.0), 0);
    }

    #[test]
    fn the_refill_time_is_a_weighted_average_of_measurements() {
        let sizing = PoolSizing::new(BOUNDS);
        assert!((sizing.refill_secs() - 0.5).abs() < 1e-9);
        sizing.observe_refill(Duration::from_millis(300), 10);
        assert!((sizing.refill_secs() - 0.03).abs() < 1e-9);
        sizing.observe_refill(Duration::from_millis(130), 1);
        assert!((sizing.refill_secs() - 0.05).abs() < 1e-9);
        sizing.observe_refill(Duration::from_secs(1), 0);
        assert!((sizing.refill_secs() - 0.05).abs() < 1e-9);
    }
}
