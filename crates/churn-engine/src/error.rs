//! The engine's own errors: a hyperparameter that cannot grow a model
//! (naming its configuration key) or a fit that cannot proceed. The
//! application maps them onto its error type.

/// What can go wrong in the engine.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A hyperparameter is out of range (the message names its key).
    #[error("configuration: {0}")]
    Config(String),
    /// A model could not be fitted or used.
    #[error("model: {0}")]
    Model(String),
}

pub type Result<T> = std::result::Result<T, Error>;
