//! The user service for messaging: whether users exist and their summaries (handle,
//! display name, avatar), through the kit's `UserDirectory` with this service's own
//! credential. The local replica built from user events is `store::user_replica`.

use std::time::Duration;

use tribe_kit::auth::{KeyPair, ServiceCredential};
pub use tribe_kit::peers::UserDirectory as UserClient;

use crate::policy::SERVICE_NAME;

/// A lazily connected directory at `url` (http://127.0.0.1:50051), signing with `key`.
pub fn connect(url: &str, key: KeyPair, issuer: &str) -> anyhow::Result<UserClient> {
    let credential = ServiceCredential::new(SERVICE_NAME, Some(key), issuer);
    UserClient::new(url, credential, Duration::from_secs(5))
}
