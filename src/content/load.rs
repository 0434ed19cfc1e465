//! Loading and validating a content directory.
//!
//! A content directory holds one TOML file per article in `articles/`. Every
//! file is parsed and checked before anything is served, and every problem in
//! every file is reported with its file, line and column, so an editor fixes
//! them all in one pass instead of one per restart.

use std::{
    borrow::Cow,
    collections::HashSet,
    fmt,
    path::{Path, PathBuf},
};

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use super::{Article, Citation, Group, Lang, Part, Section, Slug};
use crate::suggest;

/// The `content/` directory of this repository, compiled into the binary so
/// the server needs no files at run time.
static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/content");

/// The sub-directory of a content directory that holds the article files.
const ARTICLES: &str = "articles";

/// The largest content file read unless told otherwise: the source article
/// is 20 KB, so 4 MiB is room for any article while a stray 50 MB file is
/// refused before it costs a gigabyte to parse.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 << 20;

/// Where content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentSource {
    /// The repository's `content/` directory, as compiled into the binary.
    Embedded,
    /// A content directory on disk, whose files are refused, before they
    /// are parsed, when larger than `max_file_bytes`.
    Dir { path: PathBuf, max_file_bytes: u64 },
}

impl ContentSource {
    /// A content directory on disk, with the default file size cap.
    pub fn dir(path: impl Into<PathBuf>) -> Self {
        Self::Dir {
            path: path.into(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

impl fmt::Display for ContentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded => f.write_str("embedded content"),
            Self::Dir { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// One thing wrong with the content, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Why content could not be loaded: every problem found, in file order.
#[derive(Debug, thiserror::Error)]
#[error("invalid content in {source_name}: {} problem(s)\n{}", problems.len(), list(problems))]
pub struct ContentError {
    pub source_name: String,
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads every article of `source`, sorted by slug, or every problem found.
pub fn load(source: &ContentSource) -> Result<Vec<Article>, ContentError> {
    load_with(source, |article| article).map(|loaded| loaded.items)
}

/// What [`load_with`] loaded.
#[derive(Debug)]
pub struct Loaded<T> {
    /// One per article, sorted by slug.
    pub items: Vec<T>,
    /// A hash of every file's name and bytes: it changes when, and only when,
    /// a file is added, removed, renamed or edited.
    pub revision: String,
}

/// Loads every article of `source` and turns each into a `T` as soon as it is
/// valid, so that only one file's text and article are held at a time per
/// core. Files are read and parsed on every core. Returns the `T`s sorted by
/// slug, or every problem in every file.
pub fn load_with<T, F>(source: &ContentSource, prepare: F) -> Result<Loaded<T>, ContentError>
where
    T: Send,
    F: Fn(Article) -> T + Sync,
{
    let error = |problems| ContentError {
        source_name: source.to_string(),
        problems,
    };
    let files = article_files(source).map_err(|problem| error(vec![problem]))?;
    if files.is_empty() {
        return Err(error(vec![Problem {
            file: format!("{source}/{ARTICLES}"),
            line: 1,
            column: 1,
            message: "no article files (*.toml) found".into(),
        }]));
    }

    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = files.len().div_ceil(threads);
    let prepare = &prepare;
    type Outcome<T> = (Option<[u8; 32]>, Result<((Slug, Lang), T), Vec<Problem>>);
    let results: Vec<Outcome<T>> = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|file| match file.text() {
                            Err(problem) => (None, Err(vec![problem])),
                            Ok(text) => {
                                let digest = Sha256::digest(text.as_bytes()).into();
                                let parsed = parse_article(&file.name(), &text).map(|article| {
                                    let key = (article.slug.clone(), article.lang.clone());
                                    (key, prepare(article))
                                });
                                (Some(digest), parsed)
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("loading a file does not panic"))
            .collect()
    });

    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    let mut revision = Sha256::new();
    let mut seen = std::collections::HashMap::new();
    for (file, (digest, result)) in files.iter().zip(results) {
        revision.update(file.file_name().as_bytes());
        revision.update([0]);
        revision.update(digest.unwrap_or_default());
        match result {
            Ok((key, item)) => {
                if let Some(first) = seen.insert(key.clone(), file.name()) {
                    problems.push(Problem {
                        file: file.name(),
                        line: 1,
                        column: 1,
                        message: format!(
                            "article `{}` in `{}` is already in {first}; each language of an article is one file",
                            key.0, key.1
                        ),
                    });
                }
                loaded.push((key, item));
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    if !problems.is_empty() {
        return Err(error(problems));
    }
    loaded.sort_by(|(a, _), (b, _)| a.cmp(b));
    Ok(Loaded {
        items: loaded.into_iter().map(|(_, item)| item).collect(),
        revision: short_hex(&revision.finalize()),
    })
}

/// A revision made from another and what changed since (a new day for the
/// review statuses), in the same form.
pub fn derived_revision(revision: &str, change: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(revision.as_bytes());
    digest.update([0]);
    digest.update(change.as_bytes());
    short_hex(&digest.finalize())
}

/// The first 8 bytes of a digest, in hex: a revision.
fn short_hex(digest: &[u8]) -> String {
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An article file, in the embedded content or on disk.
enum ArticleFile {
    Embedded(&'static include_dir::File<'static>),
    /// A file on disk, and the most bytes it may have.
    Disk(PathBuf, u64),
}

impl ArticleFile {
    /// The file's own name, without its directory: the same content embedded
    /// or on disk has the same revision.
    fn file_name(&self) -> String {
        let path = match self {
            Self::Embedded(file) => file.path(),
            Self::Disk(path, _) => path.as_path(),
        };
        path.file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The path shown in messages.
    fn name(&self) -> String {
        match self {
            Self::Embedded(file) => format!("content/{}", file.path().display()),
            Self::Disk(path, _) => path.display().to_string(),
        }
    }

    fn text(&self) -> Result<Cow<'static, str>, Problem> {
        let not_utf8 = || Problem {
            file: self.name(),
            line: 1,
            column: 1,
            message: "is not UTF-8 text".into(),
        };
        match self {
            Self::Embedded(file) => file.contents_utf8().map(Cow::Borrowed).ok_or_else(not_utf8),
            Self::Disk(path, max) => {
                let bytes = read_at_most(path, *max)?;
                String::from_utf8(bytes)
                    .map(Cow::Owned)
                    .map_err(|_| not_utf8())
            }
        }
    }
}

/// The file's bytes, or a problem if it has more than `max`: read no
/// further than one byte past the cap, so a huge file costs nothing.
fn read_at_most(path: &Path, max: u64) -> Result<Vec<u8>, Problem> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| io_problem(path, e))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_problem(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Problem {
            file: path.display().to_string(),
            line: 1,
            column: 1,
            message: format!(
                "is larger than {max} bytes, the limit on a content file \
                 (--max-content-file-bytes); split it or raise the limit"
            ),
        });
    }
    Ok(bytes)
}

fn io_problem(path: &Path, error: std::io::Error) -> Problem {
    Problem {
        file: path.display().to_string(),
        line: 1,
        column: 1,
        message: format!("cannot read: {error}"),
    }
}

/// The article files of `source`, sorted by name.
fn article_files(source: &ContentSource) -> Result<Vec<ArticleFile>, Problem> {
    match source {
        ContentSource::Embedded => {
            let dir = EMBEDDED.get_dir(ARTICLES).ok_or_else(|| Problem {
                file: format!("content/{ARTICLES}"),
                line: 1,
                column: 1,
                message: "directory missing from the embedded content".into(),
            })?;
            let mut files: Vec<_> = dir.files().filter(|f| is_article_file(f.path())).collect();
            files.sort_by_key(|f| f.path());
            Ok(files.into_iter().map(ArticleFile::Embedded).collect())
        }
        ContentSource::Dir {
            path: dir,
            max_file_bytes,
        } => {
            let articles = dir.join(ARTICLES);
            let mut paths = Vec::new();
            for entry in std::fs::read_dir(&articles).map_err(|e| io_problem(&articles, e))? {
                let path = entry.map_err(|e| io_problem(&articles, e))?.path();
                if path.is_file() && is_article_file(&path) {
                    paths.push(path);
                }
            }
            paths.sort();
            Ok(paths
                .into_iter()
                .map(|path| ArticleFile::Disk(path, *max_file_bytes))
                .collect())
        }
    }
}

fn is_article_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "toml")
}

/// Parses and validates one article file; `name` is its path, for messages.
pub fn parse_article(name: &str, text: &str) -> Result<Article, Vec<Problem>> {
    let at = |offset: usize, message: String| {
        let (line, column) = line_column(text, offset);
        Problem {
            file: name.to_owned(),
            line,
            column,
            message,
        }
    };
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    // `<slug>.toml`, or `<slug>.<lang>.toml` for a translation.
    let (slug, suffix) = stem.split_once('.').unwrap_or((stem, ""));
    let slug: Slug = slug.parse().map_err(|e| {
        vec![at(
            0,
            format!("the file name `{slug}` is the article's slug, and it {e}"),
        )]
    })?;
    let mut article: Article = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        vec![at(offset, in_our_words(e.message().trim_end()))]
    })?;
    let typed = derived_fields_typed(&article);
    if !typed.is_empty() {
        let document = spans(text);
        return Err(typed
            .into_iter()
            .map(|(path, message)| {
                let offset = document.as_ref().map_or(0, |doc| span_of(doc, &path));
                at(offset, message.to_owned())
            })
            .collect());
    }
    article.slug = slug;
    if !suffix.is_empty() && suffix.parse::<Lang>().ok().as_ref() != Some(&article.lang) {
        return Err(vec![at(
            0,
            format!(
                "the file name says language `{suffix}` but the article's `lang` is `{}`; \
                 name a translation `<slug>.<lang>.toml` and set `lang` to the same tag",
                article.lang
            ),
        )]);
    }

    let mut check = Checker::default();
    check.article(&mut article);
    if check.problems.is_empty() {
        article.measure();
        return Ok(article);
    }
    // Only a broken file pays for the second, span-keeping parse.
    let document = spans(text);
    Err(check
        .problems
        .into_iter()
        .map(|(path, message)| {
            let offset = document.as_ref().map_or(0, |doc| span_of(doc, &path));
            at(offset, format!("{}: {message}", display_path(&path)))
        })
        .collect())
}

/// The keys the loader computes or derives, which serde knows but a file
/// may not set ([`derived_fields_typed`] says why of each).
const COMPUTED_KEYS: [&str; 4] = ["slug", "position", "readability", "review"];

/// serde's message for an unknown key or value (``unknown field `titel`,
/// expected one of `id`, `title` ``) in the API's words: what is unknown,
/// what a file may write there (not the computed keys), and the one plainly
/// meant; any other message as it is. serde words these messages alike for
/// every format, and the test below fails if that changes.
fn in_our_words(message: &str) -> String {
    let unknown = [("unknown field `", "key"), ("unknown variant `", "value")]
        .into_iter()
        .find_map(|(prefix, noun)| {
            let (given, expected) = message.strip_prefix(prefix)?.split_once("`, expected ")?;
            Some((noun, given, expected))
        });
    let Some((noun, given, expected)) = unknown else {
        return message.to_owned();
    };
    let known: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|key| !COMPUTED_KEYS.contains(key))
        .collect();
    format!(
        "unknown {noun} `{given}`; {}{}",
        suggest::listing(noun, &known),
        suggest::did_you_mean(suggest::nearest(given, &known))
    )
}

/// The file parsed again, keeping where each value is.
fn spans(text: &str) -> Option<toml::Spanned<toml::de::DeValue<'_>>> {
    toml::de::DeTable::parse(text)
        .ok()
        .map(|table| toml::Spanned::new(table.span(), toml::de::DeValue::Table(table.into_inner())))
}

/// The fields the loader derives (the slug from the file name, positions
/// from file order) that the file gives a value anyway, each with why it
/// may not: an editor must not be able to make them disagree. A field not
/// given keeps its default, the unset slug or position 0.
fn derived_fields_typed(article: &Article) -> Vec<(Vec<Key>, &'static str)> {
    const SLUG: &str =
        "`slug` is the file's name, not a field; remove it (rename the file to change the slug)";
    const POSITION: &str = "`position` follows the order of items in the file, not a field; \
         remove it (move the item to change its position)";
    const READABILITY: &str =
        "`readability` is computed from the text when it is loaded, not a field; remove it";
    const REVIEW: &str = "`review` is computed from `last_reviewed` and `next_review` as the days \
         pass, not a field; remove it (set those dates instead)";
    let mut typed = Vec::new();
    if article.slug != Slug::unset() {
        typed.push((vec![Key::Field("slug")], SLUG));
    }
    if article.readability.is_some() {
        typed.push((vec![Key::Field("readability")], READABILITY));
    }
    if article.review.is_some() {
        typed.push((vec![Key::Field("review")], REVIEW));
    }
    let mut positions = |path: Vec<Key>, position: u32, measured: bool| {
        if position != 0 {
            let mut path = path.clone();
            path.push(Key::Field("position"));
            typed.push((path, POSITION));
        }
        if measured {
            let mut path = path;
            path.push(Key::Field("readability"));
            typed.push((path, READABILITY));
        }
    };
    for (field, section) in [
        ("intro", &article.intro),
        ("conclusion", &article.conclusion),
    ] {
        if let Some(section) = section {
            positions(
                vec![Key::Field(field)],
                section.position,
                section.readability.is_some(),
            );
        }
    }
    for (i, section) in article.sections.iter().enumerate() {
        positions(
            vec![Key::Field("sections"), Key::Index(i)],
            section.position,
            section.readability.is_some(),
        );
    }
    let items =
        |field: &'static str, i: usize| vec![Key::Field(field), Key::Field("items"), Key::Index(i)];
    for (i, item) in article.benefits.items.iter().enumerate() {
        positions(
            items("benefits", i),
            item.position,
            item.readability.is_some(),
        );
    }
    for (i, item) in article.precautions.items.iter().enumerate() {
        positions(
            items("precautions", i),
            item.position,
            item.readability.is_some(),
        );
    }
    for (i, item) in article.faqs.items.iter().enumerate() {
        positions(items("faqs", i), item.position, item.readability.is_some());
    }
    typed
}

/// A step in the path from the top of a file to a value in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Field(&'static str),
    Index(usize),
}

fn display_path(path: &[Key]) -> String {
    let mut out = String::new();
    for key in path {
        match key {
            Key::Field(field) if out.is_empty() => out.push_str(field),
            Key::Field(field) => {
                out.push('.');
                out.push_str(field);
            }
            Key::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The byte offset of the value at `path`, or of its nearest present ancestor.
fn span_of(document: &toml::Spanned<toml::de::DeValue<'_>>, path: &[Key]) -> usize {
    let mut node = document;
    for key in path {
        let next = match key {
            Key::Field(field) => node.get_ref().get(*field),
            Key::Index(index) => node.get_ref().get(*index),
        };
        match next {
            Some(child) => node = child,
            None => break,
        }
    }
    node.span().start
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Walks an article, normalising text and collecting every rule it breaks.
#[derive(Default)]
struct Checker {
    problems: Vec<(Vec<Key>, String)>,
}

impl Checker {
    fn article(&mut self, article: &mut Article) {
        self.text(vec![Key::Field("title")], &mut article.title);
        self.optional_text(&[], "about", &mut article.about);
        self.optional_text(&[], "license", &mut article.license);
        for (key, names) in [
            ("authors", &mut article.authors),
            ("reviewed_by", &mut article.reviewed_by),
        ] {
            for (i, name) in names.iter_mut().enumerate() {
                self.text(vec![Key::Field(key), Key::Index(i)], name);
            }
        }
        if let (Some(last), Some(next)) = (article.last_reviewed, article.next_review)
            && next < last
        {
            self.problem(
                vec![Key::Field("next_review")],
                format!(
                    "{next} is before last_reviewed ({last}): the next review comes after the last"
                ),
            );
        }
        if let (Some(published), Some(updated)) = (article.published_at, article.updated_at)
            && updated < published
        {
            self.problem(
                vec![Key::Field("updated_at")],
                format!("{updated} is before published_at ({published})"),
            );
        }

        // Intro, sections and conclusion form one list of sections.
        let mut sections: Vec<(Vec<Key>, &mut Section)> = Vec::new();
        if let Some(intro) = article.intro.as_mut() {
            sections.push((vec![Key::Field("intro")], intro));
        }
        for (i, section) in article.sections.iter_mut().enumerate() {
            sections.push((vec![Key::Field("sections"), Key::Index(i)], section));
        }
        if let Some(conclusion) = article.conclusion.as_mut() {
            sections.push((vec![Key::Field("conclusion")], conclusion));
        }
        let mut seen = HashSet::new();
        for (i, (path, section)) in sections.into_iter().enumerate() {
            self.optional_text(&path, "heading", &mut section.heading);
            self.part(path, i, section, &mut seen);
        }

        self.group("benefits", &mut article.benefits);
        self.group("precautions", &mut article.precautions);
        self.group("faqs", &mut article.faqs);
        self.citations(vec![Key::Field("citations")], &mut article.citations);
        let items = |field: &'static str, i: usize| {
            vec![
                Key::Field(field),
                Key::Field("items"),
                Key::Index(i),
                Key::Field("citations"),
            ]
        };
        for (i, item) in article.benefits.items.iter_mut().enumerate() {
            self.citations(items("benefits", i), &mut item.citations);
        }
        for (i, item) in article.precautions.items.iter_mut().enumerate() {
            self.citations(items("precautions", i), &mut item.citations);
        }
        for (i, item) in article.faqs.items.iter_mut().enumerate() {
            self.citations(items("faqs", i), &mut item.citations);
        }
        if let Some(replies) = article.replies.as_mut() {
            self.text(
                vec![Key::Field("replies"), Key::Field("heading")],
                &mut replies.heading,
            );
        }
    }

    fn group<T: Part>(&mut self, field: &'static str, group: &mut Group<T>) {
        let path = [Key::Field(field)];
        self.optional_text(&path, "heading", &mut group.heading);
        self.optional_text(&path, "intro", &mut group.intro);
        let mut seen = HashSet::new();
        for (i, item) in group.items.iter_mut().enumerate() {
            let path = vec![Key::Field(field), Key::Field("items"), Key::Index(i)];
            self.part(path, i, item, &mut seen);
        }
    }

    /// Checks one part's id (valid, unique in `seen`) and text; sets its position.
    fn part<T: Part>(
        &mut self,
        path: Vec<Key>,
        index: usize,
        part: &mut T,
        seen: &mut HashSet<String>,
    ) {
        part.set_position(u32::try_from(index + 1).unwrap_or(u32::MAX));
        let id_path = [path.as_slice(), &[Key::Field("id")]].concat();
        match part.id().parse::<Slug>() {
            Err(e) => self.problem(id_path, format!("`{}` {e}", part.id())),
            Ok(_) if !seen.insert(part.id().to_owned()) => self.problem(
                id_path,
                format!(
                    "`{}` is already the id of another {} in this article",
                    part.id(),
                    T::KIND
                ),
            ),
            Ok(_) => {}
        }
        for (key, text) in part.texts_mut() {
            self.text([path.as_slice(), &[Key::Field(key)]].concat(), text);
        }
    }

    fn optional_text(&mut self, parent: &[Key], key: &'static str, text: &mut Option<String>) {
        if let Some(text) = text {
            self.text([parent, &[Key::Field(key)]].concat(), text);
        }
    }

    /// Required text: surrounding whitespace is dropped, and something must remain.
    fn text(&mut self, path: Vec<Key>, text: &mut String) {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.problem(path, "must not be empty".into());
        } else if trimmed.len() != text.len() {
            *text = trimmed.to_owned();
        }
    }

    /// Checks each citation at `path`: a title, and its url, DOI or PMID
    /// in their own syntax.
    fn citations(&mut self, path: Vec<Key>, citations: &mut [Citation]) {
        for (i, citation) in citations.iter_mut().enumerate() {
            let at = |field: &'static str| {
                [path.as_slice(), &[Key::Index(i), Key::Field(field)]].concat()
            };
            self.text(at("title"), &mut citation.title);
            for (field, reason) in citation.problems() {
                self.problem(at(field), reason);
            }
        }
    }

    fn problem(&mut self, path: Vec<Key>, message: String) {
        self.problems.push((path, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_content_loads() {
        let articles = load(&ContentSource::Embedded).expect("embedded content is valid");
        assert!(
            articles
                .iter()
                .any(|a| a.slug.as_str() == "deep-tissue-massage-for-back-pain")
        );
    }

    #[test]
    fn a_mistyped_key_or_value_is_told_what_may_be_written_and_what_was_meant() {
        let text = "title = \"T\"\n\n[benefits]\n[[benefits.items]]\nid = \"a\"\ntitel = \"A\"\n";
        let problems = parse_article("articles/my-article.toml", text).unwrap_err();
        assert_eq!(
            problems[0].to_string(),
            "articles/my-article.toml:6:1: unknown key `titel`; the keys are id, title, body, \
             citations; did you mean `title`?"
        );
        let problems =
            parse_article("a.toml", "title = \"T\"\naudience = \"patients\"\n").unwrap_err();
        assert_eq!(
            problems[0].to_string(),
            "a.toml:2:12: unknown value `patients`; the values are patient, caregiver, \
             clinician; did you mean `patient`?"
        );
        let problems = parse_article("articles/my-article.toml", "colour = \"red\"\n").unwrap_err();
        assert!(
            !problems[0].to_string().contains("did you mean"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn line_and_column_count_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
        assert_eq!(line_column(text, text.rfind('=').unwrap()), (2, 4));
    }

    #[test]
    fn every_problem_of_a_file_is_reported_where_it_is() {
        let text = "title = \"T\"\n\n[benefits]\n[[benefits.items]]\nid = \"Bad Id\"\ntitle = \"\"\nbody = \"x\"\n";
        let problems = parse_article("dir/articles/my-article.toml", text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:#?}");
        assert!(shown[0].starts_with(
            "dir/articles/my-article.toml:5:6: benefits.items[0].id: `Bad Id` must be lowercase"
        ));
        assert_eq!(
            shown[1],
            "dir/articles/my-article.toml:6:9: benefits.items[0].title: must not be empty"
        );
    }

    #[test]
    fn positions_follow_file_order_and_text_is_trimmed() {
        let text = "title = \"T\"\n[faqs]\n[[faqs.items]]\nid = \"b\"\nquestion = \"Q?\"\nanswer = \"\"\"\nA.\n\"\"\"\n[[faqs.items]]\nid = \"a\"\nquestion = \"Q2?\"\nanswer = \"A2.\"\n";
        let article = parse_article("x/a.toml", text).unwrap();
        let faqs: Vec<_> = article
            .faqs
            .items
            .iter()
            .map(|f| (f.id.as_str(), f.position, f.answer.as_str()))
            .collect();
        assert_eq!(faqs, [("b", 1, "A."), ("a", 2, "A2.")]);
    }
}
