//! Counting a ward: the midnight census, occupancy, length of stay, and the bed days a
//! stay is charged — by the rule the hospital chose for the day of admission and the day
//! of discharge.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

coded!(
    /// Which days of a stay are charged a bed day.
    pub enum BedDayRule {
        /// One day for each midnight spent in a bed (the census rule): the day of
        /// admission counts, the day of discharge does not; a stay that sees no
        /// midnight is charged one day.
        Midnight,
        /// Every calendar day touched by the stay, the day of admission and the day of
        /// discharge both.
        CalendarDay,
    }
);

/// One bed a stay lay in, from when until when (open while the patient is in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub bed_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

impl Segment {
    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && self.end.is_none_or(|e| at < e)
    }
}

/// The bed days of a stay up to `upto` (now, or the moment it ended): each charged day
/// with the bed charged for it. `midnight_after(day)` is the hospital's midnight that ends
/// `day`, in UTC; `local_date` the hospital's date of a moment. `ended` says the stay is
/// over (its last day is then settled by the rule; while it goes on, only days already
/// complete are charged).
pub fn bed_days(
    segments: &[Segment],
    rule: BedDayRule,
    upto: DateTime<Utc>,
    ended: bool,
    midnight_after: impl Fn(NaiveDate) -> DateTime<Utc>,
    local_date: impl Fn(DateTime<Utc>) -> NaiveDate,
) -> Vec<(NaiveDate, Uuid)> {
    let Some(first) = segments.iter().map(|s| s.start).min() else { return Vec::new() };
    let last_day = local_date(upto);
    let mut days = Vec::new();
    let mut day = local_date(first);
    while day <= last_day {
        let midnight = midnight_after(day);
        let in_bed_at = |at: DateTime<Utc>| segments.iter().find(|s| s.holds(at)).map(|s| s.bed_id);
        match rule {
            BedDayRule::Midnight => {
                // In a bed across the midnight that ends the day: that bed is charged.
                if midnight <= upto
                    && let Some(bed) = in_bed_at(midnight)
                {
                    days.push((day, bed));
                }
            }
            BedDayRule::CalendarDay => {
                let complete = midnight <= upto;
                if complete || ended {
                    let at = if complete {
                        midnight - chrono::Duration::seconds(1)
                    } else {
                        upto - chrono::Duration::seconds(1)
                    };
                    let bed = in_bed_at(at).or_else(|| {
                        segments
                            .iter()
                            .filter(|s| local_date(s.start) <= day)
                            .max_by_key(|s| s.start)
                            .map(|s| s.bed_id)
                    });
                    if let Some(bed) = bed {
                        days.push((day, bed));
                    }
                }
            }
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    if rule == BedDayRule::Midnight
        && ended
        && days.is_empty()
        && let Some(s) = segments.iter().min_by_key(|s| s.start)
    {
        days.push((local_date(s.start), s.bed_id));
    }
    days
}

/// Occupied beds as a share of the beds that could be used, in per cent (one decimal).
pub fn occupancy_percent(occupied: usize, usable: usize) -> f64 {
    if usable == 0 {
        return 0.0;
    }
    (occupied as f64 * 1000.0 / usable as f64).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    // UTC as the hospital's zone, for the arithmetic.
    fn midnight(day: NaiveDate) -> DateTime<Utc> {
        day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc()
    }
    fn local(t: DateTime<Utc>) -> NaiveDate {
        t.date_naive()
    }

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    #[test]
    fn the_midnight_rule_counts_midnights_in_the_bed_held_at_each() {
        // In A from the 1st 10:00, moved to B on the 2nd 15:00, left the 4th 11:00.
        let stay = [
            Segment { bed_id: A, start: utc("2026-11-01T10:00:00Z"), end: Some(utc("2026-11-02T15:00:00Z")) },
            Segment { bed_id: B, start: utc("2026-11-02T15:00:00Z"), end: Some(utc("2026-11-04T11:00:00Z")) },
        ];
        let days = bed_days(&stay, BedDayRule::Midnight, utc("2026-11-04T11:00:00Z"), true, midnight, local);
        assert_eq!(days, vec![(d("2026-11-01"), A), (d("2026-11-02"), B), (d("2026-11-03"), B)]);
        let calendar =
            bed_days(&stay, BedDayRule::CalendarDay, utc("2026-11-04T11:00:00Z"), true, midnight, local);
        assert_eq!(calendar.len(), 4, "admission and discharge days both: {calendar:?}");
        assert_eq!(calendar[3], (d("2026-11-04"), B));
    }

    #[test]
    fn a_day_case_is_one_day_and_an_open_stay_only_complete_days() {
        let day_case = [Segment {
            bed_id: A,
            start: utc("2026-11-01T08:00:00Z"),
            end: Some(utc("2026-11-01T18:00:00Z")),
        }];
        assert_eq!(
            bed_days(&day_case, BedDayRule::Midnight, utc("2026-11-01T18:00:00Z"), true, midnight, local),
            vec![(d("2026-11-01"), A)]
        );
        assert_eq!(
            bed_days(&day_case, BedDayRule::CalendarDay, utc("2026-11-01T18:00:00Z"), true, midnight, local),
            vec![(d("2026-11-01"), A)]
        );
        let open = [Segment { bed_id: A, start: utc("2026-11-01T08:00:00Z"), end: None }];
        assert_eq!(
            bed_days(&open, BedDayRule::Midnight, utc("2026-11-01T23:00:00Z"), false, midnight, local),
            vec![]
        );
        assert_eq!(
            bed_days(&open, BedDayRule::CalendarDay, utc("2026-11-02T09:00:00Z"), false, midnight, local),
            vec![(d("2026-11-01"), A)]
        );
        assert_eq!(
            bed_days(&open, BedDayRule::Midnight, utc("2026-11-03T09:00:00Z"), false, midnight, local).len(),
            2
        );
    }

    #[test]
    fn occupancy_is_a_share_of_usable_beds() {
        assert_eq!(occupancy_percent(7, 12), 58.3);
        assert_eq!(occupancy_percent(0, 0), 0.0);
    }
}
