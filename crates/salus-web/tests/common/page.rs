//! Reading a page as a browser would: through an HTML parser (scraper), not substrings,
//! so an assertion holds for the element and its attributes, not for text that happens to
//! appear somewhere in the markup.

use scraper::{ElementRef, Html, Selector};

pub struct Page(Html);

impl Page {
    pub fn parse(html: &str) -> Self {
        Self(Html::parse_document(html))
    }

    fn select<'a>(&'a self, css: &str) -> Vec<ElementRef<'a>> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e:?}"));
        self.0.select(&selector).collect()
    }

    /// Whether an element matches `css`.
    pub fn has(&self, css: &str) -> bool {
        !self.select(css).is_empty()
    }

    /// The text of the first element matching `css`, whitespace collapsed.
    pub fn text_of(&self, css: &str) -> Option<String> {
        self.select(css).first().map(|e| collapse(e.text()))
    }

    pub fn title(&self) -> String {
        self.text_of("title").unwrap_or_default()
    }

    /// The message shown beside `field`: the element `#<field>-error`, which the field
    /// itself must name in its `aria-describedby` (so a screen reader reads it with the
    /// field). `None` when there is no message.
    pub fn field_error(&self, field: &str) -> Option<String> {
        let id = format!("{field}-error");
        let message = self.text_of(&format!("[id=\"{id}\"]"))?;
        let described = self.select("[aria-describedby]").into_iter().any(|e| {
            e.value().attr("aria-describedby").is_some_and(|ids| ids.split_whitespace().any(|i| i == id))
        });
        assert!(described, "the message {id} ({message}) is not tied to its field by aria-describedby");
        Some(message)
    }

    /// The value of the form field `name`: an input's value, a textarea's text, or a
    /// select's chosen option (the first, as a browser sends, when none is marked).
    pub fn value(&self, name: &str) -> Option<String> {
        let field = *self.select(&format!("[name=\"{name}\"]")).first()?;
        match field.value().name() {
            "textarea" => Some(field.text().collect()),
            "select" => {
                let chosen = Selector::parse("option[selected]").ok()?;
                let first = Selector::parse("option").ok()?;
                field
                    .select(&chosen)
                    .next()
                    .or_else(|| field.select(&first).next())
                    .and_then(|o| o.value().attr("value"))
                    .map(str::to_owned)
            }
            _ => field.value().attr("value").map(str::to_owned),
        }
    }

    /// The text of the page's alert (`role="alert"`), if it shows one.
    pub fn alert(&self) -> Option<String> {
        self.text_of("[role=\"alert\"]")
    }

    /// Whether a link goes to `href`.
    pub fn links_to(&self, href: &str) -> bool {
        self.has(&format!("a[href=\"{href}\"]"))
    }
}

fn collapse<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}
