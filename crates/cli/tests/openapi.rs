//! `/api/openapi.json` against the real server: the document describes
//! exactly the router's routes and methods, a district platform serves
//! every one of them under `/c/{slug}` and its own list at its root, as
//! the document says, and the proof endpoints answer as docs/api.md says.
//! (CI also runs schemathesis against the running single-ledger server
//! with this document: `.ci/schemathesis`.)

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::http::{Http, Server};
use support::platform::{district, PlatformServer};
use support::Community;

/// Methods probed on every route. HEAD follows GET and OPTIONS is CORS's,
/// so neither is listed in the document.
const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn openapi() -> Value {
    serde_json::from_str(include_str!("../../server/src/openapi.json"))
        .expect("openapi.json is JSON")
}

/// The router's paths in OpenAPI's syntax (`{*path}` becomes `{path}`).
fn router_paths() -> BTreeSet<String> {
    feeledger_server::route_paths()
        .into_iter()
        .map(|p| p.replace("{*", "{"))
        .collect()
}

/// A concrete URL path for a templated one, naming things that exist in a
/// fresh ledger where that is possible.
fn concrete(path: &str, tag: &str) -> String {
    path.replace("{seq}", "0")
        .replace("{tag}", tag)
        .replace("{size}", "1")
        .replace("{id}", &"0".repeat(64))
        .replace("{sha256}", &"0".repeat(64))
        .replace("{unit}", "3-1502")
        .replace("{name}", "app.js")
        .replace("{path}", "0/000.p/1")
}

/// Proves the document lists every route the router serves and no other:
/// a route added to `feeledger_server::routes()` without a description, or
/// a described route the router lacks, fails here.
/// The paths only a platform's root serves: those with a `servers` of
/// their own (`/api/v1/ledgers`).
fn platform_only(doc: &Value) -> BTreeSet<String> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(_, item)| item.get("servers").is_some())
        .map(|(path, _)| path.clone())
        .collect()
}

#[test]
fn openapi_paths_are_exactly_the_router_paths() {
    let doc = openapi();
    let platform = platform_only(&doc);
    assert_eq!(
        platform.iter().collect::<Vec<_>>(),
        ["/api/v1/ledgers"],
        "the platform's own routes"
    );
    let described: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|path| !platform.contains(*path))
        .cloned()
        .collect();
    let routed = router_paths();
    let undocumented: Vec<_> = routed.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from openapi.json: {undocumented:?}; paths in openapi.json the router lacks: {unrouted:?}"
    );
}

/// Proves each route of the real server answers exactly the methods the
/// document gives it: a listed method is routed (not 405, not the
/// fallback's "no such route"), an unlisted one is 405. Also proves every
/// operation describes its answers with at least one 2xx and a JSON schema
/// for each JSON answer.
#[test]
fn every_route_answers_exactly_the_methods_the_document_lists() {
    let doc = openapi();
    let community = Community::new();
    let server = Server::start(&community.data);
    let http = server.http();
    let platform = platform_only(&doc);
    probe(&http, "", &doc, |path| !platform.contains(path));
    // The platform's list is documented as 404 here.
    http.get("/api/v1/ledgers").assert_error(404, "not_found");
    assert!(doc["paths"]["/api/v1/ledgers"]["get"]["responses"]
        .get("404")
        .is_some());
    server.kill();
}

/// Sends every method to each path of the document that `which` takes,
/// under `prefix`, and checks the answers against the document: a listed
/// method is routed (not 405, not the fallback's "no such route", not a
/// 5xx) and answers a status the document lists; an unlisted one is 405.
/// Also checks every operation describes at least one 2xx and a JSON
/// schema for each JSON answer.
fn probe(http: &Http, prefix: &str, doc: &Value, which: impl Fn(&str) -> bool) {
    let mut probed = 0;
    // The build tag the page's assets are named by, as the page links them.
    let page = http.get(&format!("{prefix}/")).text();
    let tag_at = page
        .find("assets/v/")
        .expect("the page links its assets by tag")
        + "assets/v/".len();
    let tag: String = page[tag_at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert!(!tag.is_empty(), "no build tag in the page");
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !which(path) {
            continue;
        }
        probed += 1;
        let concrete_path = concrete(path, &tag);
        assert!(
            !concrete_path.contains('{'),
            "{path}: a template `concrete` does not fill, probed literally"
        );
        let url = format!("{}{prefix}{concrete_path}", http.base);
        for method in METHODS {
            let response = support::http::Http::finish(
                http.client
                    .request(method.to_uppercase().parse().unwrap(), &url)
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .unwrap_or_else(|e| panic!("{method} {url}: {e}")),
            )
            .unwrap();
            match item.get(method) {
                Some(operation) => {
                    assert_ne!(
                        response.status, 405,
                        "{method} {url} is described but not routed"
                    );
                    assert!(
                        !response.text().contains("no such route"),
                        "{method} {url} fell through to the fallback: {}",
                        response.text()
                    );
                    assert!(
                        (response.status as usize) < 500,
                        "{method} {url}: {} {}",
                        response.status,
                        response.text()
                    );
                    let responses = operation["responses"].as_object().expect("responses");
                    assert!(
                        responses.keys().any(|s| s.starts_with('2')),
                        "{method} {path} describes no success"
                    );
                    let listed = responses.contains_key(&response.status.to_string());
                    assert!(
                        listed,
                        "{method} {url} answered {}, not in the document",
                        response.status
                    );
                    for (status, answer) in responses {
                        if let Some(json) = answer["content"].get("application/json") {
                            assert!(
                                json.get("schema").is_some(),
                                "{method} {path} {status}: a JSON answer without a schema"
                            );
                        }
                    }
                }
                None => {
                    response.assert_error(405, "method_not_allowed");
                }
            }
        }
    }
    assert!(probed > 0, "no path probed under {prefix:?}");
}

/// Proves a district platform answers as the document's second server
/// says: every path of the document under `/c/{slug}` answers exactly the
/// methods listed, as at a single ledger's root; its list,
/// `GET /api/v1/ledgers`, answers at the root with the keys of the
/// `LedgerList` schema; and the prefix's own answers (an unknown slug, a
/// retired ledger) are the documented `NoSuchLedger` and `LedgerRetired`
/// JSON errors, on any method.
#[test]
fn a_platform_serves_every_path_under_its_prefix_and_its_list_as_documented() {
    let doc = openapi();
    let servers = doc["servers"].as_array().expect("servers");
    assert_eq!(servers[1]["url"], "/c/{slug}");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("district");
    district(&root, 3, 20);
    support::run([
        "retire",
        "--platform",
        root.to_str().unwrap(),
        "--slug",
        "lanting",
    ])
    .assert_ok();
    let server = PlatformServer::start_with(&root, &["--no-check"]);
    let http = server.http();
    let platform = platform_only(&doc);
    probe(&http, "/c/xingguang", &doc, |path| !platform.contains(path));
    probe(&http, "", &doc, |path| platform.contains(path));

    // The list's keys are the schema's; its required keys are there.
    let schema = &doc["components"]["schemas"]["PlatformLedger"];
    let known = schema["properties"].as_object().unwrap();
    let listed = http.get("/api/v1/ledgers").ok_json();
    let ledgers = listed["ledgers"].as_array().unwrap();
    assert_eq!(ledgers.len(), 3);
    for ledger in ledgers {
        for key in ledger.as_object().unwrap().keys() {
            assert!(
                known.contains_key(key),
                "{key} is not in the schema: {ledger}"
            );
        }
        for key in schema["required"].as_array().unwrap() {
            assert!(
                ledger.get(key.as_str().unwrap()).is_some(),
                "{key}: {ledger}"
            );
        }
        let status = ledger["status"].as_str().unwrap();
        assert!(
            schema["properties"]["status"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == status),
            "{ledger}"
        );
    }
    assert_eq!(ledgers[1]["status"], "retired", "{listed}");

    // The prefix's own answers, as components.responses gives them.
    let code_of = |name: &str| {
        doc["components"]["responses"][name]["content"]["application/json"]["example"]["error"]
            ["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for method in ["GET", "POST"] {
        for (path, status, response) in [
            ("/c/nowhere/api/v1/ledger", 404, "NoSuchLedger"),
            ("/c/lanting/checkpoint", 410, "LedgerRetired"),
        ] {
            let answer = Http::finish(
                http.client
                    .request(method.parse().unwrap(), format!("{}{path}", http.base))
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .unwrap(),
            )
            .unwrap();
            answer.assert_error(status, &code_of(response));
        }
    }
    assert_eq!(code_of("LedgerUnavailable"), "ledger_unavailable");
}

/// Proves the proof endpoints answer as docs/api.md says: a size beyond the
/// log is 404 `not_found` (the tree does not exist yet), from = 0, from > to
/// and seq >= size are 400 `malformed`; and that `/consistency` carries the
/// two roots it links, equal to the roots the inclusion proofs give at the
/// same sizes (hex, as every root in the API), with base64 proof hashes.
#[test]
fn proof_endpoints_answer_as_documented() {
    let community = Community::new();
    for n in 0..4 {
        community.income("2026-03-01", "100.00", &format!("3-150{n}"), "物业费");
    }
    let server = Server::start(&community.data);
    let http = server.http();
    let size = http.get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .unwrap();
    assert_eq!(size, 5);

    http.get(&format!("/api/v1/consistency?from=1&to={}", size + 1))
        .assert_error(404, "not_found");
    http.get(&format!("/api/v1/entries/0/proof?size={}", size + 1))
        .assert_error(404, "not_found");
    http.get("/api/v1/consistency?from=0&to=3")
        .assert_error(400, "malformed");
    http.get("/api/v1/consistency?from=4&to=3")
        .assert_error(400, "malformed");
    http.get("/api/v1/entries/3/proof?size=3")
        .assert_error(400, "malformed");

    let root_at = |n: u64| -> String {
        http.get(&format!("/api/v1/entries/0/proof?size={n}"))
            .ok_json()["root"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let c = http.get("/api/v1/consistency?from=2&to=5").ok_json();
    assert_eq!(c["from"], 2);
    assert_eq!(c["to"], 5);
    assert_eq!(c["from_root"].as_str().unwrap(), root_at(2));
    assert_eq!(c["to_root"].as_str().unwrap(), root_at(5));
    assert_ne!(c["from_root"], c["to_root"]);
    assert_eq!(c["to_root"].as_str().unwrap().len(), 64, "hex");
    // Default `to` is the log's size.
    let latest = http.get("/api/v1/consistency?from=2").ok_json();
    assert_eq!(latest["to"], 5);
    assert_eq!(latest["to_root"], c["to_root"]);

    // The roots and proof verify with the core's RFC 6962 check.
    use base64::Engine as _;
    let hash = |hex: &str| feeledger_core::hash::Hash::from_hex(hex).unwrap();
    let proof: Vec<_> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .expect("proof hashes are base64");
            feeledger_core::hash::Hash::from_slice(&bytes).unwrap()
        })
        .collect();
    feeledger_core::merkle::verify_consistency(
        2,
        5,
        &proof,
        &hash(c["from_root"].as_str().unwrap()),
        &hash(c["to_root"].as_str().unwrap()),
    )
    .expect("the served consistency proof links the served roots");
    server.kill();
}
