//! Progress on stderr: stage lines and a bar while models fit; silent with `-q`.
//! Never on stdout, which scoring may use for data.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Stage lines and progress bars, or nothing when quiet.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress { quiet }
    }

    /// One line about what is happening now.
    pub fn stage(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("[churn] {}", msg.as_ref());
        }
    }

    /// A warning line: shown even when quiet (something the user must know).
    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("[churn] warning: {}", msg.as_ref());
    }

    /// A bar of `len` steps labelled `name` (hidden when quiet or not a terminal).
    pub fn bar(&self, name: &str, len: usize) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("[churn] {prefix:>20} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        bar
    }
}

/// Wall-clock seconds of a job's phases, in order (run.json `phases`, the
/// per-phase training benchmark).
#[derive(Debug, Clone)]
pub struct Phases {
    since: std::time::Instant,
    pub marks: Vec<PhaseTime>,
}

/// One phase and its wall-clock seconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhaseTime {
    pub phase: &'static str,
    pub seconds: f64,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            since: std::time::Instant::now(),
            marks: Vec::new(),
        }
    }
}

impl Phases {
    /// Close phase `phase`: the time since the previous mark (or the start).
    pub fn mark(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.marks.push(PhaseTime {
            phase,
            seconds: (now - self.since).as_secs_f64(),
        });
        self.since = now;
    }

    /// `read 1.2 s, clean 0.4 s, …` for the stage log.
    pub fn summary(&self) -> String {
        self.marks
            .iter()
            .map(|m| format!("{} {:.2} s", m.phase, m.seconds))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
