//! The `?query=` language: a deliberately small, Lucene-flavoured syntax.
//!
//! We parse it ourselves instead of using tantivy's `QueryParser` because the
//! grammar is part of Lightbox's public API: it must not grow field syntax,
//! ranges or boosts behind our back when tantivy is upgraded, and every input
//! must map to either a parse or a human-readable `400 validation` message.
//!
//! Grammar (clauses are separated by whitespace):
//!
//! | clause         | meaning                                          |
//! |----------------|--------------------------------------------------|
//! | `word`         | should match (adds to the score)                 |
//! | `+word`        | must match                                       |
//! | `-word`        | must not match                                   |
//! | `"two words"`  | phrase; also `+"…"` and `-"…"`                   |
//! | `wild*`        | prefix; `*` only at the end, at least one char before it |
//!
//! A `"` only opens a phrase at the start of a clause; inside a word it is an
//! ordinary character (the tokenizer drops it anyway).

use std::fmt;

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, EmptyQuery, Occur as TOccur, PhrasePrefixQuery,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use crate::schema::Fields;

/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Most clauses accepted in one query.
pub const MAX_CLAUSES: usize = 50;

/// A parsed query: the clauses in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// The clauses, never empty for a successful parse.
    pub clauses: Vec<Clause>,
}

/// One whitespace-separated clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// How the clause combines with the others.
    pub occur: Occur,
    /// What the clause matches.
    pub term: QueryTerm,
}

/// Lucene occurrence: with no `Must` clause at least one `Should` must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occur {
    /// Plain clause: optional when a `Must` exists, otherwise one of them must match.
    Should,
    /// `+clause`.
    Must,
    /// `-clause`.
    MustNot,
}

/// The matchable part of a clause, as the user wrote it (not yet tokenized).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryTerm {
    /// A bare word. If the tokenizer splits it (`artist:Marina`), it is matched as a phrase.
    Word(String),
    /// `"a quoted phrase"`, split on whitespace.
    Phrase(Vec<String>),
    /// `wild*`, without the `*`.
    Prefix(String),
}

/// Why a query was rejected. `Display` is the message for a `400 validation` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A `"` without its closing partner.
    #[error("query: unclosed quote")]
    UnclosedQuote,
    /// `""` or a phrase of only whitespace.
    #[error("query: empty phrase")]
    EmptyPhrase,
    /// `+`, `-` or `*` standing alone.
    #[error("query: lone '{0}'")]
    LoneOperator(char),
    /// `*` anywhere but at the end of a word.
    #[error("query: '*' is only allowed at the end of a word")]
    MisplacedWildcard,
    /// More than [`MAX_QUERY_CHARS`] characters.
    #[error("query: longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    /// More than [`MAX_CLAUSES`] clauses.
    #[error("query: more than {MAX_CLAUSES} clauses")]
    TooManyClauses,
    /// Empty or whitespace only.
    #[error("query: empty")]
    Empty,
}

/// Parses the `?query=` text. Never panics; every input is `Ok` or `Err`.
pub fn parse(text: &str) -> Result<ParsedQuery, QueryError> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut clauses = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut occur = Occur::Should;
        if chars[i] == '+' || chars[i] == '-' {
            let op = chars[i];
            occur = if op == '+' {
                Occur::Must
            } else {
                Occur::MustNot
            };
            i += 1;
            if i >= chars.len() || chars[i].is_whitespace() {
                return Err(QueryError::LoneOperator(op));
            }
        }
        let term = if chars[i] == '"' {
            i += 1;
            let start = i;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            if i >= chars.len() {
                return Err(QueryError::UnclosedQuote);
            }
            let inner: String = chars[start..i].iter().collect();
            i += 1; // closing quote
            let words: Vec<String> = inner.split_whitespace().map(str::to_string).collect();
            if words.is_empty() {
                return Err(QueryError::EmptyPhrase);
            }
            QueryTerm::Phrase(words)
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            word_term(word)?
        };
        clauses.push(Clause { occur, term });
        if clauses.len() > MAX_CLAUSES {
            return Err(QueryError::TooManyClauses);
        }
    }
    if clauses.is_empty() {
        return Err(QueryError::Empty);
    }
    Ok(ParsedQuery { clauses })
}

fn word_term(word: String) -> Result<QueryTerm, QueryError> {
    match word.find('*') {
        None => Ok(QueryTerm::Word(word)),
        Some(0) if word.len() == 1 => Err(QueryError::LoneOperator('*')),
        Some(pos) if pos + 1 == word.len() && pos > 0 => {
            let mut prefix = word;
            prefix.truncate(pos);
            Ok(QueryTerm::Prefix(prefix))
        }
        Some(_) => Err(QueryError::MisplacedWildcard),
    }
}

impl fmt::Display for ParsedQuery {
    /// Canonical text; parsing it again yields the same `ParsedQuery`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, clause) in self.clauses.iter().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{clause}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.occur {
            Occur::Should => {}
            Occur::Must => f.write_str("+")?,
            Occur::MustNot => f.write_str("-")?,
        }
        match &self.term {
            QueryTerm::Word(w) => f.write_str(w),
            QueryTerm::Phrase(ws) => write!(f, "\"{}\"", ws.join(" ")),
            QueryTerm::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

/// The text fields every clause searches, with their relevance boosts.
const BOOSTS: [(TextField, f32); 6] = [
    (TextField::Title, 3.0),
    (TextField::Keywords, 2.5),
    (TextField::Filename, 1.5),
    (TextField::Description, 1.0),
    (TextField::Metadata, 1.0),
    (TextField::Dates, 1.0),
];

/// The fields a website's visitors search: only the text its pages show
/// (keywords, file names and metadata can hold what the public must not
/// learn, and a match on them would tell).
const SHOWN_BOOSTS: [(TextField, f32); 2] =
    [(TextField::Title, 3.0), (TextField::Description, 1.0)];

/// Tie breaker for the per-field disjunction: a second field matching adds a little.
const DISMAX_TIE_BREAKER: f32 = 0.1;

/// Most terms a trailing prefix expands to inside a phrase (`artist:mar*`).
const PHRASE_PREFIX_EXPANSIONS: u32 = 1000;

#[derive(Clone, Copy)]
enum TextField {
    Title,
    Keywords,
    Filename,
    Description,
    Metadata,
    Dates,
}

impl TextField {
    fn field(self, f: &Fields) -> Field {
        match self {
            TextField::Title => f.title,
            TextField::Keywords => f.keywords,
            TextField::Filename => f.filename,
            TextField::Description => f.description,
            TextField::Metadata => f.metadata,
            TextField::Dates => f.dates,
        }
    }
}

/// The tantivy form of a parsed query, split so the caller can place the
/// exclusions next to the account filter (a tantivy `BooleanQuery` of only
/// `MustNot` clauses matches nothing).
pub(crate) struct Built {
    /// `None` when the query has no positive clause (only exclusions).
    pub positive: Option<Box<dyn Query>>,
    pub exclusions: Vec<Box<dyn Query>>,
}

/// Turns a parsed query into tantivy queries. Infallible by construction.
///
/// A clause whose text yields no token (e.g. `!!!`) is dropped. If every
/// positive clause was dropped, the positive part matches nothing.
/// `shown_only`: search only the text a website page shows (title and
/// description), not keywords, file names or metadata.
pub(crate) fn build(
    parsed: &ParsedQuery,
    fields: &Fields,
    analyzer: &TextAnalyzer,
    shown_only: bool,
) -> Built {
    let boosts: &[(TextField, f32)] = if shown_only { &SHOWN_BOOSTS } else { &BOOSTS };
    let mut analyzer = analyzer.clone();
    let mut positive = Vec::new();
    let mut had_positive = false;
    let mut exclusions = Vec::new();
    for clause in &parsed.clauses {
        if clause.occur != Occur::MustNot {
            had_positive = true;
        }
        let Some(q) = clause_query(&clause.term, fields, &mut analyzer, boosts) else {
            continue;
        };
        match clause.occur {
            Occur::Should => positive.push((TOccur::Should, q)),
            Occur::Must => positive.push((TOccur::Must, q)),
            Occur::MustNot => exclusions.push(q),
        }
    }
    let positive: Option<Box<dyn Query>> = if !had_positive {
        None
    } else if positive.is_empty() {
        Some(Box::new(EmptyQuery))
    } else {
        Some(Box::new(BooleanQuery::new(positive)))
    };
    Built {
        positive,
        exclusions,
    }
}

/// Lowercased, accent-folded tokens of `text`, through the index analyzer.
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    stream.process(&mut |t| out.push(t.text.clone()));
    out
}

fn clause_query(
    term: &QueryTerm,
    fields: &Fields,
    analyzer: &mut TextAnalyzer,
    boosts: &[(TextField, f32)],
) -> Option<Box<dyn Query>> {
    let (toks, prefix) = match term {
        QueryTerm::Word(w) => (tokens(analyzer, w), false),
        QueryTerm::Phrase(ws) => (tokens(analyzer, &ws.join(" ")), false),
        // `artist:mar*` becomes the phrase `artist` + prefix `mar`.
        QueryTerm::Prefix(p) => (tokens(analyzer, p), true),
    };
    if toks.is_empty() {
        return None;
    }
    let per_field: Vec<Box<dyn Query>> = boosts
        .iter()
        .map(|&(tf, boost)| {
            let field = tf.field(fields);
            let terms: Vec<Term> = toks
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect();
            let q: Box<dyn Query> = match (terms.len(), prefix) {
                (1, false) => Box::new(TermQuery::new(
                    terms[0].clone(),
                    IndexRecordOption::WithFreqs,
                )),
                (_, false) => Box::new(PhraseQuery::new(terms)),
                (n, true) => {
                    let mut q = PhrasePrefixQuery::new(terms);
                    q.set_max_expansions(if n == 1 {
                        u32::MAX
                    } else {
                        PHRASE_PREFIX_EXPANSIONS
                    });
                    Box::new(q)
                }
            };
            Box::new(BoostQuery::new(q, boost)) as Box<dyn Query>
        })
        .collect();
    Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(
        per_field,
        DISMAX_TIE_BREAKER,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(o: Occur, s: &str) -> Clause {
        Clause {
            occur: o,
            term: QueryTerm::Word(s.into()),
        }
    }

    #[test]
    fn operators() {
        let p = parse("cat +dog -bird").unwrap();
        assert_eq!(
            p.clauses,
            vec![
                w(Occur::Should, "cat"),
                w(Occur::Must, "dog"),
                w(Occur::MustNot, "bird")
            ]
        );
    }

    #[test]
    fn phrases_and_prefix() {
        let p = parse(r#""red car" +"a b" -"x   y" wild*"#).unwrap();
        let ph = |o, ws: &[&str]| Clause {
            occur: o,
            term: QueryTerm::Phrase(ws.iter().map(|s| s.to_string()).collect()),
        };
        assert_eq!(
            p.clauses,
            vec![
                ph(Occur::Should, &["red", "car"]),
                ph(Occur::Must, &["a", "b"]),
                ph(Occur::MustNot, &["x", "y"]),
                Clause {
                    occur: Occur::Should,
                    term: QueryTerm::Prefix("wild".into())
                },
            ]
        );
        assert_eq!(
            parse("-c*").unwrap().clauses[0].term,
            QueryTerm::Prefix("c".into())
        );
    }

    #[test]
    fn quote_inside_word_is_literal() {
        let p = parse(r#"rock"n"#).unwrap();
        assert_eq!(p.clauses, vec![w(Occur::Should, r#"rock"n"#)]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(r#"a "b c"#), Err(QueryError::UnclosedQuote));
        assert_eq!(parse(r#""""#), Err(QueryError::EmptyPhrase));
        assert_eq!(parse(r#"+"  ""#), Err(QueryError::EmptyPhrase));
        assert_eq!(parse("a + b"), Err(QueryError::LoneOperator('+')));
        assert_eq!(parse("a -"), Err(QueryError::LoneOperator('-')));
        assert_eq!(parse("*"), Err(QueryError::LoneOperator('*')));
        assert_eq!(parse("+*"), Err(QueryError::LoneOperator('*')));
        assert_eq!(parse("a*b"), Err(QueryError::MisplacedWildcard));
        assert_eq!(parse("*ab"), Err(QueryError::MisplacedWildcard));
        assert_eq!(parse("ab**"), Err(QueryError::MisplacedWildcard));
        assert_eq!(parse(&"a".repeat(1001)), Err(QueryError::TooLong));
        assert!(parse(&"é".repeat(1000)).is_ok());
        assert_eq!(parse(&"a ".repeat(51)), Err(QueryError::TooManyClauses));
        assert!(parse(&"a ".repeat(50)).is_ok());
        assert_eq!(parse(""), Err(QueryError::Empty));
        assert_eq!(parse(" \t\n "), Err(QueryError::Empty));
        assert_eq!(
            QueryError::UnclosedQuote.to_string(),
            "query: unclosed quote"
        );
    }

    #[test]
    fn display_round_trip_example() {
        let p = parse(r#"  a   +"b  c"   -d*  "#).unwrap();
        assert_eq!(p.to_string(), r#"a +"b c" -d*"#);
        assert_eq!(parse(&p.to_string()).unwrap(), p);
    }

    fn query_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            proptest::collection::vec(
                prop_oneof![
                    Just("+".to_string()),
                    Just("-".to_string()),
                    Just("*".to_string()),
                    Just("\"".to_string()),
                    Just(" ".to_string()),
                    Just("\t".to_string()),
                    Just("\u{0}".to_string()),
                    Just("é".to_string()),
                    Just("Zürich".to_string()),
                    Just(":".to_string()),
                    "[a-z0-9]{1,4}",
                ],
                0..30
            )
            .prop_map(|v| v.concat()),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(s in query_text()) {
            if let Ok(p) = parse(&s) {
                prop_assert!(!p.clauses.is_empty());
                let again = parse(&p.to_string());
                prop_assert_eq!(again, Ok(p));
            }
        }
    }
}
