//! `churn-score`: parse flags → config → score::run (or serve::run) → exit code.

use churn::cli::{ScoreArgs, ScoreCommand};
use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the service allocates and frees small buffers on every
/// request, often on another thread than the one that made them; glibc's
/// allocator then takes the other arena's lock.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    churn::runtime::init();
    let mut args = ScoreArgs::parse();
    let result = match args.command.take() {
        Some(ScoreCommand::Serve(a)) => a
            .resolve()
            .and_then(|(cfg, serve)| churn::serve::run(&cfg, &serve)),
        None => args
            .resolve()
            .and_then(|cfg| churn::score::run(&cfg))
            .map(|_| ()),
    };
    churn::exit_code(result)
}
