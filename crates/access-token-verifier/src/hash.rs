//! SHA-256, through aws-lc-rs (already here for the signatures): it uses the CPU's
//! SHA extensions or vector units where the `sha2` crate's portable code did not,
//! and hashing the token was the largest cost of a cached check (see the README's
//! benchmarks).

use aws_lc_rs::digest;

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_answer() {
        // FIPS 180-2 example "abc".
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = super::sha256(&[b"a", b"bc"])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }
}
