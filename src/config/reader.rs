//! Reads typed values out of Debezium's flat map, recording a problem per bad key.

use std::collections::BTreeMap;
use std::fmt;

use regex::{Regex, RegexBuilder};

use super::problems::ConfigErrors;

/// Reads typed values out of the map, recording a problem per bad key.
pub(super) struct Reader<'a> {
    pub(super) map: &'a BTreeMap<String, String>,
    pub(super) problems: ConfigErrors,
}

impl<'a> Reader<'a> {
    pub(super) fn get(&self, key: &str) -> Option<&'a str> {
        self.map.get(key).map(|v| v.trim())
    }

    pub(super) fn required(&mut self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                self.problems.push(key, "is required");
                None
            }
        }
    }

    pub(super) fn number<T: std::str::FromStr + PartialOrd + fmt::Display + Copy>(
        &mut self,
        key: &str,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let Some(text) = self.get(key) else {
            return default;
        };
        match text.parse::<T>() {
            Ok(v) if v >= min && v <= max => v,
            // A whole number too large for the type is out of range too, not malformed.
            _ if text.parse::<i128>().is_ok() => {
                self.problems
                    .push(key, format!("`{text}` is out of range {min}–{max}"));
                default
            }
            _ => {
                self.problems
                    .push(key, format!("`{text}` is not a whole number"));
                default
            }
        }
    }

    pub(super) fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                self.problems
                    .push(key, format!("`{other}` is not true or false"));
                default
            }
        }
    }

    pub(super) fn choice<T: Copy>(&mut self, key: &str, options: &[(&str, T)], default: T) -> T {
        let Some(text) = self.get(key) else {
            return default;
        };
        let lower = text.to_ascii_lowercase();
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == lower) {
            return *v;
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        self.problems
            .push(key, format!("`{text}` is not one of: {}", names.join(", ")));
        default
    }

    pub(super) fn patterns(&mut self, key: &str) -> Vec<Regex> {
        let Some(text) = self.get(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pattern in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match RegexBuilder::new(&format!("^(?:{pattern})$"))
                .case_insensitive(true)
                .build()
            {
                Ok(r) => out.push(r),
                Err(e) => self
                    .problems
                    .push(key, format!("`{pattern}` is not a regular expression: {e}")),
            }
        }
        out
    }

    /// Debezium refuses an include list and an exclude list of the same kind together.
    pub(super) fn exclusive(&mut self, include: &str, exclude: &str) {
        if self.get(include).is_some() && self.get(exclude).is_some() {
            self.problems
                .push(exclude, format!("cannot be used together with `{include}`"));
        }
    }
}
