//! `churn-train`: parse flags → config → train::run (or a subcommand) → exit code.

use churn::cli::{TrainCli, TrainCommand};
use clap::Parser;
use std::process::ExitCode;

/// Print one JSON object per line (machine-readable subcommand output).
fn json_lines<T: serde::Serialize>(items: &[T]) -> churn::Result<()> {
    let mut text = String::new();
    for item in items {
        text += &serde_json::to_string(item).map_err(|e| churn::Error::format("<stdout>", e))?;
        text.push('\n');
    }
    churn::io::print_stdout(&text)
}

fn main() -> ExitCode {
    churn::runtime::init();
    let cli = TrainCli::parse();
    if let Some(u) = cli.umask {
        churn::io::set_private_umask(u);
    }
    let result = match cli.command {
        Some(TrainCommand::Generate(g)) if g.logs => churn::synth::logs::generate_with(
            &g.out(),
            churn::synth::logs::Spec {
                customers: g.customers.unwrap_or(20_000),
                seed: g.seed,
                calendar: g.calendar,
                months: g.months.map_or(churn::synth::logs::MONTHS, |m| {
                    u32::try_from(m).unwrap_or(u32::MAX)
                }),
            },
        ),
        Some(TrainCommand::Generate(g)) if g.holdings => churn::synth::holdings::generate(
            &g.out(),
            g.customers.unwrap_or(2_500),
            g.months.unwrap_or(churn::synth::holdings::MONTHS),
            g.seed,
            g.dynamics,
        ),
        Some(TrainCommand::Generate(g)) if g.campaign => {
            churn::synth::campaign::generate(&g.out(), g.customers.unwrap_or(20_000), g.seed)
        }
        Some(TrainCommand::Generate(g)) => {
            churn::synth::generate(&g.out(), g.rows, g.seed, !g.no_label)
        }
        Some(TrainCommand::Features(f)) => f.resolve().and_then(|job| {
            let (rows, cols, phases) = churn::train::features::write(&job)?;
            eprintln!("{}: {rows} rows, {cols} columns", job.out.display());
            eprintln!("phases: {phases}");
            Ok(())
        }),
        Some(TrainCommand::Holdout(h)) => h
            .args
            .resolve()
            .and_then(|cfg| json_lines(&churn::train::holdout(&cfg, &h.test)?)),
        Some(TrainCommand::Campaign(c)) => match c.plan {
            Some(churn::cli::CampaignCommand::Plan {
                baseline,
                mde,
                power,
                alpha,
            }) => churn::train::campaign::plan(baseline, mde, power, alpha)
                .and_then(|line| churn::io::print_stdout(&line)),
            None => c
                .resolve()
                .and_then(|job| churn::train::campaign::run(&job).map(|_| ())),
        },
        Some(TrainCommand::Uplift(u)) => u
            .resolve()
            .and_then(|job| churn::train::uplift::run(&job).map(|_| ())),
        Some(TrainCommand::Thresholds(t)) => t
            .resolve()
            .and_then(|job| churn::train::reassess::run(&job).map(|_| ())),
        Some(TrainCommand::Roles(r)) => r
            .args
            .resolve()
            .and_then(|cfg| churn::train::roles::print(&cfg)),
        Some(TrainCommand::Tune(t)) => t.limits().and_then(|(trials, budget)| {
            let cfg = t.args.resolve()?;
            churn::train::tune::run(&cfg, trials, budget).map(|_| ())
        }),
        Some(TrainCommand::Offers(o)) => o
            .resolve()
            .and_then(|job| churn::train::offers::run(&job).map(|_| ())),
        Some(TrainCommand::Compare(c)) => {
            churn::compare::list(&c.dir, c.tolerance).and_then(|rows| {
                if c.json {
                    json_lines(&rows)
                } else {
                    churn::io::print_stdout(&churn::compare::table(&rows))
                }
            })
        }
        None => cli
            .args
            .resolve()
            .and_then(|cfg| churn::train::run(&cfg).map(|_| ())),
    };
    churn::exit_code(result)
}
