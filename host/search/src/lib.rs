//! Ranked search over tools, for `search_tools` in code mode: a small in-memory BM25F index over
//! each tool's name (weight 3), parameter names (2) and description (1), with ties broken by past
//! success and use.
//!
//! Our own index rather than a search engine crate: the corpus is small (thousands of short
//! documents), the fields need weights, the ranking needs the usage tie-break, and building the
//! index for 10,000 tools takes milliseconds, so it is simply rebuilt when the catalog changes.
//!
//! ```
//! use wasm_host_search::{SearchIndex, ToolDoc};
//!
//! let doc = |name: &str, description: &str| ToolDoc { name: name.into(), description: description.into(), ..ToolDoc::default() };
//! let docs = [doc("csv.aggregate", "Sum or count a CSV column by group"), doc("grep.count", "Count matching lines")];
//! let index = SearchIndex::build(&docs);
//! let hits = index.search("sum a csv column", 10);
//! assert_eq!(docs[hits[0].doc].name, "csv.aggregate");
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalization.
const B: f32 = 0.75;
/// Field weights: a word in the name says more than one in the description.
const NAME_WEIGHT: f32 = 3.0;
const PARAM_WEIGHT: f32 = 2.0;
const DESCRIPTION_WEIGHT: f32 = 1.0;

/// What is indexed about one tool.
#[derive(Debug, Clone, Default)]
pub struct ToolDoc {
    /// Qualified name, e.g. `csv.aggregate`.
    pub name: String,
    /// Description (and title, if any).
    pub description: String,
    /// Names of its parameters (top-level schema properties).
    pub params: Vec<String>,
    /// Ranked as if it scored [`PREFERRED_BOOST`] times higher: a skill, so that reusing saved
    /// work wins over writing new code when both are about equally relevant.
    pub preferred: bool,
}

/// Score factor of a [`ToolDoc::preferred`] document.
pub const PREFERRED_BOOST: f32 = 1.1;

/// One search result: the document's position in the order it was indexed, and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index into the documents given to [`SearchIndex::build`].
    pub doc: usize,
    /// BM25F score (higher is better); 0 for an empty query.
    pub score: f32,
}

/// The index. Immutable except for the usage counters.
#[derive(Debug, Default)]
pub struct SearchIndex {
    postings: HashMap<String, Vec<(u32, f32)>>,
    lengths: Vec<f32>,
    avg_length: f32,
    names: Vec<String>,
    preferred: Vec<bool>,
    successes: Vec<AtomicU32>,
    uses: Vec<AtomicU32>,
}

impl SearchIndex {
    /// Indexes `docs`; hits refer to them by position.
    pub fn build(docs: &[ToolDoc]) -> Self {
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(docs.len());
        for (i, d) in docs.iter().enumerate() {
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut length = 0.0;
            let params = d.params.join(" ");
            for (text, weight) in [
                (d.name.as_str(), NAME_WEIGHT),
                (params.as_str(), PARAM_WEIGHT),
                (d.description.as_str(), DESCRIPTION_WEIGHT),
            ] {
                for token in tokens(text) {
                    *tf.entry(token).or_default() += weight;
                    length += weight;
                }
            }
            for (token, f) in tf {
                postings.entry(token).or_default().push((i as u32, f));
            }
            lengths.push(length);
        }
        let avg_length = if lengths.is_empty() {
            1.0
        } else {
            lengths.iter().sum::<f32>() / lengths.len() as f32
        };
        SearchIndex {
            postings,
            lengths,
            avg_length: avg_length.max(1.0),
            names: docs.iter().map(|d| d.name.clone()).collect(),
            preferred: docs.iter().map(|d| d.preferred).collect(),
            successes: docs.iter().map(|_| AtomicU32::new(0)).collect(),
            uses: docs.iter().map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Number of indexed tools.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The best `limit` matches for `query`, best first. An empty query lists tools by past
    /// success, then use, then name.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let n = self.names.len() as f32;
        let mut scores = vec![0f32; self.names.len()];
        let mut terms: Vec<String> = tokens(query).collect();
        terms.sort();
        terms.dedup();
        for term in &terms {
            let Some(list) = self.postings.get(term) else { continue };
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for &(doc, tf) in list {
                let norm = K1 * (1.0 - B + B * self.lengths[doc as usize] / self.avg_length);
                scores[doc as usize] += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut hits: Vec<Hit> = scores
            .iter()
            .enumerate()
            .filter(|(_, s)| terms.is_empty() || **s > 0.0)
            .map(|(doc, &score)| Hit {
                doc,
                score: if self.preferred[doc] { score * PREFERRED_BOOST } else { score },
            })
            .collect();
        let key = |h: &Hit| {
            (
                self.preferred[h.doc],
                self.successes[h.doc].load(Ordering::Relaxed),
                self.uses[h.doc].load(Ordering::Relaxed),
            )
        };
        let order = |a: &Hit, b: &Hit| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| key(b).cmp(&key(a)))
                .then_with(|| self.names[a.doc].cmp(&self.names[b.doc]))
        };
        if hits.len() > limit {
            hits.select_nth_unstable_by(limit, order);
            hits.truncate(limit);
        }
        hits.sort_by(order);
        hits
    }

    /// Past (successes, uses) of tool `doc`, e.g. to carry them into a rebuilt index.
    pub fn usage(&self, doc: usize) -> (u32, u32) {
        let get = |v: &Vec<AtomicU32>| v.get(doc).map_or(0, |a| a.load(Ordering::Relaxed));
        (get(&self.successes), get(&self.uses))
    }

    /// Sets the past (successes, uses) of tool `doc`.
    pub fn set_usage(&self, doc: usize, (successes, uses): (u32, u32)) {
        if let (Some(s), Some(u)) = (self.successes.get(doc), self.uses.get(doc)) {
            s.store(successes, Ordering::Relaxed);
            u.store(uses, Ordering::Relaxed);
        }
    }

    /// Records one call of tool `doc`, for the tie-break.
    pub fn record_use(&self, doc: usize, success: bool) {
        if let Some(u) = self.uses.get(doc) {
            u.fetch_add(1, Ordering::Relaxed);
        }
        if success && let Some(s) = self.successes.get(doc) {
            s.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Words too common in tool descriptions and queries to say anything about which tool is meant.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "each", "for", "from", "how", "i", "in",
    "into", "is", "it", "its", "me", "many", "my", "of", "on", "or", "that", "the", "this", "to",
    "what", "which", "with",
];

/// Lowercase words of `text`: split at anything not alphanumeric and at camelCase humps, with
/// stopwords removed and a plural `s` dropped (`files` finds `file`).
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .flat_map(split_camel)
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(&w.as_str()))
        .map(|w| normalize(&w))
}

fn split_camel(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    for pair in chars.windows(2) {
        let ((_, a), (i, b)) = (pair[0], pair[1]);
        if a.is_lowercase() && b.is_uppercase() {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

fn normalize(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') => stem.to_string(),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, description: &str, params: &[&str]) -> ToolDoc {
        ToolDoc {
            name: name.into(),
            description: description.into(),
            params: params.iter().map(|p| p.to_string()).collect(),
            preferred: false,
        }
    }

    fn corpus() -> Vec<ToolDoc> {
        vec![
            doc(
                "grep.search",
                "Search text files for lines matching a regular expression (regex).",
                &["pattern", "path", "ignore_case"],
            ),
            doc("grep.count", "Count lines matching a pattern in each file.", &["pattern", "path"]),
            doc(
                "csv.filter",
                "Rows of a CSV file where a column matches a condition.",
                &["path", "column", "op", "value"],
            ),
            doc(
                "csv.aggregate",
                "Group CSV rows and compute sum, mean, min, max per group.",
                &["path", "group_by", "column", "ops"],
            ),
            doc(
                "json-query.query",
                "Select and filter items of a JSON document.",
                &["file", "select", "where", "fields"],
            ),
            doc(
                "weather.forecast",
                "Weather forecast for a city for the next days.",
                &["city", "days"],
            ),
            doc("mail.send", "Send an email message to recipients.", &["to", "subject", "body"]),
        ]
    }

    fn first(index: &SearchIndex, docs: &[ToolDoc], query: &str) -> String {
        index.search(query, 3).first().map(|h| docs[h.doc].name.clone()).unwrap_or_default()
    }

    #[test]
    fn the_obviously_right_tool_comes_first() {
        let docs = corpus();
        let index = SearchIndex::build(&docs);
        for (query, expected) in [
            ("sum a column of a csv grouped by region", "csv.aggregate"),
            ("find lines matching a regex in files", "grep.search"),
            ("how many lines match", "grep.count"),
            ("query json", "json-query.query"),
            ("send email", "mail.send"),
            ("weather in Paris tomorrow", "weather.forecast"),
            ("groupBy", "csv.aggregate"),
        ] {
            assert_eq!(first(&index, &docs, query), expected, "query: {query}");
        }
    }

    #[test]
    fn no_match_is_empty_and_an_empty_query_lists_everything() {
        let docs = corpus();
        let index = SearchIndex::build(&docs);
        assert!(index.search("zebra quantum", 5).is_empty());
        assert_eq!(index.search("", 100).len(), docs.len());
        assert_eq!(index.search("", 2).len(), 2, "limit applies");
    }

    #[test]
    fn ties_are_broken_by_past_success_then_use() {
        let docs =
            vec![doc("alpha.read", "Read a file.", &[]), doc("beta.read", "Read a file.", &[])];
        let index = SearchIndex::build(&docs);
        assert_eq!(first(&index, &docs, "read file"), "alpha.read", "name order without history");
        index.record_use(1, true);
        assert_eq!(
            first(&index, &docs, "read file"),
            "beta.read",
            "the tool that worked before wins a tie"
        );
        index.record_use(0, false);
        index.record_use(0, false);
        assert_eq!(first(&index, &docs, "read file"), "beta.read", "success counts before use");
        assert_eq!((index.usage(0), index.usage(1)), ((0, 2), (1, 1)));
        let rebuilt = SearchIndex::build(&docs);
        rebuilt.set_usage(1, index.usage(1));
        assert_eq!(
            first(&rebuilt, &docs, "read file"),
            "beta.read",
            "history carried into a rebuilt index"
        );
    }

    #[test]
    fn a_preferred_document_wins_over_an_equally_relevant_one_but_not_over_a_clearly_better_one() {
        let mut docs = vec![
            doc("csv.sales_by_region", "Total sales per region from a CSV file", &[]),
            doc("sales-by-region.run", "Total sales per region from a CSV file", &[]),
            doc("csv.aggregate", "Sum, mean or count a CSV column grouped by another", &["column"]),
        ];
        docs[1].preferred = true;
        let index = SearchIndex::build(&docs);
        // Same words in name and description: the skill comes first.
        assert_eq!(first(&index, &docs, "sales per region"), "sales-by-region.run");
        // A query only the tool matches still finds the tool.
        assert_eq!(first(&index, &docs, "mean of a column"), "csv.aggregate");
    }

    #[test]
    fn tokens_split_names_camel_case_and_plurals() {
        let t: Vec<String> = tokens("csv.groupBy ignore_case Files").collect();
        assert_eq!(t, ["csv", "group", "ignore", "case", "file"]);
    }
}
