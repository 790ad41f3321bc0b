//! `imageswap-runner`: evaluates one admission request with `policy.wasm`, as the policy-server
//! would, and prints the AdmissionResponse with its JSON Patch decoded.
//!
//! Exit status: 0 when the request was evaluated (allowed or rejected, like `kwctl run`),
//! 1 when the settings are not valid, 2 for usage errors and host failures.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use imageswap_runner::{
    HostCapabilities, NoCapabilities, Policy, RegistryFixture, RunnerError, admission_request, admission_response,
    apply_patch,
};
use serde_json::Value;

const USAGE: &str =
    "usage: imageswap-runner [--policy policy.wasm] --settings SETTINGS.json --request REQUEST.json [--logs]

Evaluates REQUEST (an AdmissionReview or a bare AdmissionRequest) with the policy and SETTINGS
(a JSON settings document) the way Kubewarden's policy-server does, and prints the response.
--logs also prints the policy's log records on stderr.";

struct Args {
    policy: PathBuf,
    settings: PathBuf,
    request: PathBuf,
    registry: Option<PathBuf>,
    logs: bool,
    patched: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut policy, mut settings, mut request, mut registry) = (PathBuf::from("policy.wasm"), None, None, None);
    let (mut logs, mut patched) = (false, false);
    while let Some(arg) = args.next() {
        let mut value = || args.next().map(PathBuf::from).ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--policy" => policy = value()?,
            "--settings" => settings = Some(value()?),
            "--request" => request = Some(value()?),
            "--registry" => registry = Some(value()?),
            "--logs" => logs = true,
            "--patched" => patched = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        policy,
        settings: settings.ok_or("--settings is required")?,
        request: request.ok_or("--request is required")?,
        registry,
        logs,
        patched,
    })
}

fn read_json(path: &PathBuf) -> Result<Value, RunnerError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?)
}

fn run(args: &Args) -> Result<ExitCode, RunnerError> {
    let policy = Policy::load(&args.policy)?;
    let settings = read_json(&args.settings)?;
    let request = admission_request(read_json(&args.request)?);
    let checked = policy.instance(Arc::new(NoCapabilities))?.validate_settings(&settings)?;
    if !checked.valid {
        eprintln!("Provided settings are not valid: {}", checked.message.unwrap_or_default());
        return Ok(ExitCode::from(1));
    }
    let capabilities: Arc<dyn HostCapabilities> = match &args.registry {
        Some(path) => Arc::new(RegistryFixture::from_json(&read_json(path)?)?),
        None => Arc::new(NoCapabilities),
    };
    let instance = policy.instance(capabilities)?;
    let response = instance.validate(&request, &settings)?;
    if args.logs {
        for record in instance.logs() {
            eprintln!("{record}");
        }
    }
    let response = admission_response(&request, &response);
    let output = match (args.patched, &response.patch) {
        (false, _) => serde_json::to_value(&response)?,
        (true, None) => request.get("object").cloned().unwrap_or_default(),
        (true, Some(patch)) => apply_patch(request.get("object").unwrap_or(&Value::Null), patch)?,
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("{problem}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("imageswap-runner: {error}");
            ExitCode::from(2)
        }
    }
}
