//! The genesis body of a new ledger, from what its founders decide.
//!
//! Pure: the business date (today, if the founders named none) and the
//! nonce (fresh random bytes for a real ledger, fixed for the demo) are
//! passed in. Reading a genesis description from a file, and signing and
//! storing the body, is `feeledger-ledgerdir`'s.

use crate::entry::{
    default_rules, Body, Content, Date, FundDef, Genesis, Role, Roles, Rules, REQUIRED_FUNDS,
};
use crate::note::VerifierKey;
use std::collections::BTreeMap;

/// What a genesis says, before it is dated and given a nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisTerms {
    /// The ledger's origin; its log key is named after it.
    pub origin: String,
    /// The community's display name.
    pub name: String,
    /// Fund id → display name. A required fund left out gets its default
    /// name ([`default_fund_name`]).
    pub funds: BTreeMap<String, String>,
    /// The roles, in any key order: the body lists each role's keys by
    /// name.
    pub roles: Roles,
    /// The rules; the defaults ([`default_rules`]) if `None`.
    pub rules: Option<Rules>,
}

impl GenesisTerms {
    /// The genesis body: these terms, dated `date`, with `nonce`, naming
    /// `log_key` as the key that signs the checkpoints. The body is not
    /// checked here; the store's `create` judges it as every entry is
    /// judged.
    pub fn body(&self, date: Date, nonce: String, log_key: &VerifierKey) -> Body {
        let mut funds = self.funds.clone();
        for id in REQUIRED_FUNDS {
            if !funds.contains_key(id) {
                funds.insert(
                    id.to_string(),
                    default_fund_name(id).unwrap_or(id).to_string(),
                );
            }
        }
        let roles: Roles = self
            .roles
            .iter()
            .map(|(role, def)| {
                let mut def = def.clone();
                def.keys.sort_by(|a, b| a.name.cmp(&b.name));
                (*role, def)
            })
            .collect();
        let rules = self
            .rules
            .clone()
            .unwrap_or_else(|| default_rules(roles.contains_key(&Role::Supervisor)));
        Body {
            ledger: self.origin.clone(),
            date,
            nonce,
            content: Content::Genesis(Genesis {
                name: self.name.clone(),
                currency: "CNY".into(),
                minor_unit: "fen".into(),
                minor_units_per_major: 100,
                funds: funds
                    .into_iter()
                    .map(|(id, name)| FundDef { id, name })
                    .collect(),
                roles,
                rules,
                log_key: log_key.to_string(),
            }),
        }
    }
}

/// The display name a required fund gets when the founders name none.
pub fn default_fund_name(id: &str) -> Option<&'static str> {
    match id {
        "operating" => Some("物业服务费 Property fees"),
        "public_revenue" => Some("公共收益 Common-area income"),
        "maintenance" => Some("专项维修资金 Maintenance fund"),
        _ => None,
    }
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm): a caller turns its clock's reading into today's date.
pub fn date_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{KeyDef, RoleDef};
    use crate::keyfile::KeyFile;

    fn terms() -> GenesisTerms {
        let key = |name: &str, seed: u8| {
            let key = KeyFile::from_seed(name, [seed; 32]).unwrap();
            KeyDef {
                name: name.into(),
                public_key: key.public_key_base64(),
            }
        };
        GenesisTerms {
            origin: "example.org/test".into(),
            name: "测试小区".into(),
            funds: [("maintenance".to_string(), "维修资金".to_string())].into(),
            roles: [
                (
                    Role::Company,
                    RoleDef {
                        threshold: 1,
                        keys: vec![key("wuye-zhou", 1), key("wuye-li", 2)],
                    },
                ),
                (
                    Role::Committee,
                    RoleDef {
                        threshold: 1,
                        keys: vec![key("weiyuan-wang", 3)],
                    },
                ),
            ]
            .into(),
            rules: None,
        }
    }

    /// The body fills in what the founders left out (the required funds'
    /// names, the default rules for roles without a supervisor), lists each
    /// role's keys by name, keeps the names they gave, and is accepted as
    /// a genesis by the state machine's decoder.
    #[test]
    fn body_fills_defaults_and_sorts_keys() {
        let log = KeyFile::from_seed("example.org/test", [9; 32]).unwrap();
        let date = Date::parse("2025-01-01").unwrap();
        let body = terms().body(date, "00".repeat(16), &log.verifier_key());
        let Content::Genesis(genesis) = &body.content else {
            panic!("not a genesis");
        };
        let funds: Vec<(&str, &str)> = genesis
            .funds
            .iter()
            .map(|f| (f.id.as_str(), f.name.as_str()))
            .collect();
        assert_eq!(
            funds,
            [
                ("maintenance", "维修资金"),
                ("operating", "物业服务费 Property fees"),
                ("public_revenue", "公共收益 Common-area income"),
            ]
        );
        let company: Vec<&str> = genesis.roles[&Role::Company]
            .keys
            .iter()
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(company, ["wuye-li", "wuye-zhou"]);
        assert_eq!(genesis.rules, default_rules(false));
        assert_eq!(genesis.log_key, log.verifier_key().to_string());
        assert_eq!(body.ledger, "example.org/test");
        assert_eq!(body.date, date);
        Body::decode(&body.to_canonical_bytes()).expect("a well-formed genesis body");
    }

    /// Day counts turn into the civil dates they are, across leap days and
    /// the epoch.
    #[test]
    fn dates_from_day_counts() {
        for (days, date) in [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (11_016, "2000-02-29"),
            (20_089, "2025-01-01"),
            (20_512, "2026-02-28"),
        ] {
            assert_eq!(date_from_days(days).to_string(), date, "day {days}");
        }
    }
}
