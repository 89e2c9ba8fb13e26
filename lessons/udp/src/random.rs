//! A small seeded pseudo-random generator (SplitMix64), so that the relay's faults and the
//! client's jitter can be replayed exactly from a seed. Not for anything secret: its output
//! is predictable by design.

// ANCHOR: random
/// SplitMix64: a 64-bit state advanced by a constant, then mixed. Fast, and good enough to
/// decide which datagram to drop.
#[derive(Debug, Clone)]
pub struct Random {
    state: u64,
}

impl Random {
    pub fn new(seed: u64) -> Self {
        Random { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (0 never, 1 always).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// SplitMix64's output function: every input bit affects every output bit.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
// ANCHOR_END: random

/// A seed for a run that did not ask for one: the clock's nanoseconds.
pub fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5EED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Random::new(7), Random::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Random::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn unit_stays_in_range_and_chance_follows_p() {
        let mut r = Random::new(1);
        let mut hits = 0;
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            if r.chance(0.3) {
                hits += 1;
            }
        }
        assert!((2_700..3_300).contains(&hits), "{hits} of 10000 at p = 0.3");
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
    }
}
