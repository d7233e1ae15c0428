//! Components shared by several pages.

pub mod hydration;
pub mod nav;
