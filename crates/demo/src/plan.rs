//! The demo's year, planned: every entry's body and who signs it, in
//! ledger order. Deterministic: the same community gives the same plan.

use crate::{
    all_role_key_names, Community, DemoKeys, COMMITTEE_KEYS, COMPANY_KEYS, CONTRACT_NAME,
    NEW_MEMBER, RETIRING_MEMBER, SAMPLE_UNIT, SUPERVISOR_KEY, YEAR,
};
use feeledger_core::entry::{
    Attachment, Body, Content, Date, Expenditure, ExpenseCategory, Governance, Income,
    IncomeCategory, Month, OwnersApproval, Reversal, Role, RoleDef, Roles, Transfer,
};
use feeledger_core::genesis::GenesisTerms;
use feeledger_core::hash::sha256;
use std::collections::BTreeMap;

const COMPANY_THRESHOLD: u32 = 1;
const COMMITTEE_THRESHOLD: u32 = 2;
const SUPERVISOR_THRESHOLD: u32 = 1;

/// Units: buildings 1-10, floors 1-15, two units a floor ("3-1502").
const BUILDINGS: u32 = 10;
const FLOORS: u32 = 15;
const UNITS_PER_FLOOR: u32 = 2;
/// The property fee: 2.50 yuan per m² per month, i.e. 25 fen per 0.1 m².
const FEE_FEN_PER_TENTH_M2: u64 = 25;
/// Elevators: two per building.
const ELEVATORS: u64 = 20;
const ELEVATOR_UPKEEP_FEN: u64 = yuan(320);

/// The property company and the payees it deals with (businesses, never people).
const COMPANY_NAME: &str = "鑫安物业服务有限公司";
const ELEVATOR_COMPANY: &str = "迅达电梯（中国）有限公司";
/// The owner-approved elevator repair, paid from the maintenance fund.
const REPAIR_DECISION: &str = "2025-业主大会-02";
const REPAIR_FEN: u64 = yuan(286_500);
/// The unit whose May fee is entered twice, and the reversal's reason.
const DUPLICATED_UNIT: &str = "7-801";
const DUPLICATE_REASON: &str = "重复录入 duplicate entry";

/// Fen in `y` yuan.
const fn yuan(y: u64) -> u64 {
    y * 100
}

/// One entry of the plan: its body and who signs it.
pub struct Planned {
    pub body: Body,
    pub signers: Vec<&'static str>,
}

/// A dated event before it is numbered and signed.
struct Event {
    date: Date,
    content: Content,
    tag: Tag,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Plain,
    /// The second, mistaken copy of a fee payment.
    Duplicate,
    /// The reversal of [`Tag::Duplicate`]; its target is filled in once numbered.
    ReversesDuplicate,
}

/// The whole demo, in ledger order: genesis first, then every entry by
/// business date. Deterministic.
pub fn plan(community: &Community, keys: &DemoKeys) -> Vec<Planned> {
    let mut events = year_of_events(community, keys);
    // Business dates in order; same-day entries in the order they were made.
    events.sort_by_key(|e| e.date);
    let duplicate_seq = 1 + events
        .iter()
        .position(|e| e.tag == Tag::Duplicate)
        .expect("the year has a duplicate") as u64;
    let mut planned = Vec::with_capacity(events.len() + 1);
    planned.push(Planned {
        body: genesis(community, keys),
        signers: all_role_key_names()
            .into_iter()
            .filter(|n| *n != NEW_MEMBER)
            .collect(),
    });
    let mut committee: Vec<&'static str> = COMMITTEE_KEYS.to_vec();
    let mut rotation = 0usize;
    for event in events {
        let mut content = event.content;
        if event.tag == Tag::ReversesDuplicate {
            content = Content::Reversal(Reversal {
                target_seq: duplicate_seq,
                reason: DUPLICATE_REASON.into(),
            });
        }
        let signers = match &content {
            Content::Income(i) if i.category == IncomeCategory::PropertyFee => vec!["wuye-zhou"],
            Content::Income(_) | Content::Reversal(_) => vec!["wuye-li"],
            Content::Expenditure(_) | Content::Transfer(_) => {
                // The manager, and two committee members taking turns.
                let first = committee[rotation % committee.len()];
                let second = committee[(rotation + 1) % committee.len()];
                rotation += 1;
                vec!["wuye-li", first, second]
            }
            Content::Governance(_) => {
                // Signed by the committee in force (before the change) and the supervisor.
                let signers = vec![committee[0], committee[1], SUPERVISOR_KEY];
                for member in committee.iter_mut() {
                    if *member == RETIRING_MEMBER {
                        *member = NEW_MEMBER;
                    }
                }
                signers
            }
            Content::Genesis(_) => unreachable!("the year has no second genesis"),
        };
        let body = Body {
            ledger: community.origin.clone(),
            date: event.date,
            nonce: nonce(planned.len()),
            content,
        };
        planned.push(Planned { body, signers });
    }
    planned
}

/// The nonce of the entry at `seq`: fixed, so the demo is reproducible.
fn nonce(seq: usize) -> String {
    sha256(format!("feeledger demo nonce {seq}").as_bytes()).to_hex()[..32].to_string()
}

fn genesis(community: &Community, keys: &DemoKeys) -> Body {
    let role = |threshold: u32, names: &[&str]| RoleDef {
        threshold,
        keys: names.iter().map(|n| keys.key_def(n)).collect(),
    };
    let terms = GenesisTerms {
        origin: community.origin.clone(),
        name: community.name.clone(),
        funds: BTreeMap::new(),
        roles: [
            (Role::Company, role(COMPANY_THRESHOLD, &COMPANY_KEYS)),
            (Role::Committee, role(COMMITTEE_THRESHOLD, &COMMITTEE_KEYS)),
            (
                Role::Supervisor,
                role(SUPERVISOR_THRESHOLD, &[SUPERVISOR_KEY]),
            ),
        ]
        .into_iter()
        .collect(),
        rules: None,
    };
    terms.body(date(1, 1), nonce(0), &keys.log.verifier_key())
}

/// The roles after the July by-election.
fn roles_after_by_election(keys: &DemoKeys) -> Roles {
    let role = |threshold: u32, mut names: Vec<&str>| {
        names.sort_unstable();
        RoleDef {
            threshold,
            keys: names.iter().map(|n| keys.key_def(n)).collect(),
        }
    };
    let committee: Vec<&str> = COMMITTEE_KEYS
        .iter()
        .map(|n| if *n == RETIRING_MEMBER { NEW_MEMBER } else { n })
        .collect();
    [
        (
            Role::Company,
            role(COMPANY_THRESHOLD, COMPANY_KEYS.to_vec()),
        ),
        (Role::Committee, role(COMMITTEE_THRESHOLD, committee)),
        (
            Role::Supervisor,
            role(SUPERVISOR_THRESHOLD, vec![SUPERVISOR_KEY]),
        ),
    ]
    .into_iter()
    .collect()
}

/// SplitMix64: a small, fixed, portable generator, so the demo is the same
/// on every machine and every version of every dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` for a demo.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn date(month: u8, day: u8) -> Date {
    Date {
        year: YEAR,
        month,
        day,
    }
}

fn month(month: u8) -> Month {
    Month { year: YEAR, month }
}

struct Unit {
    name: String,
    /// Floor area in tenths of a square metre.
    area_tenths: u64,
    /// Some owners pay nothing all year (a dispute with the company).
    withholds: bool,
}

impl Unit {
    fn fee_fen(&self) -> u64 {
        self.area_tenths * FEE_FEN_PER_TENTH_M2
    }
}

fn units(rng: &mut Rng) -> Vec<Unit> {
    let mut out = Vec::new();
    for building in 1..=BUILDINGS {
        // Units above one another share a floor plan: 80.0 to 140.0 m².
        let plans: Vec<u64> = (0..UNITS_PER_FLOOR).map(|_| 800 + rng.below(601)).collect();
        for floor in 1..=FLOORS {
            for (i, area_tenths) in plans.iter().enumerate() {
                let name = format!("{building}-{floor}{:02}", i + 1);
                let withholds = rng.below(100) == 0;
                out.push(Unit {
                    withholds: withholds && name != SAMPLE_UNIT && name != DUPLICATED_UNIT,
                    name,
                    area_tenths: *area_tenths,
                });
            }
        }
    }
    out
}

fn fee_memo(unit: &Unit, owed: u8, late: bool) -> String {
    format!(
        "{}{YEAR}年{owed}月物业费 {}.{}㎡×2.50元/㎡",
        if late { "补缴 " } else { "" },
        unit.area_tenths / 10,
        unit.area_tenths % 10
    )
}

fn fee(unit: &Unit, owed: u8, late: bool) -> Content {
    Content::Income(Income {
        fund: "operating".into(),
        amount_fen: unit.fee_fen(),
        category: IncomeCategory::PropertyFee,
        payer: unit.name.clone(),
        period: month(owed),
        memo: fee_memo(unit, owed, late),
    })
}

fn income(
    fund: &str,
    amount_fen: u64,
    category: IncomeCategory,
    payer: &str,
    m: u8,
    memo: String,
) -> Content {
    Content::Income(Income {
        fund: fund.into(),
        amount_fen,
        category,
        payer: payer.into(),
        period: month(m),
        memo,
    })
}

fn spend(amount_fen: u64, category: ExpenseCategory, payee: &str, memo: String) -> Content {
    Content::Expenditure(Expenditure {
        fund: "operating".into(),
        amount_fen,
        category,
        payee: payee.into(),
        memo,
        attachments: vec![],
        owners_approval: None,
    })
}

/// A year of the community's money, as dated events (unsorted).
fn year_of_events(community: &Community, keys: &DemoKeys) -> Vec<Event> {
    let mut rng = Rng(community.events_seed);
    let units = units(&mut rng);
    let mut events: Vec<Event> = Vec::new();
    fn push(events: &mut Vec<Event>, date: Date, content: Content) {
        events.push(Event {
            date,
            content,
            tag: Tag::Plain,
        })
    }
    // Late fees owed for month m, paid in month m + 1: (unit index, month owed).
    let mut late: Vec<(usize, u8)> = Vec::new();
    // The maintenance fund, followed to compute its interest.
    let mut maintenance_fen: u64 = 0;
    for m in 1..=12u8 {
        let mut fees_this_month: u64 = 0;
        // Last month's late payers settle up first thing.
        for (i, owed) in std::mem::take(&mut late) {
            let day = 1 + rng.below(25) as u8;
            fees_this_month += units[i].fee_fen();
            push(&mut events, date(m, day), fee(&units[i], owed, true));
        }
        // Property fees: about 96% on time (days 1-25), 3% a month late,
        // the rest in arrears; a few owners withhold all year.
        for (i, unit) in units.iter().enumerate() {
            let draw = rng.below(1000);
            let day = 1 + rng.below(25) as u8;
            if unit.withholds {
                continue;
            }
            let on_time = if unit.name == SAMPLE_UNIT {
                m != 3
            } else {
                unit.name == DUPLICATED_UNIT || draw < 960
            };
            if on_time {
                fees_this_month += unit.fee_fen();
                push(&mut events, date(m, day), fee(unit, m, false));
                if unit.name == DUPLICATED_UNIT && m == 5 {
                    // The clerk records the same payment twice, and reverses
                    // the copy three days later.
                    events.push(Event {
                        date: date(m, day),
                        content: fee(unit, m, false),
                        tag: Tag::Duplicate,
                    });
                    events.push(Event {
                        date: date(m, day + 3),
                        content: Content::Reversal(Reversal {
                            target_seq: 0,
                            reason: DUPLICATE_REASON.into(),
                        }),
                        tag: Tag::ReversesDuplicate,
                    });
                }
            } else if (draw < 990 || unit.name == SAMPLE_UNIT) && m < 12 {
                late.push((i, m));
            }
        }

        // Common-area income (公共收益).
        let parking = yuan(18_000 + rng.below(5_000));
        push(
            &mut events,
            date(m, 5),
            income(
                "public_revenue",
                parking,
                IncomeCategory::Parking,
                "星光停车场管理有限公司",
                m,
                format!("{m}月公共车位停车费收入（扣除运营成本后上缴）"),
            ),
        );
        push(
            &mut events,
            date(m, 8),
            income(
                "public_revenue",
                yuan(4_200),
                IncomeCategory::Advertising,
                "分众传媒",
                m,
                format!("{m}月电梯间广告位使用费 40块"),
            ),
        );
        push(
            &mut events,
            date(m, 10),
            income(
                "public_revenue",
                yuan(600),
                IncomeCategory::VenueRental,
                "丰巢科技",
                m,
                format!("{m}月智能快递柜场地使用费"),
            ),
        );
        if [4, 7, 8, 10].contains(&m) {
            push(
                &mut events,
                date(m, 12),
                income(
                    "public_revenue",
                    yuan(1_200),
                    IncomeCategory::VenueRental,
                    "星光舞蹈培训中心",
                    m,
                    "会所多功能厅租用 4次".into(),
                ),
            );
        }

        // The maintenance fund (专项维修资金).
        if m == 1 {
            let opening = yuan(1_860_000);
            maintenance_fen += opening;
            push(
                &mut events,
                date(1, 2),
                income(
                    "maintenance",
                    opening,
                    IncomeCategory::Other,
                    "区住房专项维修资金管理中心",
                    1,
                    "期初余额：本小区专项维修资金划入业主共管账户 opening balance".into(),
                ),
            );
        }
        if m % 3 == 0 {
            // Interest is settled on the 20th of a quarter's last month.
            let interest = maintenance_fen * 135 / 40_000;
            maintenance_fen += interest;
            push(
                &mut events,
                date(m, 21),
                income(
                    "maintenance",
                    interest,
                    IncomeCategory::Interest,
                    "中国建设银行",
                    m,
                    format!("第{}季度存款利息 年利率1.35%", m / 3),
                ),
            );
        }
        if m == 6 {
            let amount = yuan(100_000);
            maintenance_fen += amount;
            push(
                &mut events,
                date(6, 30),
                Content::Transfer(Transfer {
                    from_fund: "public_revenue".into(),
                    to_fund: "maintenance".into(),
                    amount_fen: amount,
                    memo: "上半年公共收益转入专项维修资金（业主大会决定）".into(),
                    owners_approval: Some(OwnersApproval {
                        decision_ref: "2025-业主大会-01".into(),
                        participating_area_bp: 7_350,
                        participating_headcount_bp: 7_020,
                        approving_area_bp: 5_980,
                        approving_headcount_bp: 5_610,
                    }),
                }),
            );
        }
        if m == 7 {
            push(
                &mut events,
                date(7, 6),
                Content::Governance(Governance {
                    roles: Some(roles_after_by_election(keys)),
                    rules: None,
                    memo: format!(
                        "业委会委员变更 committee change: {RETIRING_MEMBER} 辞任, {NEW_MEMBER} 经{REPAIR_DECISION}补选接任"
                    ),
                }),
            );
        }
        if m == 8 {
            maintenance_fen -= REPAIR_FEN;
            let contract = contract_pdf();
            push(
                &mut events,
                date(8, 18),
                Content::Expenditure(Expenditure {
                    fund: "maintenance".into(),
                    amount_fen: REPAIR_FEN,
                    category: ExpenseCategory::Elevator,
                    payee: ELEVATOR_COMPANY.into(),
                    memo: "5号楼2号电梯更换曳引机及钢丝绳 elevator traction machine replacement"
                        .into(),
                    attachments: vec![Attachment {
                        name: CONTRACT_NAME.into(),
                        sha256: sha256(&contract),
                        bytes: contract.len() as u64,
                    }],
                    owners_approval: Some(OwnersApproval {
                        decision_ref: REPAIR_DECISION.into(),
                        participating_area_bp: 8_420,
                        participating_headcount_bp: 8_160,
                        approving_area_bp: 7_710,
                        approving_headcount_bp: 7_530,
                    }),
                }),
            );
        }

        // Operating costs, paid at month end once the month's fees are in.
        let summer_or_winter = [1, 2, 7, 8, 12].contains(&m);
        let growing = (3..=10).contains(&m);
        let electricity = if summer_or_winter {
            yuan(7_600)
        } else {
            yuan(5_200)
        } + yuan(rng.below(600));
        let water = yuan(600 + rng.below(300));
        let costs = [
            (
                26,
                yuan(11_800),
                ExpenseCategory::Cleaning,
                "洁美保洁服务有限公司",
                format!("{m}月保洁服务费"),
            ),
            (
                26,
                yuan(16_500),
                ExpenseCategory::Security,
                "安盾保安服务有限公司",
                format!("{m}月秩序维护（保安）服务费"),
            ),
            (
                27,
                if growing { yuan(6_800) } else { yuan(3_200) },
                ExpenseCategory::Greening,
                "绿源园林绿化有限公司",
                format!("{m}月绿化养护"),
            ),
            (
                27,
                ELEVATORS * ELEVATOR_UPKEEP_FEN,
                ExpenseCategory::Elevator,
                ELEVATOR_COMPANY,
                format!("{m}月电梯维保费 {ELEVATORS}部×320元"),
            ),
            (
                28,
                electricity,
                ExpenseCategory::Utilities,
                "国网供电公司",
                format!("{m}月公共区域用电（路灯、电梯、水泵）"),
            ),
            (
                28,
                water,
                ExpenseCategory::Utilities,
                "市自来水公司",
                format!("{m}月公共区域用水（绿化、保洁）"),
            ),
            (
                28,
                yuan(14_000),
                ExpenseCategory::Salaries,
                "鑫安物业员工工资专户",
                format!("{m}月客服、工程、管理人员工资 6人"),
            ),
            (
                28,
                fees_this_month * 8 / 100,
                ExpenseCategory::ManagementFee,
                COMPANY_NAME,
                format!("{m}月物业管理酬金（酬金制，当月物业费收入的8%）"),
            ),
        ];
        for (day, amount, category, payee, memo) in costs {
            push(
                &mut events,
                date(m, day),
                spend(amount, category, payee, memo),
            );
        }
        match m {
            4 => push(
                &mut events,
                date(4, 15),
                spend(
                    yuan(3_260),
                    ExpenseCategory::Repairs,
                    "宏达机电维修服务部",
                    "小区路灯及监控摄像头维修".into(),
                ),
            ),
            9 => push(
                &mut events,
                date(9, 26),
                spend(
                    yuan(8_800),
                    ExpenseCategory::Other,
                    "安泰消防技术服务有限公司",
                    "消防设施年度检测".into(),
                ),
            ),
            _ => {}
        }
    }
    events
}

/// The elevator repair contract: a small, fixed PDF, so that its SHA-256
/// in the ledger can be checked against `DATA/attachments/电梯维修合同.pdf`.
pub fn contract_pdf() -> Vec<u8> {
    let text = "BT /F1 14 Tf 72 760 Td (Xingguang District - elevator repair contract) Tj \
                0 -24 Td (Building 5, elevator 2: traction machine and ropes replaced.) Tj \
                0 -24 Td (Price: 286,500.00 CNY. Owners' decision 2025-02.) Tj \
                0 -24 Td (DEMO ONLY: a fictional document of the feeledger demo.) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        concat!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R ",
            "/Resources << /Font << /F1 5 0 R >> >> >>"
        )
        .to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{object}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}
