//! `feeledger genesis draft|sign`: a genesis ceremony in which no private
//! key leaves its owner's machine. The files and the checks are
//! `feeledger-ledgerdir`'s and the core's; this is arguments and printing.

use anyhow::{bail, Result};
use feeledger_core::entry::{Body, Content, Role, RuleKind};
use feeledger_core::genesis::GenesisSignature;
use feeledger_ledgerdir::{KeyFile, KeyFileIo as _};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum GenesisCommand {
    /// Write a genesis draft from a description (no signers), for each founder to sign on their own machine.
    Draft {
        /// The genesis description (TOML or JSON), without `signers`.
        #[arg(long)]
        description: PathBuf,
        /// The log (checkpoint) key file the ledger will use (`keygen --log`); the draft names its public key.
        #[arg(long)]
        log_key: PathBuf,
        /// Where to write the draft (a new file).
        #[arg(long, default_value = "genesis.json")]
        out: PathBuf,
    },
    /// Show a genesis draft in words and sign it with your key; writes a small signature file to hand back.
    Sign {
        /// The draft `genesis draft` wrote.
        #[arg(long)]
        body: PathBuf,
        /// Your private key file; it is read here and never leaves this machine.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signature (a new file; default: KEYNAME.sig).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sign without asking.
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(command: GenesisCommand) -> Result<()> {
    match command {
        GenesisCommand::Draft {
            description,
            log_key,
            out,
        } => draft(&description, &log_key, &out),
        GenesisCommand::Sign {
            body,
            key,
            out,
            yes,
        } => sign(&body, &key, out, yes),
    }
}

fn draft(description: &Path, log_key: &Path, out: &Path) -> Result<()> {
    let body = feeledger_ledgerdir::draft(description, log_key, &crate::clock::fresh())?;
    feeledger_ledgerdir::write_draft(out, &body)?;
    println!("已写出创始草稿 wrote the genesis draft {}", out.display());
    print!("{}", in_words(&body));
    println!();
    println!(
        "下一步：把 {0} 发给每位创始人，各自在自己的电脑上用自己的钥匙签署，交回 NAME.sig（不含私钥，可用微信或邮件发送）。",
        out.display()
    );
    println!(
        "Next: give {} to every founder; each signs it on their own machine with their own key, and hands back NAME.sig (no secret in it):",
        out.display()
    );
    println!(
        "  feeledger genesis sign --body {} --key NAME.key --out NAME.sig",
        out.display()
    );
    println!("然后在服务器上建账 Then, on the server's machine:");
    println!(
        "  feeledger init --data DIR --draft {} --log-key {} --signature a.sig --signature b.sig ...",
        out.display(),
        log_key.display()
    );
    Ok(())
}

fn sign(body_path: &Path, key_path: &Path, out: Option<PathBuf>, yes: bool) -> Result<()> {
    let body = feeledger_ledgerdir::read_draft(body_path)?;
    let key = KeyFile::read(key_path)?;
    let Content::Genesis(genesis) = &body.content else {
        unreachable!("read_draft returns a genesis");
    };
    if !genesis.roles.values().any(|r| {
        r.keys
            .iter()
            .any(|k| k.name == key.name() && k.public_key == key.public_key_base64())
    }) {
        bail!(
            "the draft lists no key {:?} with this public key: only the founders it names can sign it; check --key, or ask for a draft that lists your key ({})",
            key.name(),
            key.public_key_base64()
        );
    }
    print!("{}", in_words(&body));
    println!("签署人 Signing as: {}", key.name());
    if !yes && !crate::propose::confirm("核对无误，签署创始草稿？Sign this genesis?")? {
        bail!("not signed: not confirmed (answer y, or pass --yes in scripts)");
    }
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}.sig", key.name())));
    let signature = GenesisSignature::sign(&body, &key);
    feeledger_ledgerdir::write_signature(&out, &signature)?;
    println!("已签署 signed; wrote {}", out.display());
    println!(
        "下一步：把 {0} 交给建账的人（它不含私钥）。Next: hand {0} to whoever runs `feeledger init --draft` (it holds no secret).",
        out.display()
    );
    Ok(())
}

fn role_zh(role: Role) -> &'static str {
    match role {
        Role::Company => "物业公司 company",
        Role::Committee => "业主委员会 committee",
        Role::Supervisor => "社区党组织 supervisor",
    }
}

fn rule_zh(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Income => "收入 income",
        RuleKind::Expenditure => "支出 expenditure",
        RuleKind::Transfer => "资金划转 transfer",
        RuleKind::Governance => "变更角色与规则 governance",
    }
}

/// The draft in plain words, Chinese first: what a founder checks before
/// signing.
fn in_words(body: &Body) -> String {
    let Content::Genesis(g) = &body.content else {
        unreachable!("a draft is a genesis");
    };
    let mut out = String::new();
    let _ = writeln!(out, "创始草稿编号 Draft id: {}", body.id());
    let _ = writeln!(
        out,
        "  （即文件的 SHA-256，请与其他创始人核对 SHA-256 of the file; compare it with the other founders）"
    );
    let _ = writeln!(out, "小区 Community:   {}", g.name);
    let _ = writeln!(out, "账本 Ledger:      {}", body.ledger);
    let _ = writeln!(out, "日期 Date:        {}", body.date);
    let _ = writeln!(out, "资金 Funds:");
    for f in &g.funds {
        let _ = writeln!(out, "  {} ({})", f.name, f.id);
    }
    let _ = writeln!(out, "角色 Roles:");
    for (role, def) in &g.roles {
        // Founders check whom each key stands for, as the genesis signs it.
        let names: Vec<String> = def
            .keys
            .iter()
            .map(feeledger_core::entry::KeyDef::person_and_key)
            .collect();
        let _ = writeln!(
            out,
            "  {}: {} 人中须 {} 人签署 {} of {} must sign: {}",
            role_zh(*role),
            def.keys.len(),
            def.threshold,
            def.threshold,
            def.keys.len(),
            names.join(", ")
        );
    }
    let _ = writeln!(out, "规则 Rules:");
    for (kind, roles) in &g.rules {
        let roles: Vec<&str> = roles.iter().map(|r| role_zh(*r)).collect();
        let _ = writeln!(out, "  {} 须 needs: {}", rule_zh(*kind), roles.join(" + "));
    }
    let _ = writeln!(out, "日志密钥 Log key:  {}", g.log_key);
    out
}
