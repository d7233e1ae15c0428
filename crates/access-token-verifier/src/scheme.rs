//! What the API accepts in `Authorization`: the [`Scheme`] a request used, the
//! [`DpopMode`] that decides which schemes are offered, and the algorithms a DPoP
//! proof may use. Shared by [`super::error`] (challenges) and [`super::dpop`]
//! (checks), so neither needs the other's module for them.

use jsonwebtoken::Algorithm;

/// The authorization scheme a request used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    #[default]
    /// `Authorization: Bearer` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP` (RFC 9449).
    Dpop,
}

/// Which schemes the API accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// Bearer only; `Authorization: DPoP` is an unknown scheme.
    Off,
    /// Bearer and DPoP (a DPoP-bound token must still come with its proof).
    #[default]
    Allowed,
    /// DPoP only.
    Required,
}

impl std::str::FromStr for DpopMode {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "allowed" => Ok(Self::Allowed),
            "required" => Ok(Self::Required),
            _ => Err(()),
        }
    }
}

/// Asymmetric algorithms accepted for proofs (what browsers' WebCrypto and
/// Auth0's SDKs use, and the usual server-side choices).
pub const PROOF_ALGORITHMS: &[Algorithm] = &[
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// [`PROOF_ALGORITHMS`] as the `algs` of a `DPoP` challenge.
pub const PROOF_ALGS: &str = "ES256 ES384 EdDSA RS256 PS256";
