//! `churn-score`: parse flags → config → score::run → exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    churn::runtime::init();
    let args = churn::cli::ScoreArgs::parse();
    churn::exit_code(
        args.resolve()
            .and_then(|cfg| churn::score::run(&cfg))
            .map(|_| ()),
    )
}
