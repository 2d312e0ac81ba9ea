//! Pieces shared by the integration tests.

pub mod app_provider;
