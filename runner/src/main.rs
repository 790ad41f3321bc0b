//! `imageswap-runner`: evaluates one admission request with `policy.wasm`, as the policy-server
//! would, and prints the AdmissionResponse with its JSON Patch decoded.
//!
//! Exit status: 0 when the request was evaluated (allowed or rejected, like `kwctl run`),
//! 1 when the settings are not valid, 2 for usage errors and host failures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use imageswap_runner::{
    HostCapabilities, NoCapabilities, Policy, RegistryFixture, RunnerError, admission_request, admission_response,
    apply_patch,
};
use serde_json::Value;

/// Evaluates REQUEST (an AdmissionReview or a bare AdmissionRequest) with the policy and SETTINGS
/// (a JSON settings document) the way Kubewarden's policy-server does, and prints the
/// AdmissionResponse with its JSON Patch decoded.
#[derive(Parser)]
#[command(name = "imageswap-runner", version)]
struct Args {
    /// The policy module.
    #[arg(long, value_name = "POLICY.wasm", default_value = "policy.wasm")]
    policy: PathBuf,
    /// The settings document (JSON).
    #[arg(long, value_name = "SETTINGS.json")]
    settings: PathBuf,
    /// The AdmissionReview or AdmissionRequest (JSON).
    #[arg(long, value_name = "REQUEST.json")]
    request: PathBuf,
    /// Recorded registry answers for checkTargetExists (a JSON list of {image, digest | error |
    /// capability and response}, as the case tables hold them); without it no lookup succeeds.
    #[arg(long, value_name = "ANSWERS.json")]
    registry: Option<PathBuf>,
    /// Also print the policy's log records, on stderr.
    #[arg(long)]
    logs: bool,
    /// Print the object after the patch instead of the response.
    #[arg(long)]
    patched: bool,
}

fn read_json(path: &Path) -> Result<Value, RunnerError> {
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
    match run(&Args::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("imageswap-runner: {error}");
            ExitCode::from(2)
        }
    }
}
