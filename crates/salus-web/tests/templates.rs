//! The pages' Content Security Policy allows styles from `/assets` only (`style-src 'self'`):
//! an inline `<style>` block or `style=` attribute is silently dropped by the browser — a
//! specimen label printed at the wrong size, a report without its letterhead. No template
//! may carry one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn no_template_carries_an_inline_style_the_policy_would_drop() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut offenders = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            seen += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains("<style") || line.contains(" style=") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(seen > 20, "the templates were read ({seen})");
    assert!(offenders.is_empty(), "inline styles the CSP drops:\n{}", offenders.join("\n"));
}
