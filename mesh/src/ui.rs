//! Progress output of the launcher: one bold line per step, indented results under it.

use std::io::IsTerminal;

fn styled(code: &str, text: &str) -> String {
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A new step: `==> what`.
pub fn step(what: impl AsRef<str>) {
    println!("{}", styled("1", &format!("==> {}", what.as_ref())));
}

/// A result under the current step.
pub fn ok(what: impl AsRef<str>) {
    println!("    {} {}", styled("32", "ok:"), what.as_ref());
}

/// Something the user should know but that does not stop the launcher.
pub fn note(what: impl AsRef<str>) {
    println!("    {} {}", styled("33", "note:"), what.as_ref());
}

/// A failure under the current step (to stderr).
pub fn fail(what: impl AsRef<str>) {
    eprintln!("    {} {}", styled("31", "error:"), what.as_ref());
}

/// Plain indented detail.
pub fn detail(what: impl AsRef<str>) {
    println!("    {}", what.as_ref());
}
