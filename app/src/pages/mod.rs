//! One module per route.

pub mod callback;
pub mod external_api;
pub mod home;
pub mod not_found;
pub mod profile;
