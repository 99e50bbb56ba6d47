//! `churn-score`: parse flags → config → score::run → exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    churn::runtime::init();
    let args = churn::cli::ScoreArgs::parse();
    match args.resolve().and_then(|cfg| churn::score::run(&cfg)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
