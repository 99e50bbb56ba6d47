//! The batch pipeline: read + validate → score (two chunks at once) → add
//! up + write, in chunk order. Only aggregates live across chunks (counts,
//! drift bins, the summary, evaluation and migration rows), so memory stays
//! flat in the number of customers.

use super::input;
use super::output::Output;
use super::totals::Totals;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::features::TransformStats;
use crate::progress::Progress;
use crate::scoring::rows::Scored;
use crate::scoring::{explain, offers, scorer};
use std::path::PathBuf;

/// A scored chunk on its way to the writer (`None`: every row rejected).
type Done = (input::Validated, Option<(Scored, TransformStats)>);

/// Score every chunk in a pipeline: read + validate on a thread of its own
/// ([`input::for_each_validated`]) → score, [`SCORING_WINDOW`] chunks at a
/// time, each on a thread of its own → add up + write, in chunk order. The
/// work around the model (features, tiers, playbook, offers ranking) is
/// serial within a chunk; scoring two chunks at once keeps both cores busy
/// through it (measured: ~1.55 of 2 cores busy with one chunk at a time).
/// At most the window's chunks, the one being read and the one being
/// written are in memory. Each chunk's offers summary is added to
/// `offers_summary` in chunk order, so the totals do not depend on which
/// chunk finished first.
pub(super) fn stream(
    (cfg, scorer, offers_summary): (&Config, &scorer::Scorer, &mut offers::OffersSummary),
    parts: &[PathBuf],
    progress: &Progress,
    writer: &mut Output,
    totals: &mut Totals,
) -> Result<()> {
    let (art, offer_model) = (&scorer.artifact, scorer.offers.as_ref());
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Done>(0);
        let sink = scope.spawn(move || -> Result<()> {
            for (v, scored) in rx {
                totals.add(art, &v, scored.as_ref())?;
                if let Some((s, _)) = &scored {
                    writer.write(s, &explain::Reasons::new(art, &v.batch.table))?;
                }
            }
            Ok(())
        });
        let mut scoring = std::collections::VecDeque::new();
        // The oldest chunk in scoring, joined and handed to the writer. A
        // closed channel means the writer stopped on an error, which
        // joining it returns.
        let mut hand_over = |scoring: &mut std::collections::VecDeque<ScopedJoinHandle<_>>| {
            let Some(oldest) = scoring.pop_front() else {
                return Ok(());
            };
            let (done, part): (Done, offers::OffersSummary) = join(oldest)??;
            offers_summary.absorb(part);
            tx.send(done)
                .map_err(|_| Error::Internal("the score writer stopped".into()))
        };
        let mut current = usize::MAX;
        let fed = input::for_each_validated(
            parts,
            art,
            offer_model,
            cfg.data.delimiter,
            cfg.score.chunk_rows,
            |v| {
                if v.part != current {
                    current = v.part;
                    progress.stage(format!("scoring {}", parts[v.part].display()));
                }
                // Tiers fitted on the first chunk must come from the first chunk.
                let first_fits_tiers = scorer.fits_tiers_on_first_chunk();
                scoring.push_back(scope.spawn(move || score_chunk(scorer, v)));
                while scoring.len() >= SCORING_WINDOW || (first_fits_tiers && !scoring.is_empty()) {
                    hand_over(&mut scoring)?;
                }
                Ok(())
            },
        );
        let drained = (|| {
            fed?;
            while !scoring.is_empty() {
                hand_over(&mut scoring)?;
            }
            Ok(())
        })();
        drop(tx);
        let written = join(sink);
        written.and_then(|w| w).and(drained)
    })
}

/// Chunks scored at once (see [`stream`]).
const SCORING_WINDOW: usize = 2;

type ScopedJoinHandle<'s, T> = std::thread::ScopedJoinHandle<'s, T>;

/// A scoring thread's result; its panic as an internal error.
fn join<T>(h: ScopedJoinHandle<'_, T>) -> Result<T> {
    h.join()
        .map_err(|_| Error::Internal("a scoring thread panicked".into()))
}

/// Score one validated chunk; its offers summary on its own.
fn score_chunk(
    scorer: &scorer::Scorer,
    mut v: input::Validated,
) -> Result<(Done, offers::OffersSummary)> {
    let mut offers_summary = offers::OffersSummary::default();
    if v.batch.ids.is_empty() {
        return Ok(((v, None), offers_summary));
    }
    let mut stats = TransformStats::default();
    // The ids move to the scores (the batch keeps its table for drift and reasons).
    let ids = std::mem::take(&mut v.batch.ids);
    let mut scored = scorer.score(&v.batch, ids, &mut stats, &mut offers_summary)?;
    let mut extra = std::mem::take(&mut v.batch.extra);
    extra.append(&mut scored.extra);
    scored.extra = extra;
    Ok(((v, Some((scored, stats))), offers_summary))
}
