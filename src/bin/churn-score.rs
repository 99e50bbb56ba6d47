//! `churn-score`: parse flags → config → score::run (or serve::run) → exit code.

use churn::cli::{ScoreArgs, ScoreCommand};
use clap::Parser;
use std::process::ExitCode;

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
