//! Parties and text: no phone numbers as payers, Chinese text accepted.

use crate::fixture::*;

/// Proves a payer or payee with a run of more than 6 digits (an 11-digit
/// phone number, an ID number) is refused; unit numbers are fine.
#[test]
fn phone_number_payer_is_refused() {
    let mut l = Ledger::funded();
    for bad in [
        "13800138000",
        "张先生 13800138000",
        "1234567",
        "138-0013-8000",
        "１３８００１３８０００",
        "一三八〇〇一三八〇〇〇",
    ] {
        let mut b = income("operating", 100, "ph-1");
        if let Content::Income(i) = &mut b.content {
            i.payer = bad.into();
        }
        assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.payer");
    }
    let mut b = expenditure("operating", 100, "ph-2");
    if let Content::Expenditure(e) = &mut b.content {
        e.payee = "13800138000".into();
    }
    assert_field_error(&l.reject_body(b, &["co-1", "cm-1", "cm-2"]), "$.body.payee");
    for (i, ok) in ["3-1502", "12-2-1502", "123456", "星光停车管理有限公司"]
        .into_iter()
        .enumerate()
    {
        let mut b = income("operating", 100, &format!("ph-ok-{i}"));
        if let Content::Income(inc) = &mut b.content {
            inc.payer = ok.into();
        }
        l.commit(b, &["co-1"]);
    }
}

/// Proves Chinese text is accepted in memo, payee, payer, fund names and the
/// ledger name, and survives the round trip byte for byte (JCS does not escape
/// it).
#[test]
fn chinese_text_is_accepted() {
    let mut l = Ledger::funded();
    let mut b = expenditure("operating", 100, "zh-1");
    if let Content::Expenditure(e) = &mut b.content {
        e.payee = "星光物业管理有限公司".into();
        e.memo = "电梯年检费用（含税）".into();
    }
    let bytes = l.bytes(b.clone(), &["co-1", "cm-1", "cm-2"]);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("\"payee\":\"星光物业管理有限公司\""));
    l.r.apply(&bytes).unwrap();
    assert_eq!(Leaf::decode(&bytes).unwrap().body, b);
    assert_eq!(l.state().genesis().name, "星光小区 X Star District");
    assert_eq!(l.state().genesis().funds[0].name, "专项维修资金");
}
