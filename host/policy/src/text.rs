//! Text that reaches a model or a client: which characters hide or reorder text, and how they are
//! shown instead. Shared by the host and the one-file server's handler (a guest), so both escape
//! the same characters.

/// Whether `c` is invisible or reorders text: the soft hyphen, zero-width and invisible
/// operators, bidi controls (including the Arabic letter mark), BOM, variation selectors and tag
/// characters — the usual carriers of hidden instructions in tool descriptions.
pub fn is_hidden_character(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff0}'..='\u{fffb}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// `text` with every hidden character ([`is_hidden_character`]) shown as a visible escape
/// (`\u{202e}`), for text that reaches a model or a client (descriptions, titles, search results).
pub fn escape_hidden(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden_character) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden_character(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
