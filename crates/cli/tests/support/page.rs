//! Steps on the residents' page that several Chromium tests take the same
//! way: a phone with its own profile, a key file imported in the signing
//! view, a `<select>` chosen, a tap on co-sign and the page's answer.

use super::cdp::Phone;
use super::Community;
use serde_json::json;
use std::path::Path;

/// A new phone: Chromium with a profile directory of its own under `dir`.
pub fn phone(dir: &Path, name: &str) -> Phone {
    Phone::start(name, &dir.join(format!("phone-{name}")), &[])
}

/// Imports `member`'s key file in the page's signing view and waits until
/// the key card shows that key.
pub fn import_key(phone: &mut Phone, c: &Community, member: &str) {
    phone.wait_for(
        "document.getElementById('key-file')",
        "the key import field",
    );
    phone.choose_file("#key-file", c.key_path(member));
    phone.wait_for(
        &format!("document.querySelector('#key-card[data-state=ready][data-name=\"{member}\"]')"),
        "the imported key",
    );
}

/// Sets a `<select>` (or input) as a person choosing an option would: the
/// value, then a `change` event.
pub fn choose(phone: &mut Phone, selector: &str, value: &str) {
    let done = phone.eval(&format!(
        "(() => {{ const el = document.querySelector({s}); if (!el) return false; el.value = {v}; el.dispatchEvent(new Event('change', {{bubbles: true}})); return el.value === {v}; }})()",
        s = json!(selector),
        v = json!(value)
    ));
    assert_eq!(done, json!(true), "{selector} = {value}");
}

/// Taps co-sign on proposal `id`, once the button is enabled (a card with
/// attachments enables it only after checking them), and waits for the
/// page's answer: its
/// status (`pending`, `committed`, `already`, ...) and text. The page
/// keeps the last answer per proposal, so it is removed first: the wait
/// sees this tap's answer.
pub fn cosign(phone: &mut Phone, id: &str) -> (String, String) {
    let card = format!("[data-sign-card=\"{id}\"]");
    phone.wait_for(
        &format!("document.querySelector('{card} [data-sign]:not([disabled])')"),
        "the proposal's co-sign button, enabled (attachments checked)",
    );
    phone.eval(&format!(
        "document.querySelector('{card} .sign-result')?.remove(); true"
    ));
    phone.click(&format!("{card} [data-sign]"));
    let status = phone.wait_for(
        &format!(
            "(() => {{ const r = document.querySelector('{card} .sign-result') || document.querySelector('[data-committed=\"{id}\"]');
               if (!r) return null; const s = r.dataset.status || (r.dataset.committed ? 'committed' : null);
               return s === 'signing' ? null : s; }})()"
        ),
        "the page's answer to co-sign",
    );
    let text = phone.eval(&format!(
        "(document.querySelector('{card} .sign-result') || document.querySelector('[data-committed=\"{id}\"]')).textContent"
    ));
    (
        status.as_str().unwrap().to_string(),
        text.as_str().unwrap_or("").to_string(),
    )
}
