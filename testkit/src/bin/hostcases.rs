//! `hostcases`: the case tables for hosts the tests drive from a shell (kwctl, a policy-server),
//! and the judge of what they answered. `write` and `write-settings` lay each case out as files a
//! host reads; the suite runs the host on them and saves each answer beside them; `judge` and
//! `judge-settings` judge the answers with the test kit's Rust checks, the ones that judge the
//! runner. `summarize` reads one answer for the real-registry suite.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use imageswap_testkit::{AdmissionCase, Response, SettingsCase, fixture, judge_mutate, judge_validate};
use serde_json::Value;

#[derive(Parser)]
#[command(about = "Lays the case tables out for a host, and judges what the host answered")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One folder per admission case under DIR (0000, 0001, …): `name`, `review.json`,
    /// `settings.json` and `settings-validate.json` (the same in validate mode), `session.yml`
    /// (kwctl's replay of the case's registry answers), `policy` (the policy-server's policy id for
    /// the settings), or `skip` with why the host cannot run the case; and `DIR/policies.yml`, a
    /// policy-server serving every settings document as `ID` and, in validate mode, `ID-validate`.
    Write {
        #[arg(long, value_enum)]
        host: Host,
        /// The module the policies.yml serves.
        #[arg(long)]
        module: PathBuf,
        dir: PathBuf,
    },
    /// Judges each case's `ANSWER.json` (the host's AdmissionResponse or AdmissionReview) or
    /// `ANSWER.error` (why the host gave none) under DIR as an answer in MODE; prints each failure
    /// and a summary.
    Judge {
        #[arg(long, value_enum)]
        mode: Mode,
        /// The answers' file name without extension; the mode's name when not given.
        #[arg(long)]
        answer: Option<String>,
        dir: PathBuf,
    },
    /// One folder per settings case under DIR: `name`, `document` (its bytes), `valid` (`true` or
    /// `false`), `policy.yml` (a
    /// policy-server serving it), or `skip` when it is not one JSON object (what a host reads
    /// settings as); and `DIR/valid.yml`, a policy-server serving every valid document at once.
    WriteSettings {
        #[arg(long)]
        module: PathBuf,
        dir: PathBuf,
    },
    /// Judges each settings case's `status` (the host's exit status) and `output` under DIR: a
    /// valid document is evaluated (`"allowed":` in the output, status 0), an invalid one stops the
    /// host with SAYS followed by the whole message.
    JudgeSettings {
        /// How the host introduces the message (`Provided settings are not valid: `).
        #[arg(long)]
        says: String,
        /// Only the invalid documents were run (the valid ones are served together).
        #[arg(long)]
        invalid_only: bool,
        dir: PathBuf,
    },
    /// Reads an AdmissionResponse (or AdmissionReview) on stdin and prints, as JSON, `allowed`,
    /// `warnings`, `message` and the `images` of the containers of REVIEW's Pod after the patch.
    Summarize {
        #[arg(long)]
        review: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Host {
    Kwctl,
    PolicyServer,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Mutate,
    Validate,
}

impl Mode {
    const fn name(self) -> &'static str {
        match self {
            Self::Mutate => "mutate",
            Self::Validate => "validate",
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("hostcases: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs a command; `Ok(false)` when a judge found a failure.
fn run(command: Command) -> Result<bool, String> {
    match command {
        Command::Write { host, module, dir } => write_admission(host, &module, &dir).map(|()| true),
        Command::Judge { mode, answer, dir } => judge(mode, answer.as_deref().unwrap_or(mode.name()), &dir),
        Command::WriteSettings { module, dir } => write_settings(&module, &dir).map(|()| true),
        Command::JudgeSettings { says, invalid_only, dir } => judge_settings(&says, invalid_only, &dir),
        Command::Summarize { review } => summarize(&review).map(|()| true),
    }
}

fn admission_cases() -> Result<Vec<AdmissionCase>, String> {
    serde_json::from_value(fixture("admission.json")).map_err(|e| format!("admission.json: {e}"))
}

/// The folder of the case at `index`.
fn case_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("{index:04}"))
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A policy of a policy-server's `policies.yml` (JSON is YAML's flow style).
fn policy_entry(id: &str, module: &Path, mutating: bool, settings: &Value) -> String {
    format!("{id}:\n  module: file://{}\n  allowedToMutate: {mutating}\n  settings: {settings}\n", module.display())
}

fn write_admission(host: Host, module: &Path, dir: &Path) -> Result<(), String> {
    let mut policies = String::new();
    let mut served: Vec<String> = Vec::new();
    for (index, case) in admission_cases()?.iter().enumerate() {
        let at = case_dir(dir, index);
        std::fs::create_dir_all(&at).map_err(|e| format!("{}: {e}", at.display()))?;
        write(&at.join("name"), &case.name)?;
        let skip = if case.invalid_settings {
            Some("invalid settings, which a host refuses when it loads the policy")
        } else if host == Host::PolicyServer && !case.lookups.is_empty() {
            Some(
                "recorded registry answers (the runner and kwctl replay them; registry.bats runs every lookup outcome against a real registry)",
            )
        } else {
            None
        };
        if let Some(why) = skip {
            write(&at.join("skip"), why)?;
            continue;
        }
        let settings = case.settings();
        let validate = imageswap_testkit::in_validate_mode(&settings);
        write(&at.join("review.json"), case.review().to_string())?;
        write(&at.join("settings.json"), settings.to_string())?;
        write(&at.join("settings-validate.json"), validate.to_string())?;
        if !case.lookups.is_empty() {
            write(&at.join("session.yml"), session(&case.lookups))?;
        }
        let text = settings.to_string();
        let id = match served.iter().position(|s| *s == text) {
            Some(known) => format!("p{known}"),
            None => {
                served.push(text);
                let id = format!("p{}", served.len() - 1);
                policies.push_str(&policy_entry(&id, module, true, &settings));
                policies.push_str(&policy_entry(&format!("{id}-validate"), module, false, &validate));
                id
            }
        };
        write(&at.join("policy"), id)?;
    }
    write(&dir.join("policies.yml"), policies)
}

/// A kwctl replay session answering `lookups` in order.
fn session(lookups: &[imageswap_engine::Recorded]) -> String {
    let mut out = String::from("---\n");
    for lookup in lookups {
        let request = match lookup.capability {
            imageswap_engine::Capability::Manifest => "OciManifest",
            imageswap_engine::Capability::ManifestConfig => "OciManifestAndConfig",
            _ => "OciManifestDigest",
        };
        let response = match lookup.answer() {
            Ok(payload) => {
                format!(
                    "    type: Success\n    payload: {}",
                    Value::from(String::from_utf8_lossy(&payload).into_owned())
                )
            }
            Err(message) => format!("    type: Error\n    message: {}", Value::from(message)),
        };
        let _ = writeln!(
            out,
            "- type: Exchange\n  request: |\n    !{request}\n    image: {}\n  response:\n{response}",
            lookup.image
        );
    }
    out
}

/// Prints each failure and a summary of judging every case with `check`; `Ok(false)` when a case
/// failed or none ran.
fn report(dir: &Path, names: &[String], check: impl Fn(&Path, usize) -> Result<(), String>) -> bool {
    let (mut failed, mut skipped) = (0, 0);
    for (index, name) in names.iter().enumerate() {
        let at = case_dir(dir, index);
        if let Ok(why) = std::fs::read_to_string(at.join("skip")) {
            skipped += 1;
            println!("skipped {name}: {why}");
        } else if let Err(why) = check(&at, index) {
            failed += 1;
            println!("FAIL {name}: {why}");
        }
    }
    println!("{} cases, {failed} failed, {skipped} skipped", names.len());
    failed == 0 && skipped < names.len()
}

fn judge(mode: Mode, answer: &str, dir: &Path) -> Result<bool, String> {
    let cases = admission_cases()?;
    let names: Vec<String> = cases.iter().map(|case| case.name.clone()).collect();
    Ok(report(dir, &names, |at, index| {
        let case = cases.get(index).ok_or("no such case")?;
        if let Ok(why) = std::fs::read_to_string(at.join(format!("{answer}.error"))) {
            return Err(why);
        }
        let answer = read(&at.join(format!("{answer}.json")))?;
        let document: Value = serde_json::from_slice(&answer)
            .map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(&answer)))?;
        let response = Response::read(&document)?;
        match mode {
            Mode::Mutate => judge_mutate(case, &response),
            Mode::Validate => judge_validate(case, &response),
        }
    }))
}

/// Whether a host can be given `document` as settings: one JSON object, in UTF-8, nested no
/// deeper than serde_json reads (128 levels, the hosts' parser and limit).
fn host_readable(document: &[u8]) -> bool {
    serde_json::from_slice::<Value>(document).is_ok_and(|value| value.is_object())
}

fn write_settings(module: &Path, dir: &Path) -> Result<(), String> {
    let mut valid = String::new();
    for (index, case) in SettingsCase::all().iter().enumerate() {
        let at = case_dir(dir, index);
        std::fs::create_dir_all(&at).map_err(|e| format!("{}: {e}", at.display()))?;
        write(&at.join("name"), &case.name)?;
        let document = case.document();
        write(&at.join("document"), &document)?;
        write(&at.join("valid"), case.valid.to_string())?;
        if !host_readable(&document) {
            write(&at.join("skip"), "not one JSON object in UTF-8 nested at most 128 deep, which a host reads itself")?;
            continue;
        }
        let settings: Value = serde_json::from_slice(&document).map_err(|e| e.to_string())?;
        write(&at.join("policy.yml"), policy_entry("one", module, true, &settings))?;
        if case.valid {
            valid.push_str(&policy_entry(&format!("valid-{index}"), module, true, &settings));
        }
    }
    write(&dir.join("valid.yml"), valid)
}

fn judge_settings(says: &str, invalid_only: bool, dir: &Path) -> Result<bool, String> {
    let cases = SettingsCase::all();
    let names: Vec<String> = cases.iter().map(|case| case.name.clone()).collect();
    Ok(report(dir, &names, |at, index| {
        let case = cases.get(index).ok_or("no such case")?;
        if case.valid && invalid_only {
            return Ok(());
        }
        let status = String::from_utf8_lossy(&read(&at.join("status"))?).trim().to_owned();
        let output = String::from_utf8_lossy(&read(&at.join("output"))?).into_owned();
        let tail = || output.get(output.len().saturating_sub(600)..).unwrap_or(&output).to_owned();
        if case.valid {
            if status != "0" || !output.contains("\"allowed\":") {
                return Err(format!("status {status}: {}", tail()));
            }
        } else {
            let expected = format!("{says}{}", case.message.as_deref().unwrap_or_default());
            if status == "0" || !output.contains(&expected) {
                return Err(format!("status {status}, no {expected:?} in: {}", tail()));
            }
        }
        Ok(())
    }))
}

fn summarize(review: &Path) -> Result<(), String> {
    let review: Value = serde_json::from_slice(&read(review)?).map_err(|e| format!("review: {e}"))?;
    let answer: Value = serde_json::from_reader(std::io::stdin()).map_err(|e| format!("response: {e}"))?;
    let response = Response::read(&answer)?;
    let object = review.pointer("/request/object").cloned().unwrap_or(Value::Null);
    let object = response.mutated(&object)?.unwrap_or(object);
    let images: Vec<Value> = object
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|container| container.get("image").cloned().unwrap_or(Value::Null))
        .collect();
    let summary = serde_json::json!({
        "allowed": response.allowed,
        "warnings": response.warnings,
        "message": response.message,
        "images": images,
    });
    println!("{summary}");
    Ok(())
}
