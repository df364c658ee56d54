//! Long lists that stay light: the filter, sort and page of the overview's queues and the workers,
//! read from the URL (`?q=…&sort=…&dir=…&page=…&per_page=…&hide_empty=1`) so a view can be shared,
//! and applied on the server so the browser only gets the rows it shows.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Rows per page unless the URL says otherwise.
pub const DEFAULT_PER_PAGE: u64 = 100;
/// The most rows one page may show.
pub const MAX_PER_PAGE: u64 = 1_000;
/// The longest filter accepted.
const MAX_FILTER: usize = 200;

/// The list parameters of a URL, as given.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// Substring to keep (case-insensitive).
    pub q: Option<String>,
    /// Column to sort by.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub dir: Option<String>,
    /// 1-based page.
    pub page: Option<String>,
    /// Rows per page.
    pub per_page: Option<String>,
    /// `1` to leave out queues with no jobs at all.
    pub hide_empty: Option<String>,
}

/// Validated list parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// Lower-cased filter (empty: everything).
    pub q: String,
    /// Column to sort by (empty: the list's own order).
    pub sort: String,
    /// Descending.
    pub desc: bool,
    /// 1-based page.
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
    /// Leave out empty queues.
    pub hide_empty: bool,
}

impl Default for Listing {
    fn default() -> Listing {
        Listing {
            q: String::new(),
            sort: String::new(),
            desc: false,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            hide_empty: false,
        }
    }
}

impl Listing {
    /// Validates `q` against the columns a list can sort by.
    ///
    /// # Errors
    /// `BadRequest` naming the bad value and what is accepted.
    pub fn parse(q: &ListQuery, columns: &[&str]) -> Result<Listing, AppError> {
        let filter = q.q.as_deref().unwrap_or("").trim();
        if filter.chars().count() > MAX_FILTER {
            return Err(AppError::BadRequest(format!(
                "the filter is {} characters long: at most {MAX_FILTER}",
                filter.chars().count()
            )));
        }
        let sort = q.sort.as_deref().unwrap_or("").to_string();
        if !sort.is_empty() && !columns.contains(&sort.as_str()) {
            return Err(AppError::BadRequest(format!(
                "cannot sort by “{sort}”: use one of {}",
                columns.join(", ")
            )));
        }
        let desc = match q.dir.as_deref().unwrap_or("asc") {
            "asc" | "" => false,
            "desc" | "dsc" => true,
            other => {
                return Err(AppError::BadRequest(format!(
                    "invalid sort direction “{other}”: use asc or desc"
                )))
            }
        };
        let number = |v: &Option<String>, name: &str, default: u64, max: u64| match v
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(default),
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!("invalid {name} “{s}”: use 1 to {max}"))
                }),
        };
        Ok(Listing {
            q: filter.to_lowercase(),
            sort,
            desc,
            page: number(&q.page, "page", 1, 1_000_000)?,
            per_page: number(&q.per_page, "page size", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
            hide_empty: matches!(q.hide_empty.as_deref(), Some("1" | "on" | "true" | "yes")),
        })
    }

    /// Whether a row whose searchable texts are `texts` passes the filter.
    pub fn keeps<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> bool {
        self.q.is_empty()
            || texts
                .into_iter()
                .any(|t| t.to_lowercase().contains(&self.q))
    }

    /// The URL query of these parameters, with only what differs from the defaults.
    pub fn query_string(&self) -> String {
        let d = Listing::default();
        let mut p: Vec<(&str, String)> = Vec::new();
        if !self.q.is_empty() {
            p.push(("q", self.q.clone()));
        }
        if !self.sort.is_empty() {
            p.push(("sort", self.sort.clone()));
            p.push(("dir", if self.desc { "desc" } else { "asc" }.into()));
        }
        if self.page != d.page {
            p.push(("page", self.page.to_string()));
        }
        if self.per_page != d.per_page {
            p.push(("per_page", self.per_page.to_string()));
        }
        if self.hide_empty {
            p.push(("hide_empty", "1".into()));
        }
        serde_urlencoded::to_string(&p).unwrap_or_default()
    }

    /// Whether these are the defaults (the shared, cached rendering applies).
    pub fn is_default(&self) -> bool {
        *self == Listing::default()
    }

    /// The same list sorted by `column` (the other direction if it already is).
    pub fn sorted_by(&self, column: &str) -> Listing {
        Listing {
            sort: column.to_string(),
            desc: self.sort == column && !self.desc,
            page: 1,
            ..self.clone()
        }
    }

    /// The same list on page `page`.
    pub fn on_page(&self, page: u64) -> Listing {
        Listing {
            page,
            ..self.clone()
        }
    }

    /// Keeps the rows of the current page; returns them with the number of rows and of pages.
    pub fn window<T>(&self, rows: Vec<T>) -> (Vec<T>, u64, u64) {
        let total = rows.len() as u64;
        let pages = total.div_ceil(self.per_page).max(1);
        let skip = (self.page.min(pages) - 1) * self.per_page;
        let shown = rows
            .into_iter()
            .skip(skip as usize)
            .take(self.per_page as usize)
            .collect();
        (shown, total, pages)
    }
}

/// A sortable column header: its label, the URL sorting by it, and its current direction.
#[derive(Debug, Clone)]
pub struct SortLink {
    /// The header text.
    pub label: String,
    /// Sorts by this column (or flips the direction).
    pub url: String,
    /// `ascending`/`descending` when the list is sorted by it, for `aria-sort`.
    pub current: Option<&'static str>,
    /// CSS class of the cell.
    pub css: &'static str,
}

/// Builds the header links of `columns` (`(key, label, css)`) for a list at `base_url`.
pub fn sort_links(
    listing: &Listing,
    base_url: &str,
    columns: &[(&str, &str, &'static str)],
) -> Vec<SortLink> {
    columns
        .iter()
        .map(|(key, label, css)| SortLink {
            label: label.to_string(),
            url: super::urls::with_query(base_url, &listing.sorted_by(key).query_string()),
            current: (listing.sort == *key).then_some(if listing.desc {
                "descending"
            } else {
                "ascending"
            }),
            css,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> ListQuery {
        serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap()).unwrap()
    }

    #[test]
    fn list_parameters_round_trip_through_the_url() {
        let l = Listing::parse(
            &q(&[
                ("q", "Mail"),
                ("sort", "failed"),
                ("dir", "desc"),
                ("page", "3"),
                ("hide_empty", "1"),
            ]),
            &["name", "failed"],
        )
        .unwrap();
        assert_eq!(l.q, "mail");
        assert!(l.desc);
        assert_eq!(
            l.query_string(),
            "q=mail&sort=failed&dir=desc&page=3&hide_empty=1"
        );
        assert!(Listing::parse(&q(&[]), &[]).unwrap().is_default());
    }

    #[test]
    fn bad_list_parameters_say_what_is_accepted() {
        for bad in [
            vec![("sort", "nope")],
            vec![("dir", "up")],
            vec![("page", "0")],
            vec![("per_page", "5000")],
        ] {
            let e = Listing::parse(&q(&bad), &["name"]).unwrap_err();
            assert_eq!(e.status().as_u16(), 400, "{bad:?}");
        }
        let long = "x".repeat(500);
        assert!(Listing::parse(&q(&[("q", &long)]), &[]).is_err());
        // Regex characters are plain text.
        let l = Listing::parse(&q(&[("q", ".*[(")]), &[]).unwrap();
        assert!(l.keeps(["a.*[(b"]));
        assert!(!l.keeps(["ab"]));
    }

    #[test]
    fn the_window_shows_one_page_and_counts_all() {
        let l = Listing {
            per_page: 10,
            page: 3,
            ..Listing::default()
        };
        let (rows, total, pages) = l.window((1..=25).collect::<Vec<_>>());
        assert_eq!((rows, total, pages), ((21..=25).collect(), 25, 3));
    }
}
