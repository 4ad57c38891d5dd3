//! Entry bodies, leaves and their canonical bytes.
//!
//! A **body** is what signers sign: a JCS object carrying `ledger` (the
//! origin), `kind`, `date`, `nonce` and the kind's own fields. A **leaf** is
//! what the log commits: JCS of `{seq, prev, time, body, signatures}`.
//!
//! Decoding is strict in three layers: the bytes must be canonical JCS
//! ([`crate::canonical`]), every field must be known (`deny_unknown_fields`),
//! and re-encoding the typed value must give back the same bytes, so a value
//! has exactly one encoding. Field-level limits (lengths, patterns, ranges)
//! are checked by [`Body::check_fields`], which decoding calls.

use crate::canonical::{self, is_control, CanonicalError};
use crate::hash::{leaf_hash, sha256, Hash};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Domain separation for entry signatures: a signature over a body can never
/// be mistaken for a signature over a note, a cosignature or another format.
pub const ENTRY_SIGNATURE_CONTEXT: &[u8] = b"feeledger/entry/v1\n";

/// Largest amount of one entry: 10^13 fen (100 billion yuan).
pub const AMOUNT_FEN_MAX: u64 = 10_000_000_000_000;

/// Length limits, in bytes of UTF-8.
pub const ORIGIN_BYTES_MAX: usize = 128;
pub const NAME_BYTES_MAX: usize = 200;
pub const PARTY_BYTES_MAX: usize = 100;
pub const MEMO_BYTES_MAX: usize = 1_000;
pub const REASON_BYTES_MAX: usize = 1_000;
pub const DECISION_REF_BYTES_MAX: usize = 200;
pub const ATTACHMENT_NAME_BYTES_MAX: usize = 200;
/// Longest name of a role member's key in an entry (signatures' `key`,
/// roles' key names). Stricter than a signed-note key name
/// ([`crate::note::NOTE_KEY_NAME_BYTES_MAX`]): lower-case ASCII only.
pub const MEMBER_KEY_NAME_BYTES_MAX: usize = 64;
pub const NONCE_BYTES_MAX: usize = 64;
pub const FUND_ID_BYTES_MAX: usize = 32;
/// Longest display name of a role key: 16 Chinese characters (3 bytes
/// each), enough for "李明（物业经理）" and short enough for a receipt line.
pub const DISPLAY_NAME_BYTES_MAX: usize = 48;

/// Count limits.
pub const ATTACHMENTS_MAX: usize = 32;
pub const FUNDS_MAX: usize = 16;
pub const KEYS_PER_ROLE_MAX: usize = 32;
pub const SIGNATURES_MAX: usize = 64;

/// Payers and payees are units or businesses, never people: more digits
/// than this (in any script, separators ignored) look like a phone or ID
/// number and are refused.
pub const PARTY_DIGITS_MAX: usize = 8;

/// Most digits in one unbroken run of a payer or payee.
pub const PARTY_DIGIT_RUN_MAX: usize = 6;

/// Basis points in one whole (100%).
pub const BASIS_POINTS_WHOLE: u32 = 10_000;

/// The funds every ledger must define.
pub const REQUIRED_FUNDS: [&str; 3] = ["operating", "public_revenue", "maintenance"];

/// The kinds of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Genesis,
    Income,
    Expenditure,
    Transfer,
    Reversal,
    Governance,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Genesis,
        Kind::Income,
        Kind::Expenditure,
        Kind::Transfer,
        Kind::Reversal,
        Kind::Governance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Genesis => "genesis",
            Kind::Income => "income",
            Kind::Expenditure => "expenditure",
            Kind::Transfer => "transfer",
            Kind::Reversal => "reversal",
            Kind::Governance => "governance",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds whose signing rule the ledger sets. Genesis needs every role,
/// and a reversal needs whatever its target's kind needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Income,
    Expenditure,
    Transfer,
    Governance,
}

impl RuleKind {
    pub const ALL: [RuleKind; 4] = [
        RuleKind::Income,
        RuleKind::Expenditure,
        RuleKind::Transfer,
        RuleKind::Governance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Income => "income",
            RuleKind::Expenditure => "expenditure",
            RuleKind::Transfer => "transfer",
            RuleKind::Governance => "governance",
        }
    }
}

/// The roles of a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The property-management company (物业公司).
    Company,
    /// The owners' committee (业主委员会).
    Committee,
    /// The community party organisation or street office (社区党组织 / 街道办).
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Company => "company",
            Role::Committee => "committee",
            Role::Supervisor => "supervisor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeCategory {
    PropertyFee,
    Parking,
    Advertising,
    VenueRental,
    Interest,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpenseCategory {
    Cleaning,
    Security,
    Greening,
    Elevator,
    Repairs,
    Utilities,
    Salaries,
    ManagementFee,
    Other,
}

impl IncomeCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            IncomeCategory::PropertyFee => "property_fee",
            IncomeCategory::Parking => "parking",
            IncomeCategory::Advertising => "advertising",
            IncomeCategory::VenueRental => "venue_rental",
            IncomeCategory::Interest => "interest",
            IncomeCategory::Other => "other",
        }
    }
}

impl ExpenseCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpenseCategory::Cleaning => "cleaning",
            ExpenseCategory::Security => "security",
            ExpenseCategory::Greening => "greening",
            ExpenseCategory::Elevator => "elevator",
            ExpenseCategory::Repairs => "repairs",
            ExpenseCategory::Utilities => "utilities",
            ExpenseCategory::Salaries => "salaries",
            ExpenseCategory::ManagementFee => "management_fee",
            ExpenseCategory::Other => "other",
        }
    }
}

/// A calendar date, `YYYY-MM-DD`, years 2000 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u16> {
            let s = &text[r];
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let date = Date {
            year,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        };
        let valid = (2000..=9999).contains(&year)
            && (1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= days_in_month(year, date.month);
        valid.then_some(date)
    }

    /// `YYYY-MM`: the key of monthly totals.
    pub fn month(&self) -> Month {
        Month {
            year: self.year,
            month: self.month,
        }
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: u16,
    pub month: u8,
}

impl Month {
    pub fn parse(text: &str) -> Option<Month> {
        Date::parse(&format!("{text}-01")).map(|d| d.month())
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

macro_rules! string_serde {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("{:?} is not a valid {}", text, $what))
                })
            }
        }
    };
}
string_serde!(Date, "date (YYYY-MM-DD, year 2000-9999)");
string_serde!(Month, "month (YYYY-MM)");

/// A named Ed25519 key of a role. `public_key` is 32 bytes, base64.
///
/// `display_name` is the person (or body) the key stands for, as residents
/// read it ("王建国"); `name` stays the slug signatures refer to. It is
/// signed with the rest of the roles. Absent, it is left out of the
/// canonical bytes altogether (never `null`), so the bytes of a role set
/// without names are what they were before the field existed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub name: String,
    pub public_key: String,
}

impl KeyDef {
    /// How a person reads this key: the name it signs for, then the key's
    /// name, `王建国（weiyuan-wang）`; the key's name alone when it has none.
    pub fn person_and_key(&self) -> String {
        match &self.display_name {
            Some(person) => format!("{person}（{}）", self.name),
            None => self.name.clone(),
        }
    }

    /// Decodes the key, refusing anything but 32 bytes of a valid point.
    pub fn verifying_key(&self) -> Option<ed25519_dalek::VerifyingKey> {
        let bytes: [u8; 32] = BASE64.decode(&self.public_key).ok()?.try_into().ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()
    }
}

/// A role's keys, and how many distinct ones must sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDef {
    pub threshold: u32,
    pub keys: Vec<KeyDef>,
}

/// The roles in force. Company and committee are mandatory.
pub type Roles = BTreeMap<Role, RoleDef>;

/// For each rule kind, the roles that must each reach their threshold.
pub type Rules = BTreeMap<RuleKind, Vec<Role>>;

/// The default rules of the issue: income by the company; spending and
/// transfers by company and committee; governance by committee and
/// supervisor, or by company and committee where there is no supervisor.
pub fn default_rules(has_supervisor: bool) -> Rules {
    let mut rules = Rules::new();
    rules.insert(RuleKind::Income, vec![Role::Company]);
    rules.insert(RuleKind::Expenditure, vec![Role::Company, Role::Committee]);
    rules.insert(RuleKind::Transfer, vec![Role::Company, Role::Committee]);
    let governance = if has_supervisor {
        vec![Role::Committee, Role::Supervisor]
    } else {
        vec![Role::Company, Role::Committee]
    };
    rules.insert(RuleKind::Governance, governance);
    rules
}

/// A fund and its display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundDef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Display name, e.g. "星光小区 X Star District".
    pub name: String,
    /// ISO 4217 code; `CNY` in this version.
    pub currency: String,
    /// Name of the minor unit in which every amount is counted; `fen`.
    pub minor_unit: String,
    /// Minor units per major unit; 100 for CNY.
    pub minor_units_per_major: u32,
    pub funds: Vec<FundDef>,
    pub roles: Roles,
    pub rules: Rules,
    /// The checkpoint key, as a C2SP note verifier key whose name is the origin.
    pub log_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Income {
    pub fund: String,
    pub amount_fen: u64,
    pub category: IncomeCategory,
    /// A unit number ("3-1502") or a business name; never a person.
    pub payer: String,
    /// The period paid for, `YYYY-MM`.
    pub period: Month,
    pub memo: String,
}

/// A document kept outside the ledger, bound to it by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    pub name: String,
    pub sha256: Hash,
    pub bytes: u64,
}

/// The owners' decision behind a use of the maintenance fund (or a transfer):
/// participation and approval, by area and by headcount, in basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnersApproval {
    pub decision_ref: String,
    pub participating_area_bp: u32,
    pub participating_headcount_bp: u32,
    pub approving_area_bp: u32,
    pub approving_headcount_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expenditure {
    pub fund: String,
    pub amount_fen: u64,
    pub category: ExpenseCategory,
    pub payee: String,
    pub memo: String,
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners_approval: Option<OwnersApproval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub from_fund: String,
    pub to_fund: String,
    pub amount_fen: u64,
    pub memo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners_approval: Option<OwnersApproval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reversal {
    pub target_seq: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Roles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Rules>,
    pub memo: String,
}

/// The kind-specific part of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Genesis(Genesis),
    Income(Income),
    Expenditure(Expenditure),
    Transfer(Transfer),
    Reversal(Reversal),
    Governance(Governance),
}

impl Content {
    pub fn kind(&self) -> Kind {
        match self {
            Content::Genesis(_) => Kind::Genesis,
            Content::Income(_) => Kind::Income,
            Content::Expenditure(_) => Kind::Expenditure,
            Content::Transfer(_) => Kind::Transfer,
            Content::Reversal(_) => Kind::Reversal,
            Content::Governance(_) => Kind::Governance,
        }
    }
}

/// What signers sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The ledger's origin; binds the body to one ledger.
    pub ledger: String,
    /// Business date.
    pub date: Date,
    /// Distinguishes otherwise identical bodies (two equal payments).
    pub nonce: String,
    pub content: Content,
}

/// Why a body or leaf was refused before any policy was consulted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    #[error("{path}: {reason}")]
    Schema { path: String, reason: String },
    #[error("{path}: {reason}")]
    Field { path: String, reason: String },
    #[error("not in canonical form: {reason}")]
    NotCanonical { reason: String },
}

fn field_error(path: impl Into<String>, reason: impl Into<String>) -> FormatError {
    FormatError::Field {
        path: path.into(),
        reason: reason.into(),
    }
}

fn schema_error(path: &str, e: serde_json::Error) -> FormatError {
    FormatError::Schema {
        path: path.to_string(),
        reason: e.to_string(),
    }
}

const HEADER_FIELDS: [&str; 4] = ["kind", "ledger", "date", "nonce"];

impl Body {
    pub fn kind(&self) -> Kind {
        self.content.kind()
    }

    /// The body as a JSON value (before canonicalization).
    pub fn to_value(&self) -> Value {
        let content = match &self.content {
            Content::Genesis(c) => serde_json::to_value(c),
            Content::Income(c) => serde_json::to_value(c),
            Content::Expenditure(c) => serde_json::to_value(c),
            Content::Transfer(c) => serde_json::to_value(c),
            Content::Reversal(c) => serde_json::to_value(c),
            Content::Governance(c) => serde_json::to_value(c),
        };
        let Ok(Value::Object(mut map)) = content else {
            unreachable!("content structs serialize as objects")
        };
        map.insert("kind".into(), Value::String(self.kind().as_str().into()));
        map.insert("ledger".into(), Value::String(self.ledger.clone()));
        map.insert("date".into(), Value::String(self.date.to_string()));
        map.insert("nonce".into(), Value::String(self.nonce.clone()));
        Value::Object(map)
    }

    /// JCS of the body: the bytes whose hash is the proposal id.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        canonical::to_canonical_bytes(&self.to_value())
    }

    /// The proposal id: SHA-256 of JCS(body).
    pub fn id(&self) -> Hash {
        sha256(&self.to_canonical_bytes())
    }

    /// The message an Ed25519 signer signs: the context line, then JCS(body).
    pub fn signing_message(&self) -> Vec<u8> {
        signing_message(&self.to_canonical_bytes())
    }

    /// Decodes canonical bytes into a body and checks every field.
    ///
    /// # Errors
    /// [`FormatError`] naming the first field at fault.
    pub fn decode(bytes: &[u8]) -> Result<Body, FormatError> {
        // Canonical bytes decode in one pass: if the body built from them
        // re-encodes to the same bytes, they are canonical. Anything else
        // goes the strict way, which names the first fault.
        if let Ok(value) = canonical::parse_restricted(bytes) {
            if let Ok(body) = Body::from_value(value, "$") {
                if body.to_canonical_bytes() == bytes {
                    return Ok(body);
                }
            }
        }
        Self::decode_naming_faults(bytes)
    }

    /// [`Body::decode`] checking canonical form before the fields, so that
    /// the error is the first fault.
    fn decode_naming_faults(bytes: &[u8]) -> Result<Body, FormatError> {
        let value = canonical::parse_canonical(bytes)?;
        let body = Body::from_value(value, "$")?;
        let again = body.to_canonical_bytes();
        if again != bytes {
            return Err(FormatError::NotCanonical {
                reason: "re-encoding the body changes its bytes (an optional field spelled out?)"
                    .into(),
            });
        }
        Ok(body)
    }

    /// Builds a body from an already-checked JSON value; `path` prefixes
    /// error locations.
    ///
    /// # Errors
    /// [`FormatError`] for a missing, unknown or ill-typed field, or a field
    /// limit broken ([`Body::check_fields`]).
    pub fn from_value(value: Value, path: &str) -> Result<Body, FormatError> {
        let Value::Object(mut map) = value else {
            return Err(field_error(path, "a body must be a JSON object"));
        };
        let mut take = |name: &str| -> Result<String, FormatError> {
            match map.remove(name) {
                Some(Value::String(s)) => Ok(s),
                Some(_) => Err(field_error(format!("{path}.{name}"), "must be a string")),
                None => Err(field_error(format!("{path}.{name}"), "is missing")),
            }
        };
        let [kind, ledger, date, nonce] = HEADER_FIELDS.map(&mut take);
        let (kind, ledger, date, nonce) = (kind?, ledger?, date?, nonce?);
        let kind = Kind::parse(&kind)
            .ok_or_else(|| field_error(format!("{path}.kind"), format!("unknown kind {kind:?}")))?;
        let date = Date::parse(&date).ok_or_else(|| {
            field_error(
                format!("{path}.date"),
                "must be a real date YYYY-MM-DD, year 2000-9999",
            )
        })?;
        let rest = Value::Object(map);
        let content = match kind {
            Kind::Genesis => Content::Genesis(from_json(rest, path)?),
            Kind::Income => Content::Income(from_json(rest, path)?),
            Kind::Expenditure => Content::Expenditure(from_json(rest, path)?),
            Kind::Transfer => Content::Transfer(from_json(rest, path)?),
            Kind::Reversal => Content::Reversal(from_json(rest, path)?),
            Kind::Governance => Content::Governance(from_json(rest, path)?),
        };
        let body = Body {
            ledger,
            date,
            nonce,
            content,
        };
        body.check_fields(path)?;
        Ok(body)
    }

    /// Field-level limits that need no ledger state: lengths, patterns,
    /// ranges. Cross-field rules that need the ledger (does the fund exist?)
    /// live in [`crate::state`].
    ///
    /// # Errors
    /// [`FormatError`] naming the first field out of its limits, with its path.
    pub fn check_fields(&self, path: &str) -> Result<(), FormatError> {
        let at = |field: &str| format!("{path}.{field}");
        check_origin(&self.ledger).map_err(|r| field_error(at("ledger"), r))?;
        check_token(&self.nonce, NONCE_BYTES_MAX, "a nonce")
            .map_err(|r| field_error(at("nonce"), r))?;
        match &self.content {
            Content::Genesis(g) => {
                check_text(&g.name, 1, NAME_BYTES_MAX).map_err(|r| field_error(at("name"), r))?;
                if g.currency != "CNY" || g.minor_unit != "fen" || g.minor_units_per_major != 100 {
                    return Err(field_error(
                        at("currency"),
                        "this version keeps CNY in fen (currency \"CNY\", minor_unit \"fen\", minor_units_per_major 100)",
                    ));
                }
                if g.funds.is_empty() || g.funds.len() > FUNDS_MAX {
                    return Err(field_error(at("funds"), format!("1 to {FUNDS_MAX} funds")));
                }
                for (i, fund) in g.funds.iter().enumerate() {
                    check_fund_id(&fund.id)
                        .map_err(|r| field_error(at(&format!("funds[{i}].id")), r))?;
                    check_text(&fund.name, 1, NAME_BYTES_MAX)
                        .map_err(|r| field_error(at(&format!("funds[{i}].name")), r))?;
                }
                if !g.funds.windows(2).all(|w| w[0].id < w[1].id) {
                    return Err(field_error(
                        at("funds"),
                        "fund ids must be unique and sorted",
                    ));
                }
                for required in REQUIRED_FUNDS {
                    if !g.funds.iter().any(|f| f.id == required) {
                        return Err(field_error(
                            at("funds"),
                            format!("the fund {required:?} is required"),
                        ));
                    }
                }
                check_roles(&g.roles, &at("roles"))?;
                check_rules(&g.rules, &g.roles, &at("rules"))?;
            }
            Content::Income(i) => {
                check_fund_id(&i.fund).map_err(|r| field_error(at("fund"), r))?;
                check_amount(i.amount_fen).map_err(|r| field_error(at("amount_fen"), r))?;
                check_party(&i.payer).map_err(|r| field_error(at("payer"), r))?;
                check_text(&i.memo, 0, MEMO_BYTES_MAX).map_err(|r| field_error(at("memo"), r))?;
            }
            Content::Expenditure(e) => {
                check_fund_id(&e.fund).map_err(|r| field_error(at("fund"), r))?;
                check_amount(e.amount_fen).map_err(|r| field_error(at("amount_fen"), r))?;
                check_party(&e.payee).map_err(|r| field_error(at("payee"), r))?;
                check_text(&e.memo, 0, MEMO_BYTES_MAX).map_err(|r| field_error(at("memo"), r))?;
                if e.attachments.len() > ATTACHMENTS_MAX {
                    return Err(field_error(
                        at("attachments"),
                        format!("at most {ATTACHMENTS_MAX}"),
                    ));
                }
                for (n, a) in e.attachments.iter().enumerate() {
                    check_text(&a.name, 1, ATTACHMENT_NAME_BYTES_MAX)
                        .map_err(|r| field_error(at(&format!("attachments[{n}].name")), r))?;
                }
                if let Some(approval) = &e.owners_approval {
                    check_approval(approval, &at("owners_approval"))?;
                }
            }
            Content::Transfer(t) => {
                check_fund_id(&t.from_fund).map_err(|r| field_error(at("from_fund"), r))?;
                check_fund_id(&t.to_fund).map_err(|r| field_error(at("to_fund"), r))?;
                if t.from_fund == t.to_fund {
                    return Err(field_error(
                        at("to_fund"),
                        "a transfer needs two different funds",
                    ));
                }
                check_amount(t.amount_fen).map_err(|r| field_error(at("amount_fen"), r))?;
                check_text(&t.memo, 0, MEMO_BYTES_MAX).map_err(|r| field_error(at("memo"), r))?;
                if let Some(approval) = &t.owners_approval {
                    check_approval(approval, &at("owners_approval"))?;
                }
            }
            Content::Reversal(r) => {
                check_text(&r.reason, 1, REASON_BYTES_MAX)
                    .map_err(|e| field_error(at("reason"), e))?;
            }
            Content::Governance(g) => {
                if g.roles.is_none() && g.rules.is_none() {
                    return Err(field_error(
                        path,
                        "governance must change roles, rules or both",
                    ));
                }
                check_text(&g.memo, 0, MEMO_BYTES_MAX).map_err(|r| field_error(at("memo"), r))?;
                if let Some(roles) = &g.roles {
                    check_roles(roles, &at("roles"))?;
                }
                // Rules are checked against the roles they will work with in
                // `state`, since they may keep the current roles.
            }
        }
        Ok(())
    }
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value, path: &str) -> Result<T, FormatError> {
    serde_json::from_value(value).map_err(|e| schema_error(path, e))
}

/// The message an Ed25519 signer signs for the body with these canonical bytes.
pub fn signing_message(body_canonical: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(ENTRY_SIGNATURE_CONTEXT.len() + body_canonical.len());
    message.extend_from_slice(ENTRY_SIGNATURE_CONTEXT);
    message.extend_from_slice(body_canonical);
    message
}

/// The body's canonical bytes inside canonical leaf bytes, without
/// re-encoding: JCS sorts the leaf's keys, so the leaf is
/// `{"body":<JCS(body)>,"prev":"...",...}`, and `,"prev":"` cannot occur
/// unescaped inside the body (its strings escape quotes and it has no field
/// named `prev`). `None` if the bytes do not have that shape.
pub fn body_bytes_of_leaf(leaf_bytes: &[u8]) -> Option<&[u8]> {
    const HEAD: &[u8] = b"{\"body\":";
    const PREV: &[u8] = b",\"prev\":\"";
    if !leaf_bytes.starts_with(HEAD) {
        return None;
    }
    let end = leaf_bytes.windows(PREV.len()).rposition(|w| w == PREV)?;
    (end > HEAD.len()).then(|| &leaf_bytes[HEAD.len()..end])
}

/// A signature on a body by a named key. `sig` is 64 bytes, base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySignature {
    pub key: String,
    pub sig: String,
}

impl EntrySignature {
    pub fn new(key: &str, signature: &ed25519_dalek::Signature) -> EntrySignature {
        EntrySignature {
            key: key.to_string(),
            sig: BASE64.encode(signature.to_bytes()),
        }
    }

    pub fn signature(&self) -> Option<ed25519_dalek::Signature> {
        let bytes: [u8; 64] = BASE64.decode(&self.sig).ok()?.try_into().ok()?;
        Some(ed25519_dalek::Signature::from_bytes(&bytes))
    }
}

/// Signatures are listed in key-name order with no repeats, so that a set of
/// signatures has one encoding.
///
/// # Errors
/// [`FormatError`] if the list is empty, longer than `SIGNATURES_MAX`,
/// out of key-name order, repeats a key, or has a malformed key name or
/// signature.
pub fn check_signature_list(signatures: &[EntrySignature], path: &str) -> Result<(), FormatError> {
    if signatures.is_empty() || signatures.len() > SIGNATURES_MAX {
        return Err(field_error(
            path,
            format!("1 to {SIGNATURES_MAX} signatures"),
        ));
    }
    for (i, s) in signatures.iter().enumerate() {
        check_member_key_name(&s.key).map_err(|r| field_error(format!("{path}[{i}].key"), r))?;
        if s.signature().is_none()
            || BASE64.encode(BASE64.decode(&s.sig).unwrap_or_default()) != s.sig
        {
            return Err(field_error(
                format!("{path}[{i}].sig"),
                "must be 64 bytes in padded base64",
            ));
        }
    }
    if !signatures.windows(2).all(|w| w[0].key < w[1].key) {
        return Err(field_error(
            path,
            "signatures must be sorted by key name, one per key",
        ));
    }
    Ok(())
}

/// Sorts signatures into leaf order and drops repeats by the same key.
pub fn normalize_signatures(signatures: &mut Vec<EntrySignature>) {
    signatures.sort_by(|a, b| a.key.cmp(&b.key));
    signatures.dedup_by(|a, b| a.key == b.key);
}

/// A committed entry, as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub seq: u64,
    /// Leaf hash of entry `seq - 1`; zeros for genesis.
    pub prev: Hash,
    /// When it was recorded: milliseconds since the Unix epoch, UTC.
    pub time_ms: u64,
    pub body: Body,
    pub signatures: Vec<EntrySignature>,
}

impl Leaf {
    /// The leaf as a JSON value, before canonicalization.
    ///
    /// # Panics
    /// Never: signatures always serialize.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("seq".into(), Value::from(self.seq));
        map.insert("prev".into(), Value::String(self.prev.to_hex()));
        map.insert("time".into(), Value::from(self.time_ms));
        map.insert("body".into(), self.body.to_value());
        map.insert(
            "signatures".into(),
            serde_json::to_value(&self.signatures).expect("signatures serialize"),
        );
        Value::Object(map)
    }

    /// JCS of the leaf: the bytes the log commits to.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        canonical::to_canonical_bytes(&self.to_value())
    }

    /// Decodes a leaf, strictly.
    ///
    /// # Errors
    /// [`FormatError`] naming the first field at fault.
    pub fn decode(bytes: &[u8]) -> Result<Leaf, FormatError> {
        // As `Body::decode`: one pass for canonical bytes, the strict way
        // (which names the first fault) for anything else.
        if let Ok(value) = canonical::parse_restricted(bytes) {
            if let Ok(leaf) = Leaf::from_value(value) {
                if leaf.to_canonical_bytes() == bytes {
                    return Ok(leaf);
                }
            }
        }
        Self::decode_naming_faults(bytes)
    }

    /// [`Leaf::decode`] checking canonical form before the fields, so that
    /// the error is the first fault.
    fn decode_naming_faults(bytes: &[u8]) -> Result<Leaf, FormatError> {
        let leaf = Leaf::from_value(canonical::parse_canonical(bytes)?)?;
        if leaf.to_canonical_bytes() != bytes {
            return Err(FormatError::NotCanonical {
                reason: "re-encoding the leaf changes its bytes".into(),
            });
        }
        Ok(leaf)
    }

    /// Builds a leaf from an already-checked JSON value.
    fn from_value(value: Value) -> Result<Leaf, FormatError> {
        let Value::Object(mut map) = value else {
            return Err(field_error("$", "a leaf must be a JSON object"));
        };
        let mut take = |name: &str| {
            map.remove(name)
                .ok_or_else(|| field_error(format!("$.{name}"), "is missing"))
        };
        let seq = take("seq")?
            .as_u64()
            .ok_or_else(|| field_error("$.seq", "must be a non-negative integer"))?;
        let prev = match take("prev")? {
            Value::String(s) => {
                Hash::from_hex(&s).map_err(|e| field_error("$.prev", e.to_string()))?
            }
            _ => return Err(field_error("$.prev", "must be a hex string")),
        };
        let time_ms = take("time")?
            .as_u64()
            .ok_or_else(|| field_error("$.time", "must be a non-negative integer"))?;
        let body = Body::from_value(take("body")?, "$.body")?;
        let signatures: Vec<EntrySignature> = serde_json::from_value(take("signatures")?)
            .map_err(|e| schema_error("$.signatures", e))?;
        if let Some(extra) = map.keys().next() {
            return Err(field_error(format!("$.{extra}"), "unknown field"));
        }
        check_signature_list(&signatures, "$.signatures")?;
        Ok(Leaf {
            seq,
            prev,
            time_ms,
            body,
            signatures,
        })
    }

    /// The canonical bytes of a leaf built from a body's canonical bytes,
    /// by concatenation: JCS sorts the leaf's keys as `body, prev, seq,
    /// signatures, time`, and signature key names and base64 need no
    /// escaping. Equal to [`Leaf::to_canonical_bytes`] (asserted in debug
    /// builds) but without re-encoding the body.
    ///
    /// # Panics
    /// In debug builds, if a signature's key name breaks
    /// [`check_member_key_name`] (it could need escaping): pass signatures
    /// that passed [`check_signature_list`].
    pub fn canonical_bytes_from_parts(
        body_bytes: &[u8],
        prev: &Hash,
        seq: u64,
        signatures: &[EntrySignature],
        time_ms: u64,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(body_bytes.len() + 160 + 120 * signatures.len());
        out.extend_from_slice(b"{\"body\":");
        out.extend_from_slice(body_bytes);
        out.extend_from_slice(b",\"prev\":\"");
        out.extend_from_slice(prev.to_hex().as_bytes());
        out.extend_from_slice(format!("\",\"seq\":{seq},\"signatures\":[").as_bytes());
        for (i, s) in signatures.iter().enumerate() {
            debug_assert!(check_member_key_name(&s.key).is_ok());
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(
                format!("{{\"key\":\"{}\",\"sig\":\"{}\"}}", s.key, s.sig).as_bytes(),
            );
        }
        out.extend_from_slice(format!("],\"time\":{time_ms}}}").as_bytes());
        out
    }

    /// RFC 6962 leaf hash of the canonical bytes.
    pub fn hash(&self) -> Hash {
        leaf_hash(&self.to_canonical_bytes())
    }
}

fn check_text(s: &str, bytes_min: usize, bytes_max: usize) -> Result<(), String> {
    if s.len() < bytes_min || s.len() > bytes_max {
        return Err(format!(
            "must be {bytes_min} to {bytes_max} bytes, is {}",
            s.len()
        ));
    }
    if s.chars().any(is_control) {
        return Err("must not contain control characters".into());
    }
    if s.trim() != s {
        return Err("must not start or end with white space".into());
    }
    Ok(())
}

fn check_token(s: &str, bytes_max: usize, what: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= bytes_max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} is 1 to {bytes_max} characters of A-Z a-z 0-9 - _"
        ))
    }
}

/// Origins follow C2SP: a schema-less URL-like name. We allow printable
/// ASCII without spaces or `+` (the note key-name separator).
///
/// # Errors
/// The rule, as a sentence for the user.
pub fn check_origin(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= ORIGIN_BYTES_MAX
        && s.bytes().all(|b| b.is_ascii_graphic() && b != b'+')
        && !s.contains("://");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "an origin is 1 to {ORIGIN_BYTES_MAX} printable ASCII characters with no space, '+' or scheme, e.g. \"example.org/ledger\""
        ))
    }
}

/// Checks the name of a role member's key as an entry carries it (a
/// signature's `key`, a role's key `name`): 1 to
/// [`MEMBER_KEY_NAME_BYTES_MAX`] characters of `a-z 0-9 . _ -`, starting
/// with a letter or digit. Lower-case ASCII so that names read the same
/// everywhere. Not the signed-note key name rule
/// ([`crate::note::check_note_key_name`]), which is looser.
///
/// # Errors
/// The rule, as a sentence for the user.
pub fn check_member_key_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= MEMBER_KEY_NAME_BYTES_MAX
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("a key name is 1 to {MEMBER_KEY_NAME_BYTES_MAX} characters of a-z 0-9 . _ -, starting with a letter or digit"))
    }
}

/// Why a display name (a role key's `display_name`) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("a display name is 1 to {DISPLAY_NAME_BYTES_MAX} bytes of UTF-8 (16 Chinese characters), is empty")]
    Empty,
    #[error("a display name is 1 to {DISPLAY_NAME_BYTES_MAX} bytes of UTF-8 (16 Chinese characters), is {bytes}")]
    TooLong { bytes: usize },
    #[error("a display name must not contain control characters (a line break, a tab)")]
    ControlCharacter,
    #[error("a display name must not start or end with white space")]
    EdgeWhiteSpace,
}

/// Checks a role key's display name: the text rule (docs/format.md §6.6)
/// with 1 to [`DISPLAY_NAME_BYTES_MAX`] bytes.
///
/// # Errors
/// [`DisplayNameError`] naming the rule broken.
pub fn check_display_name(s: &str) -> Result<(), DisplayNameError> {
    if s.is_empty() {
        return Err(DisplayNameError::Empty);
    }
    if s.len() > DISPLAY_NAME_BYTES_MAX {
        return Err(DisplayNameError::TooLong { bytes: s.len() });
    }
    if s.chars().any(is_control) {
        return Err(DisplayNameError::ControlCharacter);
    }
    if s.trim() != s {
        return Err(DisplayNameError::EdgeWhiteSpace);
    }
    Ok(())
}

fn check_fund_id(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= FUND_ID_BYTES_MAX
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a fund id is 1 to {FUND_ID_BYTES_MAX} characters of a-z 0-9 _, starting with a letter"
        ))
    }
}

fn check_amount(amount_fen: u64) -> Result<(), String> {
    if amount_fen == 0 || amount_fen > AMOUNT_FEN_MAX {
        Err(format!(
            "an amount is ¥0.01 to {}, is {}",
            crate::money::format_yuan(AMOUNT_FEN_MAX),
            crate::money::format_yuan(amount_fen)
        ))
    } else {
        Ok(())
    }
}

/// Payers and payees name a unit or a business, never a person: a phone
/// or ID number is refused. Digits are counted in any script (full-width
/// `１３８…` too), both in all (`138-0013-8000`) and in one unbroken run
/// (`1234567`), since a unit number (`12-2-1502`) has few of either.
fn check_party(s: &str) -> Result<(), String> {
    check_text(s, 1, PARTY_BYTES_MAX)?;
    let digits = s.chars().filter(|c| is_digit_like(*c)).count();
    let longest_run = s
        .split(|c: char| !is_digit_like(c))
        .map(|run| run.chars().count())
        .max()
        .unwrap_or(0);
    if digits > PARTY_DIGITS_MAX || longest_run > PARTY_DIGIT_RUN_MAX {
        return Err(format!(
            "this looks like a phone or ID number (at most {PARTY_DIGITS_MAX} digits, {PARTY_DIGIT_RUN_MAX} in a row); name a unit (e.g. \"3-1502\") or a business"
        ));
    }
    Ok(())
}

/// Digits in any script, and the Chinese numerals a phone number can be
/// written in (一三八〇〇…, 壹贰叁…).
fn is_digit_like(c: char) -> bool {
    c.is_numeric() || "〇零一二三四五六七八九两壹贰叁肆伍陆柒捌玖".contains(c)
}

fn check_approval(a: &OwnersApproval, path: &str) -> Result<(), FormatError> {
    check_text(&a.decision_ref, 1, DECISION_REF_BYTES_MAX)
        .map_err(|r| field_error(format!("{path}.decision_ref"), r))?;
    for (name, value) in [
        ("participating_area_bp", a.participating_area_bp),
        ("participating_headcount_bp", a.participating_headcount_bp),
        ("approving_area_bp", a.approving_area_bp),
        ("approving_headcount_bp", a.approving_headcount_bp),
    ] {
        if value > BASIS_POINTS_WHOLE {
            return Err(field_error(
                format!("{path}.{name}"),
                format!("basis points are 0 to {BASIS_POINTS_WHOLE}"),
            ));
        }
    }
    if a.approving_area_bp > a.participating_area_bp
        || a.approving_headcount_bp > a.participating_headcount_bp
    {
        return Err(field_error(path, "more owners approved than took part"));
    }
    Ok(())
}

/// Role sets: company and committee present; each role 1 to 32 keys,
/// threshold 1 to its key count; key names and key bytes unique across all
/// roles (a key belongs to one role only); no weak keys.
///
/// # Errors
/// [`FormatError`] naming the first role or key that breaks a rule.
pub fn check_roles(roles: &Roles, path: &str) -> Result<(), FormatError> {
    for required in [Role::Company, Role::Committee] {
        if !roles.contains_key(&required) {
            return Err(field_error(
                path,
                format!("the role {required} is required"),
            ));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    let mut keys = std::collections::BTreeSet::new();
    for (role, def) in roles {
        let at = format!("{path}.{role}");
        if def.keys.is_empty() || def.keys.len() > KEYS_PER_ROLE_MAX {
            return Err(field_error(&at, format!("1 to {KEYS_PER_ROLE_MAX} keys")));
        }
        if def.threshold == 0 || def.threshold as usize > def.keys.len() {
            return Err(field_error(
                format!("{at}.threshold"),
                format!("must be 1 to the number of keys ({})", def.keys.len()),
            ));
        }
        for (i, key) in def.keys.iter().enumerate() {
            let key_at = format!("{at}.keys[{i}]");
            check_member_key_name(&key.name)
                .map_err(|r| field_error(format!("{key_at}.name"), r))?;
            if let Some(display_name) = &key.display_name {
                check_display_name(display_name)
                    .map_err(|e| field_error(format!("{key_at}.display_name"), e.to_string()))?;
            }
            let Some(verifying) = key.verifying_key() else {
                return Err(field_error(
                    format!("{key_at}.public_key"),
                    "not a 32-byte Ed25519 public key in base64",
                ));
            };
            if BASE64.encode(verifying.as_bytes()) != key.public_key {
                return Err(field_error(
                    format!("{key_at}.public_key"),
                    "must be padded standard base64",
                ));
            }
            // One point, one encoding: otherwise two roles could hold the
            // same key under different bytes.
            if verifying.to_edwards().compress().to_bytes() != verifying.to_bytes() {
                return Err(field_error(
                    format!("{key_at}.public_key"),
                    "not a canonically encoded Ed25519 point",
                ));
            }
            if verifying.is_weak() {
                return Err(field_error(
                    format!("{key_at}.public_key"),
                    "weak (small-order) key refused",
                ));
            }
            if !names.insert(key.name.clone()) {
                return Err(field_error(
                    format!("{key_at}.name"),
                    format!("key name {:?} is used twice", key.name),
                ));
            }
            if !keys.insert(*verifying.as_bytes()) {
                return Err(field_error(
                    format!("{key_at}.public_key"),
                    "a key belongs to one role only, once",
                ));
            }
        }
        if !def.keys.windows(2).all(|w| w[0].name < w[1].name) {
            return Err(field_error(
                format!("{at}.keys"),
                "keys must be sorted by name",
            ));
        }
    }
    Ok(())
}

/// Rules: every rule kind present, each naming 1 or more distinct roles
/// that exist.
///
/// # Errors
/// [`FormatError`] naming the first rule kind missing or naming a role
/// that is absent or repeated.
pub fn check_rules(rules: &Rules, roles: &Roles, path: &str) -> Result<(), FormatError> {
    for kind in RuleKind::ALL {
        let at = format!("{path}.{}", kind.as_str());
        let Some(needed) = rules.get(&kind) else {
            return Err(field_error(at, "a rule is required for every kind"));
        };
        if needed.is_empty() || !needed.windows(2).all(|w| w[0] < w[1]) {
            return Err(field_error(
                &at,
                "1 or more distinct roles, in order company, committee, supervisor",
            ));
        }
        if let Some(missing) = needed.iter().find(|r| !roles.contains_key(r)) {
            return Err(field_error(
                &at,
                format!("names the role {missing}, which has no keys"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// The one-pass decoders accept and refuse exactly what the strict
    /// ones do, with the same error: checked on a genesis leaf and an
    /// income leaf, their bodies, and every single-byte change of them to a
    /// few bytes that JSON gives meaning to (a quote, an escape, a digit,
    /// white space, a closing brace, a non-ASCII letter's first byte).
    #[test]
    fn one_pass_decoding_agrees_with_the_strict_way() {
        let origin = "decode.example/ledger";
        let leaves = fixtures::chain(vec![
            fixtures::two_role_genesis(origin, "小区"),
            fixtures::property_fee(origin, "a"),
        ]);
        let mut cases = 0;
        for leaf in &leaves {
            let body = body_bytes_of_leaf(leaf).expect("a body").to_vec();
            for original in [leaf, &body] {
                for at in 0..original.len() {
                    for b in [b'"', b'\\', b'0', b' ', b'}', 0xe5] {
                        let mut bytes = original.clone();
                        bytes[at] = b;
                        assert_eq!(
                            Leaf::decode(&bytes),
                            Leaf::decode_naming_faults(&bytes),
                            "{}",
                            String::from_utf8_lossy(&bytes)
                        );
                        assert_eq!(
                            Body::decode(&bytes),
                            Body::decode_naming_faults(&bytes),
                            "{}",
                            String::from_utf8_lossy(&bytes)
                        );
                        cases += 1;
                    }
                }
                assert!(Leaf::decode(original).is_ok() || Body::decode(original).is_ok());
            }
        }
        assert!(cases > 6_000, "{cases}");
    }
}
