//! Governance: who must sign a new role set, and when it takes effect.

use crate::fixture::*;

fn new_committee_roles() -> Roles {
    let mut roles = genesis_roles(true);
    roles.insert(Role::Committee, role(2, &["cm-4", "cm-5", "cm-6"]));
    roles
}

/// Proves a new committee takes effect from the entry after the governance
/// entry: the new keys cannot sign the change itself, the old ones sign it,
/// and afterwards the old committee keys are unknown and the new ones work.
#[test]
fn new_committee_takes_effect_from_the_next_entry() {
    let mut l = Ledger::funded();
    let g = governance(Some(new_committee_roles()), "gn-1");
    let err = l.reject_body(g.clone(), &["cm-4", "cm-5", "sv-1"]);
    assert_eq!(err, ApplyError::UnknownKey { key: "cm-4".into() });
    l.commit(g, &["cm-1", "cm-2", "sv-1"]);
    assert_eq!(l.state().role_of("cm-1"), None);
    assert_eq!(l.state().role_of("cm-4"), Some(Role::Committee));

    let err = l.reject_body(
        expenditure("operating", 100, "gn-2"),
        &["cm-1", "cm-2", "co-1"],
    );
    assert_eq!(err, ApplyError::UnknownKey { key: "cm-1".into() });
    l.commit(
        expenditure("operating", 100, "gn-3"),
        &["cm-5", "cm-6", "co-1"],
    );
    // Entries signed before the change still replay: audit from genesis.
    assert_eq!(l.balance("operating"), 999_900);
}

/// Proves that with a supervisor, governance needs committee + supervisor:
/// company + committee is not enough.
#[test]
fn governance_needs_committee_and_supervisor() {
    let mut l = Ledger::funded();
    let g = governance(Some(new_committee_roles()), "gs-1");
    let err = l.reject_body(g.clone(), &["co-1", "cm-1", "cm-2", "cm-3"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Governance,
            role: Role::Supervisor,
            have: 0,
            need: 1
        }
    );
    let err = l.reject_body(g.clone(), &["cm-1", "sv-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Governance,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );
    l.commit(g, &["cm-1", "cm-3", "sv-1"]);
}

/// Proves that without a supervisor, governance needs company + committee.
#[test]
fn governance_without_supervisor_needs_company_and_committee() {
    let mut l = Ledger::new(false);
    let mut roles = genesis_roles(false);
    roles.insert(Role::Committee, role(2, &["cm-4", "cm-5", "cm-6"]));
    let g = governance(Some(roles), "gc-1");
    let err = l.reject_body(g.clone(), &["cm-1", "cm-2", "cm-3"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Governance,
            role: Role::Company,
            have: 0,
            need: 1
        }
    );
    l.commit(g, &["co-1", "cm-2", "cm-3"]);
    assert_eq!(l.state().role_of("cm-5"), Some(Role::Committee));
}

/// Proves governance must leave rules that name only existing roles: removing
/// the supervisor while the governance rule still names it is refused; the
/// same change with new rules is accepted, and the new rules apply next.
#[test]
fn governance_rules_must_fit_the_roles() {
    let mut l = Ledger::funded();
    let roles = genesis_roles(false);
    let err = l.reject_body(
        governance(Some(roles.clone()), "gr-1"),
        &["cm-1", "cm-2", "sv-1"],
    );
    assert_field_error(&err, "$.body.rules.governance");

    let mut b = governance(Some(roles), "gr-2");
    if let Content::Governance(g) = &mut b.content {
        let mut rules = default_rules(false);
        rules.insert(RuleKind::Income, vec![Role::Company, Role::Committee]);
        g.rules = Some(rules);
    }
    l.commit(b, &["cm-1", "cm-2", "sv-1"]);
    let err = l.reject_body(income("operating", 1, "gr-3"), &["co-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Income,
            role: Role::Committee,
            have: 0,
            need: 2
        }
    );
    // Governance that changes nothing at all is malformed.
    let err = l.reject_body(governance(None, "gr-4"), &["co-1", "cm-1", "cm-2"]);
    assert_field_error(&err, "$.body");
}
