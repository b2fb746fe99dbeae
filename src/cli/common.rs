//! Option groups several command families share.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Json,
}

/// How to open an age escrow.
#[derive(Debug, Args, Clone, Default)]
pub struct IdentityArgs {
    /// Identity file that opens the escrow: age (AGE-SECRET-KEY-1... lines) or an SSH private
    /// key (~/.ssh/id_ed25519, id_rsa); repeatable.
    /// Without it a passphrase escrow asks for its passphrase (or reads SEALSTRAP_PASSPHRASE).
    #[arg(
        short = 'i',
        long = "identity",
        env = "SEALSTRAP_IDENTITY",
        value_name = "FILE"
    )]
    pub identity: Vec<PathBuf>,
}
