//! The README's walkthrough, run exactly as written: its ```sh blocks, in
//! order, in one bash with `set -euo pipefail`, in a fresh directory, with
//! the built binary first on PATH as `feeledger`, against the real server
//! the README itself starts. So the README cannot drift from the program.

mod support;

use serde_json::Value;
use std::io::{Read as _, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// The section of README.md whose shell blocks are run.
const SECTION: &str = "## Walkthrough";
/// Printed between blocks, so the transcript can be split by block.
const MARKER: &str = "@@readme-block ";

/// One ```sh block of the walkthrough.
#[derive(Debug)]
struct Block {
    /// 1-based line of README.md where the block's first command is.
    line: usize,
    text: String,
}

/// The ```sh blocks of the walkthrough section, in order. Panics on an
/// unclosed block, so a broken fence is not silently dropped.
fn walkthrough_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut in_section = false;
    let mut current: Option<Block> = None;
    for (index, line) in readme.lines().enumerate() {
        if let Some(block) = current.as_mut() {
            if line.trim_end() == "```" {
                blocks.push(current.take().expect("an open block"));
            } else {
                block.text.push_str(line);
                block.text.push('\n');
            }
            continue;
        }
        if line.starts_with("## ") {
            in_section = line.trim_end() == SECTION;
        } else if in_section && line.trim_end() == "```sh" {
            current = Some(Block {
                line: index + 2,
                text: String::new(),
            });
        }
    }
    assert!(current.is_none(), "README.md: a ```sh block is not closed");
    blocks
}

/// A loopback port nobody listens on now. The port is released before the
/// README's server binds it; other tests listen on port 0, so the only
/// contender is an unrelated program in that instant.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// bash, in its own process group so that every process the README starts
/// in the background (the server) is SIGKILLed on drop, even when the test
/// fails half-way.
struct Shell {
    child: Child,
}

impl Shell {
    fn spawn(command: &mut Command) -> Shell {
        Shell {
            child: command.process_group(0).spawn().expect("bash starts"),
        }
    }

    /// Kills whatever the README left running, then reaps bash.
    fn kill_group(&mut self) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: signalling the process group this test created; an empty
        // group only makes kill fail with ESRCH.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// What the walkthrough printed, split by block.
struct Transcript {
    blocks: Vec<Block>,
    /// Output (stdout and stderr interleaved) of each block that started.
    outputs: Vec<String>,
    whole: String,
}

impl Transcript {
    fn split(blocks: Vec<Block>, whole: String) -> Transcript {
        let mut outputs: Vec<String> = Vec::new();
        for line in whole.split_inclusive('\n') {
            if line.starts_with(MARKER) {
                outputs.push(String::new());
            } else if let Some(last) = outputs.last_mut() {
                last.push_str(line);
            }
        }
        Transcript {
            blocks,
            outputs,
            whole,
        }
    }

    /// The index of the last block that started: after a failure under
    /// `set -e`, the one that failed.
    fn failed_block(&self) -> usize {
        self.outputs.len().saturating_sub(1)
    }

    /// One block with its output, for a failure message.
    fn show(&self, index: usize) -> String {
        format!(
            "README.md block {} of {} (line {}):\n{}\n--- its output ---\n{}",
            index + 1,
            self.blocks.len(),
            self.blocks[index].line,
            self.blocks[index].text,
            self.outputs.get(index).map_or("(did not start)", |o| o)
        )
    }

    /// The output of the blocks whose text contains `command`; panics if no
    /// block runs it, so a step cannot disappear from the README unnoticed.
    #[track_caller]
    fn output_of(&self, command: &str) -> String {
        let found: Vec<usize> = (0..self.blocks.len())
            .filter(|&i| self.blocks[i].text.contains(command))
            .collect();
        assert!(
            !found.is_empty(),
            "no walkthrough block runs {command:?}; the walkthrough:\n{}",
            self.whole
        );
        found.iter().map(|&i| self.outputs[i].as_str()).collect()
    }

    /// Every block that runs `command` printed `needle`.
    #[track_caller]
    fn assert_step(&self, command: &str, needle: &str) {
        let output = self.output_of(command);
        assert!(
            output.contains(needle),
            "the step {command:?} should print {needle:?}; the whole transcript:\n{}",
            self.whole
        );
    }
}

/// The README's walkthrough blocks.
fn readme_blocks() -> Vec<Block> {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("read README.md");
    let blocks = walkthrough_blocks(&readme);
    assert!(
        blocks.len() >= 5,
        "README.md's walkthrough should have its shell blocks, found {}",
        blocks.len()
    );
    blocks
}

/// A pipe whose ends are closed in every process spawned later, except
/// where a `Command` passes one on as stdout or stderr.
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd as _;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`, which we then own.
    let made = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// Runs `blocks` in order in one bash with `set -euo pipefail`, in `dir`,
/// with the built binary first on PATH, `PORT` a free port and `y` on
/// stdin. Returns once bash has exited and every process it started is
/// gone, so the data directory is free again.
fn run_blocks(dir: &Path, blocks: Vec<Block>) -> (ExitStatus, Transcript) {
    let mut script = String::from("set -euo pipefail\n");
    for (index, block) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '{MARKER}{}'\n", index + 1));
        script.push_str(&block.text);
    }
    let script_path = dir.join("walkthrough.sh");
    std::fs::write(&script_path, &script).unwrap();

    let bin_dir = Path::new(support::bin())
        .parent()
        .expect("the binary's directory");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    // stdout and stderr share one pipe, which keeps their order. Every
    // process the script starts inherits it, so it reaches end of file only
    // when the last of them (the background server too) has exited.
    let (mut transcript_reader, transcript_writer) = pipe();
    let mut command = Command::new("bash");
    command
        .arg(&script_path)
        .current_dir(dir)
        .env("PATH", path)
        .env("PORT", free_port().to_string())
        // hledger reads the journal's Chinese text only under a UTF-8 locale.
        .env("LANG", "C.UTF-8")
        .env_remove("RUST_LOG")
        .env_remove("SSL_CERT_FILE")
        .stdin(Stdio::piped())
        .stdout(transcript_writer.try_clone().unwrap())
        .stderr(transcript_writer);
    let mut shell = Shell::spawn(&mut command);
    drop(command); // its copies of the pipe's write end
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = transcript_reader.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    });
    // A person answers y to every confirmation (`sign` asks); this is what
    // `yes | bash walkthrough.sh` would feed. It ends when bash is gone.
    let mut stdin = shell.child.stdin.take().expect("piped stdin");
    std::thread::spawn(move || while stdin.write_all(b"y\n").is_ok() {});
    let status = shell.child.wait().expect("wait for bash");
    shell.kill_group();
    let whole = reader.join().expect("the transcript reader");
    (status, Transcript::split(blocks, whole))
}

/// Runs the README's walkthrough in `dir`; panics with the failing block
/// and its output if any command fails.
fn run_walkthrough(dir: &Path) -> Transcript {
    let (status, transcript) = run_blocks(dir, readme_blocks());
    if !status.success() {
        panic!(
            "the README walkthrough failed ({status}) in {}",
            transcript.show(transcript.failed_block())
        );
    }
    assert_eq!(
        transcript.outputs.len(),
        transcript.blocks.len(),
        "every block ran:\n{}",
        transcript.whole
    );
    transcript
}

/// The value after `label` on the first line of `text` that has it.
fn after(text: &str, label: &str) -> Option<String> {
    let rest = text.split(label).nth(1)?;
    Some(rest.lines().next().unwrap_or("").trim().to_string())
}

/// The entry of `list --json` with this seq.
fn entry(list: &Value, seq: u64) -> &Value {
    list.as_array()
        .expect("list --json is an array")
        .iter()
        .find(|e| e["seq"] == seq)
        .unwrap_or_else(|| panic!("entry {seq} is listed: {list:#}"))
}

/// The README's walkthrough, run as written against the real binary and
/// server, does what it says at every step: four keys, a genesis, a ledger,
/// an income, a funded expenditure with its attachment co-signed to commit,
/// a cosigned checkpoint, an auditor's verify with only the log key, an
/// hledger export, a receipt for the walkthrough's own income, a backup
/// restored and verified. Fails, naming the block, if any README command
/// is wrong.
#[test]
fn readme_walkthrough_runs_as_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = run_walkthrough(dir.path());
    let d = dir.path();

    // 1. Four keys, private files mode 0600, the public key handed over.
    for name in ["wuye-li", "weiyuan-wang", "weiyuan-zhao", "weiyuan-chen"] {
        let key = d.join(format!("{name}.key"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}.key is private");
        }
        t.assert_step(
            &format!("--name {name} "),
            &format!("name:          {name}"),
        );
    }

    // 2. init printed the log key the rest of the walkthrough trusts.
    t.assert_step("feeledger init", "created ledger ledger.xingguang.example");
    let log_key = after(
        &t.output_of("feeledger init"),
        "log key (post it on the notice board):",
    )
    .expect("init prints the log key");
    assert!(
        log_key.starts_with("ledger.xingguang.example+"),
        "{log_key}"
    );

    // 3 and 4. The server ran; the income committed at once; the
    // expenditure waited for the committee; the second signature committed it.
    t.assert_step(
        "feeledger serve",
        "serving ledger.xingguang.example on http://127.0.0.1:",
    );
    t.assert_step("income --amount 1280.50", "committed as entry 1 ");
    t.assert_step("expenditure --amount 860", "pending proposal ");
    t.assert_step(
        "expenditure --amount 860",
        "co-signers run: feeledger sign --url http://127.0.0.1:",
    );
    t.assert_step("feeledger sign", "committee: 1 of 2");
    t.assert_step("feeledger sign", "committed as entry 2 ");
    t.assert_step(
        "feeledger cosign-checkpoint",
        "cosigned checkpoint of size 3",
    );

    // 5. The auditor's verify passed, saw the cosignature, and the second
    // run checked consistency with the saved checkpoint.
    t.assert_step("--save-checkpoint", "OK: the ledger verifies");
    t.assert_step("--save-checkpoint", "cosigned by: weiyuan-wang");
    t.assert_step(
        "--checkpoint seen.txt",
        "consistent:  extends the saved checkpoint of size 3",
    );
    t.assert_step(
        "hledger -f fees.journal balance",
        "expenses:operating:cleaning",
    );
    t.assert_step("feeledger receipt", "wrote receipt for entry 1 ");
    t.assert_step(
        "feeledger verify-receipt",
        "OK: entry 1 is in ledger.xingguang.example at tree size 3",
    );
    t.assert_step(
        "feeledger verify-receipt",
        "+1280.50 CNY into operating from 3-1502",
    );

    // 6. The backup restored into a copy that verifies.
    t.assert_step(
        "feeledger restore",
        "restored 3 entries from backup into ledger-restored",
    );
    t.assert_step("--data ledger-restored", "OK: the ledger verifies");

    // The ledger the walkthrough left, read by the test itself: the
    // balances are the income less the expenditure it funded.
    let data = d.join("ledger");
    let balances = support::run([
        "balances".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(
        balances.assert_ok().json(),
        serde_json::json!({"maintenance": 0, "operating": 128_050 - 86_000, "public_revenue": 0}),
    );
    let list = support::run([
        "list".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--json".as_ref(),
    ]);
    let list = list.assert_ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list:#}");
    let income = &entry(&list, 1)["leaf"]["body"];
    assert_eq!(income["kind"], "income");
    assert_eq!(income["amount_fen"], 128_050);
    assert_eq!(income["payer"], "3-1502");
    // The expenditure carries the invoice the walkthrough made, by hash,
    // and the signatures of the company and both committee members.
    let spending = &entry(&list, 2)["leaf"];
    assert_eq!(spending["body"]["amount_fen"], 86_000);
    assert_eq!(spending["body"]["category"], "cleaning");
    let attachment = &spending["body"]["attachments"][0];
    let invoice_name = attachment["name"].as_str().expect("an attachment");
    let invoice = std::fs::read(d.join(invoice_name)).expect("the walkthrough made the invoice");
    assert_eq!(
        attachment["sha256"],
        feeledger_core::hash::sha256(&invoice).to_hex()
    );
    let signers: Vec<&str> = spending["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(signers, ["weiyuan-wang", "weiyuan-zhao", "wuye-li"]);

    // Both the ledger and its restored copy verify with the log key from
    // init, to the same root; the receipt checks offline.
    let verify = |dir: PathBuf| {
        let out = support::run([
            "verify".as_ref(),
            "--data".as_ref(),
            dir.as_os_str(),
            "--log-key".as_ref(),
            log_key.as_ref(),
        ]);
        out.assert_ok();
        assert!(out.stdout.contains("OK: the ledger verifies"), "{out:#?}");
        after(&out.stdout, "root:").expect("verify prints the root")
    };
    assert_eq!(verify(data.clone()), verify(d.join("ledger-restored")));
    let journal = std::fs::read_to_string(d.join("fees.journal")).unwrap();
    assert!(
        journal.contains("3-1502"),
        "the export holds the income: {journal}"
    );
    support::run([
        "verify-receipt".as_ref(),
        d.join("receipt.txt").as_os_str(),
        "--log-key".as_ref(),
        log_key.as_ref(),
    ])
    .assert_ok();
}

/// The block splitter takes only the walkthrough's ```sh blocks, in order,
/// with their README line numbers, and refuses an unclosed fence.
#[test]
fn walkthrough_blocks_are_the_sections_sh_fences() {
    let readme = "# x\n```sh\nnot this\n```\n## Walkthrough\ntext\n```sh\na\nb\n```\n```toml\nno\n```\n```sh\nc\n```\n## Next\n```sh\nnot this either\n```\n";
    let blocks = walkthrough_blocks(readme);
    let texts: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
    assert_eq!(texts, ["a\nb\n", "c\n"]);
    assert_eq!(blocks[0].line, 8);
    assert_eq!(blocks[1].line, 15);
    let unclosed = std::panic::catch_unwind(|| walkthrough_blocks("## Walkthrough\n```sh\na\n"));
    assert!(unclosed.is_err(), "an unclosed block is refused");
}

/// A walkthrough whose command is wrong fails, naming the block and showing
/// the command's error; blocks after it do not run; and the server an
/// earlier block started in the background is gone afterwards (its data
/// directory opens again, which a live server would prevent).
#[test]
fn a_wrong_command_names_its_block_and_leaves_no_server() {
    let community = support::Community::new();
    let data = community.data.display();
    let key = community.keys[support::COMPANY].path.display();
    let readme = format!(
        "## Walkthrough\n\
         ```sh\n\
         feeledger serve --data '{data}' --listen 127.0.0.1:$PORT &\n\
         curl --silent --retry 30 --retry-connrefused --retry-delay 1 --output /dev/null http://127.0.0.1:$PORT/checkpoint\n\
         ```\n\
         ```sh\n\
         feeledger propose --url http://127.0.0.1:$PORT --key '{key}' expenditure --amount 1 --category cleanng --payee x\n\
         ```\n\
         ```sh\n\
         touch never-ran\n\
         ```\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, transcript) = run_blocks(dir.path(), walkthrough_blocks(&readme));
    assert!(!status.success(), "{}", transcript.whole);
    assert_eq!(transcript.failed_block(), 1, "{}", transcript.whole);
    let shown = transcript.show(transcript.failed_block());
    assert!(
        shown.starts_with("README.md block 2 of 3 (line 7):"),
        "{shown}"
    );
    assert!(
        shown.contains("\"cleanng\" is not an expenditure category"),
        "{shown}"
    );
    assert!(
        transcript.outputs[0].contains("serving "),
        "{}",
        transcript.whole
    );
    assert!(!dir.path().join("never-ran").exists());
    support::run([
        "balances".as_ref(),
        "--data".as_ref(),
        community.data.as_os_str(),
    ])
    .assert_ok();
}
