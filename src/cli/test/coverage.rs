//! `--coverage`: which rules (the default among them) no case reached. A rule is reached when
//! it answered some case; one that was only ever skipped (its `when` held, a template could
//! not be filled) is listed apart, since a case did get to it, but it is not reached either:
//! no case shows what it answers.

use super::outcome::Outcome;
use crate::rules::RuleSet;

/// The rules no case reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The rules in force in words ("5 rules and a default").
    pub rules: String,
    /// Answered no case and was skipped in none, in file order.
    pub unreached: Vec<String>,
    /// Skipped in some case, but answered none, in file order.
    pub skipped_only: Vec<String>,
}

impl Coverage {
    pub fn of(rules: &RuleSet, outcomes: &[&Outcome]) -> Self {
        let answered = |name: &str| outcomes.iter().any(|outcome| outcome.rule == name);
        let skipped = |name: &str| {
            outcomes
                .iter()
                .any(|outcome| outcome.skipped.iter().any(|skipped| skipped == name))
        };
        let mut coverage = Coverage {
            rules: rules.count_in_words(),
            unreached: Vec::new(),
            skipped_only: Vec::new(),
        };
        for rule in rules.rules() {
            let name = rule.name.as_str();
            if answered(name) {
                continue;
            }
            if skipped(name) {
                coverage.skipped_only.push(name.to_owned());
            } else {
                coverage.unreached.push(name.to_owned());
            }
        }
        coverage
    }

    /// Every rule answered some case.
    pub fn complete(&self) -> bool {
        self.unreached.is_empty() && self.skipped_only.is_empty()
    }

    /// The gaps in one line each (`rules reached by no case: a, b`); none when complete.
    pub fn gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        if !self.unreached.is_empty() {
            gaps.push(format!(
                "rules reached by no case: {}",
                self.unreached.join(", ")
            ));
        }
        if !self.skipped_only.is_empty() {
            gaps.push(format!(
                "rules only ever skipped, answering no case: {}",
                self.skipped_only.join(", ")
            ));
        }
        gaps
    }

    /// The coverage in one line: the gaps, or that every rule answered a case.
    pub fn summary(&self) -> String {
        let gaps = self.gaps();
        if gaps.is_empty() {
            format!("every rule answered a case ({})", self.rules)
        } else {
            gaps.join("; ")
        }
    }
}

#[cfg(test)]
mod tests;
