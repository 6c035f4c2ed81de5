//! The account-level settings of Kinesis (DescribeAccountSettings / UpdateAccountSettings):
//! today AWS has one, the minimum throughput billing commitment.
//!
//! AWS documents (`MinimumThroughputBillingCommitmentInput`): a commitment lasts at least 24
//! hours; disabling it earlier schedules the end at the earliest allowed end time
//! (`ENABLED_UNTIL_EARLIEST_ALLOWED_END`); enabling it again before then cancels the pending
//! end. Where AWS is silent the emulator chooses (docs/emulator.md, operations table): an
//! account starts `DISABLED` without timestamps; enabling an enabled commitment and disabling a
//! disabled or already ending one change nothing; a commitment that ended reports `DISABLED`
//! with the `StartedAt` and `EndedAt` of the last commitment; enabling after that starts a new
//! one.
//!
//! Invariants: the stored state is the commitment's start and, once disabling was asked for,
//! its end; the status is derived from them at `now`, so a scheduled end takes effect at its
//! time without a tick, and replaying the logged [`AccountMutation`]s at their recorded times
//! rebuilds the same state.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;

/// The minimum duration of a commitment.
pub(crate) const MIN_COMMITMENT_MS: Millis = 24 * 3_600_000;

/// The account's settings, as the store keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The current or last minimum throughput billing commitment; `None` if never enabled.
    commitment: Option<Commitment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Commitment {
    started_ms: Millis,
    /// When it ends or ended; `None` while it runs without an end asked for.
    ends_ms: Option<Millis>,
}

/// A change to the account's settings, with everything needed to replay it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AccountMutation {
    /// UpdateAccountSettings' `MinimumThroughputBillingCommitment.Status`.
    MinimumThroughputBillingCommitment {
        /// `ENABLED` (true) or `DISABLED` (false).
        enabled: bool,
    },
}

/// The status of the commitment, as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentStatus {
    /// `ENABLED`.
    Enabled,
    /// `DISABLED`.
    Disabled,
    /// `ENABLED_UNTIL_EARLIEST_ALLOWED_END`: disabling was asked for before the minimum
    /// duration was over.
    EnabledUntilEarliestAllowedEnd,
}

impl CommitmentStatus {
    /// AWS's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
            Self::EnabledUntilEarliestAllowedEnd => "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
        }
    }
}

/// The commitment as DescribeAccountSettings shows it at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitmentView {
    /// Status.
    pub status: CommitmentStatus,
    /// When the current or last commitment started.
    pub started_ms: Option<Millis>,
    /// When the last commitment ended (only once it has).
    pub ended_ms: Option<Millis>,
    /// The earliest time the running commitment can end (only while it runs).
    pub earliest_allowed_end_ms: Option<Millis>,
}

impl AccountSettings {
    /// The commitment at `now`.
    pub fn commitment(&self, now: Millis) -> CommitmentView {
        let Some(c) = self.commitment else {
            return CommitmentView {
                status: CommitmentStatus::Disabled,
                started_ms: None,
                ended_ms: None,
                earliest_allowed_end_ms: None,
            };
        };
        let earliest = c.started_ms + MIN_COMMITMENT_MS;
        let (status, ended_ms, earliest_allowed_end_ms) = match c.ends_ms {
            None => (CommitmentStatus::Enabled, None, Some(earliest)),
            Some(end) if now < end => (
                CommitmentStatus::EnabledUntilEarliestAllowedEnd,
                None,
                Some(earliest),
            ),
            Some(end) => (CommitmentStatus::Disabled, Some(end), None),
        };
        CommitmentView {
            status,
            started_ms: Some(c.started_ms),
            ended_ms,
            earliest_allowed_end_ms,
        }
    }

    /// Applies `mutation` at `now` (it cannot fail).
    pub(super) fn apply(&mut self, now: Millis, mutation: AccountMutation) {
        let AccountMutation::MinimumThroughputBillingCommitment { enabled } = mutation;
        let status = self.commitment(now).status;
        match (enabled, status, &mut self.commitment) {
            (true, CommitmentStatus::Disabled, slot) => {
                *slot = Some(Commitment {
                    started_ms: now,
                    ends_ms: None,
                });
            }
            (true, CommitmentStatus::EnabledUntilEarliestAllowedEnd, Some(c)) => c.ends_ms = None,
            (false, CommitmentStatus::Enabled, Some(c)) => {
                c.ends_ms = Some(now.max(c.started_ms + MIN_COMMITMENT_MS));
            }
            // Enabling what runs, disabling what ends or ended: nothing changes.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = 1_700_000_000_000;

    fn set(settings: &mut AccountSettings, now: Millis, enabled: bool) -> CommitmentView {
        settings.apply(
            now,
            AccountMutation::MinimumThroughputBillingCommitment { enabled },
        );
        settings.commitment(now)
    }

    #[test]
    fn an_early_disable_ends_the_commitment_at_its_earliest_allowed_end() {
        let mut s = AccountSettings::default();
        assert_eq!(s.commitment(T).status, CommitmentStatus::Disabled);
        let on = set(&mut s, T, true);
        assert_eq!(on.status, CommitmentStatus::Enabled);
        assert_eq!(on.earliest_allowed_end_ms, Some(T + MIN_COMMITMENT_MS));
        let ending = set(&mut s, T + 1000, false);
        assert_eq!(
            ending.status,
            CommitmentStatus::EnabledUntilEarliestAllowedEnd
        );
        let ended = s.commitment(T + MIN_COMMITMENT_MS);
        assert_eq!(ended.status, CommitmentStatus::Disabled);
        assert_eq!(ended.ended_ms, Some(T + MIN_COMMITMENT_MS));
        assert_eq!(ended.started_ms, Some(T));
    }

    #[test]
    fn enabling_again_before_the_end_cancels_it_and_after_starts_anew() {
        let mut s = AccountSettings::default();
        set(&mut s, T, true);
        set(&mut s, T + 1000, false);
        let again = set(&mut s, T + 2000, true);
        assert_eq!(again.status, CommitmentStatus::Enabled);
        assert_eq!(again.started_ms, Some(T));
        // After the minimum duration a disable takes effect at once.
        let off = set(&mut s, T + MIN_COMMITMENT_MS + 5, false);
        assert_eq!(off.status, CommitmentStatus::Disabled);
        assert_eq!(off.ended_ms, Some(T + MIN_COMMITMENT_MS + 5));
        let new = set(&mut s, T + MIN_COMMITMENT_MS + 10, true);
        assert_eq!(new.started_ms, Some(T + MIN_COMMITMENT_MS + 10));
        assert_eq!(new.ended_ms, None);
    }
}
