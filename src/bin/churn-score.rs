//! `churn-score`: parse flags → config → score::run (or serve::run) → exit code.

use churn::cli::{ScoreArgs, ScoreCommand};
use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: churn::runtime::Allocator = churn::runtime::Allocator;

fn main() -> ExitCode {
    let mut args = ScoreArgs::parse();
    if let Some(u) = args.umask {
        churn::io::set_private_umask(u);
    }
    let result = match args.command.take() {
        // The service runs on mimalloc (see churn::runtime::Allocator).
        Some(ScoreCommand::Serve(a)) => {
            churn::runtime::use_service_allocator();
            a.resolve()
                .and_then(|(cfg, serve)| churn::serve::run(&cfg, &serve))
        }
        None => {
            churn::runtime::init();
            args.resolve()
                .and_then(|cfg| churn::score::run(&cfg))
                .map(|_| ())
        }
    };
    churn::exit_code(result)
}
