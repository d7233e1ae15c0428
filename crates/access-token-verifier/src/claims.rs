//! [`Claims`]: the verified content of an access token.

use serde_json::{Map, Value};

use super::error::TokenProblem;
use super::AuthError;

const UNSUPPORTED: AuthError = AuthError::InvalidToken(TokenProblem::UnsupportedConfirmation);

/// What a verified access token says. `raw` keeps every claim for handlers that
/// need more than the common ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims {
    /// The user (or client, for machine-to-machine tokens).
    pub sub: String,
    /// From the space-separated `scope` claim.
    pub scopes: Vec<String>,
    /// From Auth0's `permissions` array (RBAC, "Add Permissions in the Access Token").
    pub permissions: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Every claim as the token carried it (for claims this type does not name).
    pub raw: Map<String, Value>,
}

impl Claims {
    /// Builds from a claim set the verifier already checked (`exp` is present and numeric).
    pub(crate) fn from_verified(raw: Map<String, Value>) -> Self {
        let string = |name: &str| raw.get(name).and_then(Value::as_str);
        let scopes = string("scope")
            .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let permissions = raw
            .get("permissions")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            sub: string("sub").unwrap_or_default().to_owned(),
            scopes,
            permissions,
            exp: raw
                .get("exp")
                .and_then(Value::as_f64)
                .map_or(0, |exp| exp as u64),
            raw,
        }
    }

    /// The thumbprint of the key a DPoP-bound token is bound to (`cnf.jkt`).
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.confirmation().ok().flatten()
    }

    /// The token's binding (RFC 7800 `cnf`): `Ok(None)` for an unbound token,
    /// `Ok(Some(jkt))` for one bound to a DPoP key, `Err` for any binding this API
    /// cannot check (a certificate's `x5t#S256`, RFC 8705; a `jwk`; a `jkt` beside
    /// other members; a `cnf` that is not an object). Such a token must be refused,
    /// never taken as a plain Bearer token.
    pub fn confirmation(&self) -> Result<Option<&str>, AuthError> {
        let Some(cnf) = self.raw.get("cnf") else {
            return Ok(None);
        };
        match cnf.as_object() {
            Some(members) if members.len() == 1 => members
                .get("jkt")
                .and_then(Value::as_str)
                .filter(|jkt| !jkt.is_empty())
                .map(Some)
                .ok_or(UNSUPPORTED),
            _ => Err(UNSUPPORTED),
        }
    }

    /// True when `scope` is granted, in `scope` or in `permissions`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .iter()
            .chain(&self.permissions)
            .any(|granted| granted == scope)
    }

    /// True when `scope` is in `permissions` (Auth0 RBAC), whatever `scope` says.
    pub fn has_permission(&self, scope: &str) -> bool {
        self.permissions.iter().any(|granted| granted == scope)
    }

    /// `Ok` when `scope` is granted (with `permissions_only`, by `permissions`
    /// alone), else the 403 answer.
    pub fn require_scope(
        &self,
        scope: &'static str,
        permissions_only: bool,
    ) -> Result<(), AuthError> {
        let granted = if permissions_only {
            self.has_permission(scope)
        } else {
            self.has_scope(scope)
        };
        super::metrics::scope_check(scope, granted);
        if granted {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Claims {
        let Value::Object(map) = value else {
            panic!("object")
        };
        Claims::from_verified(map)
    }

    #[test]
    fn scope_string_and_permissions_array_both_grant() {
        let by_scope = claims(json!({"sub": "u", "exp": 9, "scope": "openid read:messages"}));
        let by_permission = claims(json!({"sub": "u", "exp": 9, "permissions": ["read:messages"]}));
        let neither = claims(json!({"sub": "u", "exp": 9, "scope": "openid read:messagesX"}));
        assert!(by_scope.has_scope("read:messages"));
        assert!(by_permission.has_scope("read:messages"));
        assert!(!neither.has_scope("read:messages"));
        assert_eq!(
            neither.require_scope("read:messages", false),
            Err(AuthError::InsufficientScope("read:messages"))
        );
        // Permissions only (API_PERMISSIONS_ONLY): `scope` no longer counts.
        assert_eq!(by_permission.require_scope("read:messages", true), Ok(()));
        assert_eq!(
            by_scope.require_scope("read:messages", true),
            Err(AuthError::InsufficientScope("read:messages"))
        );
        assert_eq!(by_scope.scopes, ["openid", "read:messages"]);
        assert_eq!(by_scope.exp, 9);
    }
}
