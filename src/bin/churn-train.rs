//! `churn-train`: parse flags → config → train::run → exit code.

use clap::Parser;
use churn::cli::{TrainCli, TrainCommand};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = TrainCli::parse();
    let result = match cli.command {
        Some(TrainCommand::Generate(g)) => churn::synth::generate(&g.out, g.rows, g.seed, !g.no_label),
        Some(TrainCommand::Holdout(h)) => h.args.resolve().and_then(|cfg| {
            for r in churn::train::holdout(&cfg, &h.test)? {
                println!("{}", serde_json::to_string(&r).map_err(|e| churn::Error::Model(e.to_string()))?);
            }
            Ok(())
        }),
        None => cli.args.resolve().and_then(|cfg| churn::train::run(&cfg).map(|_| ())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
