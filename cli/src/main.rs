//! `imageswap`: what a swap map does to images before it reaches a cluster (`explain`), and moving
//! maps from the upstream webhook (`migrate`). The answers come from the engine the policy runs,
//! so they are the policy's answers.
//!
//! Exit status: 0 when every image was decided, 1 when an image cannot be decided (it does not
//! parse, or its rule builds a bad reference) or `migrate` meets lines the policy refuses, 2 for
//! bad settings and usage errors.

mod migrate;
mod upstream;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use imageswap_engine::Settings;
use imageswap_engine::{Explanation, explain_found};
use imageswap_engine::{Found, document_images};
use serde_json::Value;

/// The map language, shown after the help.
const MAP_LANGUAGE: &str = "The map language, one rule per line (# starts a comment):
  default::TARGET                 images no other rule decides
  REGISTRY[/PATH]::TARGET         images under that prefix (the longest key wins)
  [EXACT]IMAGE::IMAGE             that one image, in any spelling
  [REPLACE]GLOB::TARGET           images matching the fnmatch glob (first line wins)
  noswap_wildcards::P1,P2         images containing a pattern are not swapped by default
An empty TARGET leaves the images alone. Images already under a target are left alone.";

/// What a swap map does to images, before it reaches a cluster.
#[derive(Parser)]
#[command(name = "imageswap", version, about, after_help = MAP_LANGUAGE)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// For each image: the new reference (or that it is left as written), the rule line that
    /// decided it and why.
    Explain(ExplainArgs),
    /// Turn a Palette pack's imageSwap: block, the upstream webhook's ConfigMap (data.maps) or a map
    /// file into a ClusterAdmissionPolicy, with a note on stderr for every line whose meaning
    /// differs from the upstream webhook; exit 1, printing no policy, for lines the policy refuses.
    Migrate(MigrateArgs),
}

#[derive(Args)]
struct ExplainArgs {
    /// The policy's settings (YAML or JSON, with imageChange), or a ClusterAdmissionPolicy.
    #[arg(long, value_name = "SETTINGS.yml")]
    settings: PathBuf,
    /// A Pod or workload (YAML or JSON), or an AdmissionReview, whose images are explained.
    #[arg(long, value_name = "OBJECT.yml")]
    object: Option<PathBuf>,
    /// Recorded registry answers (a JSON list of {image, digest | error | capability and
    /// response}, as the case tables hold them): with checkTargetExists, each image's targets are
    /// looked up in them, in order, as the policy asks the registry.
    #[arg(long, value_name = "ANSWERS.json")]
    lookups: Option<PathBuf>,
    /// How to print the answers.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// The images to explain.
    #[arg(value_name = "IMAGE", required_unless_present = "object")]
    images: Vec<String>,
}

/// `--output`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// One line per image.
    Text,
    /// A JSON array of the explanations.
    Json,
}

#[derive(Args)]
struct MigrateArgs {
    /// A Palette pack, the upstream ConfigMap, or a map file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The name of the ClusterAdmissionPolicy.
    #[arg(long, default_value = "imageswap")]
    name: String,
    /// The module the policy runs (default: this version's release).
    #[arg(long, value_name = "URI")]
    module: Option<String>,
}

/// The module of this version's release, as `policy-metadata.yml`'s `ociUrl` names it.
fn default_module() -> String {
    format!("registry://ghcr.io/imageswap/policies/imageswap:v{}", env!("CARGO_PKG_VERSION"))
}

/// A problem with the command's input (exit status 2).
struct Failure(String);

/// A YAML or JSON document; of a file of several (a PolicyServer and the policy on it), the first
/// that is not a PolicyServer.
fn read_document(path: &Path) -> Result<Value, Failure> {
    use serde::Deserialize;
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| Failure(format!("cannot read {shown}: {e}")))?;
    let not_yaml = |e: serde_yaml::Error| Failure(format!("{shown} is not YAML or JSON: {e}"));
    for document in serde_yaml::Deserializer::from_str(&text) {
        let document = Value::deserialize(document).map_err(not_yaml)?;
        if document.get("kind").and_then(Value::as_str) != Some("PolicyServer") {
            return Ok(document);
        }
    }
    Err(Failure(format!("{shown} holds no settings, policy or object")))
}

/// The settings in a file: a settings document, or the `spec.settings` of a (Cluster)AdmissionPolicy.
fn settings_of(document: Value) -> Value {
    match document.get("kind").and_then(Value::as_str) {
        Some("ClusterAdmissionPolicy" | "AdmissionPolicy") => {
            document.pointer("/spec/settings").cloned().unwrap_or_default()
        }
        _ => document,
    }
}

fn explain(args: ExplainArgs) -> Result<ExitCode, Failure> {
    let ExplainArgs { settings: path, object, lookups, output, images } = args;
    let settings = Settings::from_value(&settings_of(read_document(&path)?))
        .map_err(|errors| Failure(format!("the settings in {} are not valid:\n{errors}", path.display())))?;
    let found = match &object {
        Some(path) => {
            document_images(&read_document(path)?, &settings.custom_resources)
                .map_err(|e| Failure(format!("{}: {e}", path.display())))?
                .1
        }
        None => Found::default(),
    };
    let mut results: Vec<Explanation> =
        images.iter().map(|image| imageswap_engine::explain(&settings.rules, settings.digest, image)).collect();
    results.extend(explain_found(&settings.rules, settings.digest, &found));
    let recorded = match &lookups {
        Some(path) => Some(recorded_answers(path)?),
        None => None,
    };
    if let Some(answers) = recorded.filter(|_| settings.check_target_exists) {
        let mut registry = imageswap_engine::Recording::new(answers);
        results.iter_mut().for_each(|result| result.look_up(settings.digest, &settings.platforms, &mut registry));
    }
    if output == Output::Json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| Failure(e.to_string()))?;
        println!("{text}");
    } else {
        for result in &results {
            println!("{result}");
        }
        if object.is_some() {
            for (pod_spec, secrets) in imageswap_engine::explained_pull_secrets(&settings, &results) {
                println!("{pod_spec}.imagePullSecrets must list: {}", secrets.join(", "));
            }
        }
    }
    if settings.check_target_exists && lookups.is_none() {
        eprintln!(
            "note: checkTargetExists is on: the policy asks the registry for each target and leaves an image as written when none is found; explain makes no lookups (--lookups replays recorded answers)"
        );
    } else if lookups.is_some() && !settings.check_target_exists {
        eprintln!("note: checkTargetExists is off, so the policy makes no lookups and --lookups is not used");
    }
    Ok(if results.iter().all(Explanation::is_decided) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The recorded answers of `--lookups`.
fn recorded_answers(path: &Path) -> Result<Vec<imageswap_engine::Recorded>, Failure> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| Failure(format!("cannot read {shown}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| Failure(format!("{shown} is not a list of recorded answers: {e}")))
}

fn migrate_command(args: MigrateArgs) -> Result<ExitCode, Failure> {
    let MigrateArgs { file, name, module } = args;
    let path = file.display();
    let text = std::fs::read_to_string(&file).map_err(|e| Failure(format!("cannot read {path}: {e}")))?;
    let source = migrate::read_source(&text);
    eprintln!("imageswap: {path}: {}", source.kind);
    let map = source.settings.get("imageChange").and_then(Value::as_str).unwrap_or_default().to_owned();
    for (line, note) in migrate::differences(&map) {
        let at = line.map_or_else(|| "map".to_owned(), |line| format!("line {line}"));
        eprintln!("note: {at}: {note}");
    }
    let settings = match Settings::from_value(&source.settings) {
        Ok(settings) => settings,
        Err(errors) => {
            eprintln!("the policy refuses these settings; fix them and run migrate again:\n{errors}");
            return Ok(ExitCode::from(1));
        }
    };
    let changes = migrate::changed_results(&map, &settings);
    if !changes.is_empty() {
        eprintln!("note: results that change (upstream webhook v1.5.3 -> imageswap):");
    }
    for change in changes {
        let rule = change.line.map(|line| format!("line {line}, ")).unwrap_or_default();
        eprintln!("  {}: {} -> {}   ({rule}{})", change.image, change.old, change.new, change.reason);
    }
    let module = module.unwrap_or_else(default_module);
    print!("{}", migrate::policy_yaml(&name, &module, &source.settings).map_err(Failure)?);
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Explain(args) => explain(args),
        Command::Migrate(args) => migrate_command(args),
    };
    outcome.unwrap_or_else(|Failure(problem)| {
        eprintln!("imageswap: {problem}");
        ExitCode::from(2)
    })
}
