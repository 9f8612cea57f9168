//! GTID sets (MySQL) and GTID states (MariaDB), parsed from and printed to the servers' own text
//! forms, with the partial order "has executed everything the other has".

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid GTID {kind} `{text}`: {reason}")]
pub struct GtidParseError {
    kind: &'static str,
    text: String,
    reason: String,
}

fn gtid_err(kind: &'static str, text: &str, reason: impl Into<String>) -> GtidParseError {
    GtidParseError {
        kind,
        text: text.to_owned(),
        reason: reason.into(),
    }
}

/// A MySQL GTID set such as `3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,…`, normalized: source
/// ids lower-cased, intervals sorted and merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MySqlGtidSet {
    /// Source UUID → disjoint, sorted, non-adjacent closed intervals of transaction numbers.
    sets: BTreeMap<String, Vec<(u64, u64)>>,
}

impl MySqlGtidSet {
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Adds one transaction `uuid:number`.
    pub fn add(&mut self, uuid: &str, number: u64) {
        self.add_interval(uuid.to_ascii_lowercase(), number, number);
    }

    fn add_interval(&mut self, uuid: String, start: u64, end: u64) {
        let intervals = self.sets.entry(uuid).or_default();
        intervals.push((start, end));
        intervals.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
        for &(s, e) in intervals.iter() {
            match merged.last_mut() {
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        *intervals = merged;
    }

    pub fn contains(&self, uuid: &str, number: u64) -> bool {
        self.sets
            .get(&uuid.to_ascii_lowercase())
            .is_some_and(|iv| iv.iter().any(|&(s, e)| s <= number && number <= e))
    }

    /// Whether every transaction of `self` is also in `other`.
    pub fn is_subset(&self, other: &MySqlGtidSet) -> bool {
        self.sets.iter().all(|(uuid, mine)| {
            let Some(theirs) = other.sets.get(uuid) else {
                return false;
            };
            mine.iter()
                .all(|&(s, e)| theirs.iter().any(|&(ts, te)| ts <= s && e <= te))
        })
    }

    pub fn union(&self, other: &MySqlGtidSet) -> MySqlGtidSet {
        let mut out = self.clone();
        for (uuid, intervals) in &other.sets {
            for &(s, e) in intervals {
                out.add_interval(uuid.clone(), s, e);
            }
        }
        out
    }

    /// Set inclusion as an order; `None` when each has transactions the other lacks.
    pub fn partial_cmp_sets(&self, other: &MySqlGtidSet) -> Option<Ordering> {
        match (self.is_subset(other), other.is_subset(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            (false, false) => None,
        }
    }
}

impl FromStr for MySqlGtidSet {
    type Err = GtidParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut set = MySqlGtidSet::default();
        // MySQL prints long sets with newlines after the commas.
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Ok(set);
        }
        for part in compact.split(',') {
            let mut fields = part.split(':');
            let uuid = fields.next().unwrap_or_default();
            if uuid::Uuid::parse_str(uuid).is_err() {
                return Err(gtid_err("set", text, format!("`{uuid}` is not a UUID")));
            }
            let mut any = false;
            for range in fields {
                any = true;
                let (s, e) = match range.split_once('-') {
                    Some((s, e)) => (s, e),
                    None => (range, range),
                };
                let parse = |n: &str| {
                    n.parse::<u64>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| gtid_err("set", text, format!("bad interval `{range}`")))
                };
                let (s, e) = (parse(s)?, parse(e)?);
                if s > e {
                    return Err(gtid_err("set", text, format!("empty interval `{range}`")));
                }
                set.add_interval(uuid.to_ascii_lowercase(), s, e);
            }
            if !any {
                return Err(gtid_err("set", text, format!("`{uuid}` has no interval")));
            }
        }
        Ok(set)
    }
}

impl fmt::Display for MySqlGtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (uuid, intervals)) in self.sets.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(uuid)?;
            for &(s, e) in intervals {
                if s == e {
                    write!(f, ":{s}")?;
                } else {
                    write!(f, ":{s}-{e}")?;
                }
            }
        }
        Ok(())
    }
}

/// A MariaDB GTID state such as `0-1-100,1-2-7`: per replication domain, the last applied GTID
/// (domain-server-sequence).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MariaDbGtidState {
    /// Domain id → (server id, sequence number).
    domains: BTreeMap<u32, (u32, u64)>,
}

impl MariaDbGtidState {
    /// Records `domain-server-seq` as applied.
    pub fn apply(&mut self, domain: u32, server: u32, seq: u64) {
        self.domains.insert(domain, (server, seq));
    }

    pub fn sequence(&self, domain: u32) -> Option<u64> {
        self.domains.get(&domain).map(|&(_, seq)| seq)
    }

    /// Per-domain comparison of sequence numbers; `None` when one state is ahead in one domain
    /// and behind in another.
    pub fn partial_cmp_states(&self, other: &MariaDbGtidState) -> Option<Ordering> {
        let mut result = Ordering::Equal;
        let domains = self.domains.keys().chain(other.domains.keys());
        for d in domains {
            let ord = self.sequence(*d).cmp(&other.sequence(*d));
            result = match (result, ord) {
                (r, Ordering::Equal) => r,
                (Ordering::Equal, o) => o,
                (r, o) if r == o => r,
                _ => return None,
            };
        }
        Some(result)
    }
}

impl FromStr for MariaDbGtidState {
    type Err = GtidParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut state = MariaDbGtidState::default();
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Ok(state);
        }
        for part in compact.split(',') {
            let nums: Vec<&str> = part.split('-').collect();
            let [d, s, q] = nums.as_slice() else {
                return Err(gtid_err(
                    "state",
                    text,
                    format!("`{part}` is not domain-server-seq"),
                ));
            };
            let bad = || gtid_err("state", text, format!("`{part}` has a non-numeric field"));
            let domain = d.parse::<u32>().map_err(|_| bad())?;
            let server = s.parse::<u32>().map_err(|_| bad())?;
            let seq = q.parse::<u64>().map_err(|_| bad())?;
            if state.domains.insert(domain, (server, seq)).is_some() {
                return Err(gtid_err(
                    "state",
                    text,
                    format!("domain {domain} appears twice"),
                ));
            }
        }
        Ok(state)
    }
}

impl fmt::Display for MariaDbGtidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (domain, (server, seq))) in self.domains.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{domain}-{server}-{seq}")?;
        }
        Ok(())
    }
}

// Both serialize as the servers' text forms, so an offset record stays readable and editable
// through the offsets REST endpoint.
macro_rules! serde_as_text {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_text!(MySqlGtidSet);
serde_as_text!(MariaDbGtidState);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B: &str = "4e11fa47-71ca-11e1-9e33-c80aa9429562";

    #[test]
    fn mysql_set_parses_normalizes_and_prints() {
        let set: MySqlGtidSet = format!("{},\n{}:1-3:4:9-10", A.to_uppercase() + ":5-7", B)
            .parse()
            .unwrap();
        assert_eq!(set.to_string(), format!("{A}:5-7,{B}:1-4:9-10"));
        assert!(set.contains(B, 4) && !set.contains(B, 5) && set.contains(A, 6));
    }

    #[test]
    fn mysql_set_rejects_bad_text_naming_it() {
        let bad_texts = [
            "nope:1-2".to_owned(),
            A.to_owned(),
            format!("{A}:0"),
            format!("{A}:5-2"),
            format!("{A}:x"),
        ];
        for bad in bad_texts {
            let err = bad.parse::<MySqlGtidSet>().unwrap_err().to_string();
            assert!(err.contains(&bad), "{err}");
        }
        assert!("".parse::<MySqlGtidSet>().unwrap().is_empty());
    }

    #[test]
    fn mysql_set_order_is_inclusion() {
        let small: MySqlGtidSet = format!("{A}:1-5").parse().unwrap();
        let big: MySqlGtidSet = format!("{A}:1-9,{B}:1").parse().unwrap();
        let other: MySqlGtidSet = format!("{B}:1-2").parse().unwrap();
        assert_eq!(small.partial_cmp_sets(&big), Some(Ordering::Less));
        assert_eq!(big.partial_cmp_sets(&small), Some(Ordering::Greater));
        assert_eq!(small.partial_cmp_sets(&other), None);
    }

    #[test]
    fn mariadb_state_parses_and_compares_per_domain() {
        let a: MariaDbGtidState = "0-1-100,1-2-7".parse().unwrap();
        let b: MariaDbGtidState = "0-1-101,1-2-7".parse().unwrap();
        let c: MariaDbGtidState = "0-1-99,1-2-8".parse().unwrap();
        assert_eq!(a.to_string(), "0-1-100,1-2-7");
        assert_eq!(a.partial_cmp_states(&b), Some(Ordering::Less));
        assert_eq!(b.partial_cmp_states(&a), Some(Ordering::Greater));
        assert_eq!(a.partial_cmp_states(&c), None);
        assert!("0-1".parse::<MariaDbGtidState>().is_err());
        assert!("0-1-2,0-3-4".parse::<MariaDbGtidState>().is_err());
    }

    fn arb_set() -> impl Strategy<Value = MySqlGtidSet> {
        prop::collection::vec((prop::bool::ANY, 1u64..50, 0u64..5), 0..6).prop_map(|items| {
            let mut set = MySqlGtidSet::default();
            for (which, start, len) in items {
                let uuid = if which { A } else { B };
                set.add_interval(uuid.to_owned(), start, start + len);
            }
            set
        })
    }

    proptest! {
        #[test]
        fn mysql_set_text_round_trip(set in arb_set()) {
            prop_assert_eq!(set.to_string().parse::<MySqlGtidSet>().unwrap(), set);
        }

        #[test]
        fn mysql_union_is_an_upper_bound(a in arb_set(), b in arb_set()) {
            let u = a.union(&b);
            prop_assert!(a.is_subset(&u) && b.is_subset(&u));
            prop_assert_eq!(a.partial_cmp_sets(&a), Some(Ordering::Equal));
            prop_assert_eq!(
                a.partial_cmp_sets(&b).map(Ordering::reverse),
                b.partial_cmp_sets(&a)
            );
        }
    }
}
