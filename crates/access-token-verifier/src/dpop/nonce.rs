//! Server nonces (RFC 9449 section 8): with nonces on, a proof must carry a
//! `nonce` this API issued recently, which bounds how long a proof made in advance
//! (by malware holding the key for a moment) stays usable.
//!
//! A nonce is `<period>.<tag>`: the number of the current period and an HMAC of it
//! under a secret. Nothing is stored per nonce. The nonce of the current period and
//! of the one before are accepted, so a nonce handed out just before a rotation
//! still works after it. Replicas share the secret through the replay store (Redis).

use std::time::Duration;

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// How long one nonce is handed out (each stays valid up to twice that).
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(300);

/// Issues and checks nonces under one secret.
pub struct Nonces {
    key: hmac::Key,
    period: Duration,
}

impl Nonces {
    /// `secret`: at least 32 random bytes (see [`random_secret`]).
    pub fn new(secret: &[u8], period: Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            period: period.max(Duration::from_secs(1)),
        }
    }

    fn step(&self, now: u64) -> u64 {
        now / self.period.as_secs()
    }

    fn tag(&self, step: u64) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, &step.to_be_bytes()))
    }

    /// The nonce to hand out at `now` (seconds since the epoch).
    pub fn current(&self, now: u64) -> String {
        let step = self.step(now);
        format!("{step}.{}", self.tag(step))
    }

    /// True for this period's nonce and the previous one's.
    pub fn is_valid(&self, nonce: &str, now: u64) -> bool {
        let Some((step, tag)) = nonce.split_once('.') else {
            return false;
        };
        let (Ok(step), Ok(tag)) = (step.parse::<u64>(), URL_SAFE_NO_PAD.decode(tag)) else {
            return false;
        };
        let current = self.step(now);
        // Checked: a made-up step such as u64::MAX must not overflow.
        (step == current || step.checked_add(1) == Some(current))
            // Constant-time comparison of the tag.
            && hmac::verify(&self.key, &step.to_be_bytes(), &tag).is_ok()
    }
}

/// 32 bytes from the system's CSPRNG.
pub fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    // aws-lc's RNG only fails if the OS has no entropy source at all.
    aws_lc_rs::rand::fill(&mut secret).expect("the system random number generator works");
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_secs(300);

    #[test]
    fn a_nonce_stays_valid_across_one_rotation_then_expires() {
        let nonces = Nonces::new(&random_secret(), PERIOD);
        let start = 1_800_000_100 / 300 * 300; // a period boundary
        let nonce = nonces.current(start + 299);
        assert!(nonces.is_valid(&nonce, start + 299));
        // The next period hands out another nonce, and still takes the old one.
        assert_ne!(nonces.current(start + 300), nonce);
        assert!(nonces.is_valid(&nonce, start + 300));
        assert!(nonces.is_valid(&nonce, start + 599));
        assert!(!nonces.is_valid(&nonce, start + 600));
        // Not valid before it was issued either.
        assert!(!nonces.is_valid(&nonce, start - 1));
    }

    #[test]
    fn forged_and_foreign_nonces_are_refused() {
        let now = 1_800_000_000;
        let ours = Nonces::new(&random_secret(), PERIOD);
        let theirs = Nonces::new(&random_secret(), PERIOD);
        assert!(!ours.is_valid(&theirs.current(now), now));
        let nonce = ours.current(now);
        let (step, tag) = nonce.split_once('.').unwrap();
        for forged in [
            format!("{}.{tag}", step.parse::<u64>().unwrap() + 1),
            format!("{step}.{}", &tag[1..]),
            format!("{step}."),
            step.to_owned(),
            String::new(),
            "x.y".into(),
            // The largest step: the "previous period" check must not overflow.
            "18446744073709551615.AA".into(),
            format!("{}.{tag}", u64::MAX),
        ] {
            assert!(!ours.is_valid(&forged, now), "{forged}");
        }
        // Two servers with one secret accept each other's nonces.
        let secret = random_secret();
        let (a, b) = (Nonces::new(&secret, PERIOD), Nonces::new(&secret, PERIOD));
        assert!(b.is_valid(&a.current(now), now));
    }
}
