//! A waPC host for `policy.wasm`, built on `wapc` + `wasmtime-provider`, the runtime Kubewarden's
//! policy-server uses. It evaluates settings and admission requests the way the policy-server
//! does: the module is compiled once, every evaluation gets a fresh instance, settings are
//! validated first, and a `mutated_object` becomes a JSON Patch against the request's object.
#![deny(missing_docs)]

use std::error::Error;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use imageswap_engine::{Call, Capability, Recording, TargetLookup};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wapc::WapcHost;
use wasmtime_provider::{WasmtimeEngineProvider, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre};

/// The environment variable that makes wasmtime write a perf map of the compiled functions.
pub const PERFMAP_VARIABLE: &str = "IMAGESWAP_PERFMAP";

/// Errors of the host: loading, instantiating, or a guest error (what the API server sees as a
/// 500 "internal server error").
pub type RunnerError = Box<dyn Error + Send + Sync>;

/// Answers the host capabilities a policy may call (`kubewarden/<namespace>/<operation>`).
/// Log records (`tracing/log`) are handled by the runner itself.
pub trait HostCapabilities: Send + Sync {
    /// Answers one call; `Err` becomes the host error the guest sees.
    fn call(&self, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, RunnerError>;
}

/// A host with no capabilities besides logging.
pub struct NoCapabilities;

impl HostCapabilities for NoCapabilities {
    fn call(&self, namespace: &str, operation: &str, _payload: &[u8]) -> Result<Vec<u8>, RunnerError> {
        Err(format!("host capability {namespace}/{operation} is not available in this runner").into())
    }
}

/// A registry from recorded answers ([`imageswap_engine::Recorded`]): answers the OCI
/// capabilities the policy calls for the images it lists, as the policy-server would after asking
/// the registry, and records the calls. Other capabilities are not available.
#[derive(Debug, Default)]
pub struct RegistryFixture {
    recording: Mutex<Recording>,
}

impl RegistryFixture {
    /// Reads `[{"image": …, "digest": "sha256:…"} | {"image": …, "error": "…"} | {"image": …,
    /// "capability": "oci_manifest", "response": {…}}, …]`.
    pub fn from_json(answers: &Value) -> Result<Self, RunnerError> {
        let answers: Vec<imageswap_engine::Recorded> = serde_json::from_value(answers.clone())?;
        Ok(Self { recording: Mutex::new(Recording::new(answers)) })
    }

    /// The calls made so far, in order, and the calls the answers were recorded for.
    pub fn asked(&self) -> (Vec<Call>, Vec<Call>) {
        let recording = self.recording.lock().unwrap_or_else(PoisonError::into_inner);
        (recording.asked.clone(), recording.expected())
    }
}

impl HostCapabilities for RegistryFixture {
    fn call(&self, namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, RunnerError> {
        let Some(capability) = Capability::of_operation(operation).filter(|_| namespace == "oci") else {
            return NoCapabilities.call(namespace, operation, payload);
        };
        let image: String = serde_json::from_slice(payload)?;
        let mut recording = self.recording.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(recording.call(capability, &image)?)
    }
}

/// A compiled policy module, ready to be instantiated per evaluation.
pub struct Policy {
    pre: WasmtimeEngineProviderPre,
}

/// The answer of `validate_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SettingsValidation {
    /// Whether the settings are valid.
    pub valid: bool,
    /// Why not, when they are not.
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer of `validate`, as the Kubewarden SDK writes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PolicyResponse {
    /// Whether the request is accepted.
    pub accepted: bool,
    /// The rejection message.
    #[serde(default)]
    pub message: Option<String>,
    /// The rejection code.
    #[serde(default)]
    pub code: Option<u16>,
    /// The whole new object, when the policy mutates.
    #[serde(default)]
    pub mutated_object: Option<Value>,
    /// The admission warnings.
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// What the API server receives, as `kwctl run` prints it (with the patch decoded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdmissionResponse {
    /// The request's uid.
    pub uid: Value,
    /// Whether the request is allowed.
    pub allowed: bool,
    /// `JSONPatch` when there is a patch.
    #[serde(rename = "patchType", skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<String>,
    /// The RFC 6902 patch against the request's object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<Value>,
    /// `{message, code}` of a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    /// The admission warnings, which `kubectl` prints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

impl Policy {
    /// Compiles the module at `path`.
    pub fn load(path: &Path) -> Result<Self, RunnerError> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_bytes(&bytes)
    }

    /// Compiles a module from its bytes. With `IMAGESWAP_PERFMAP` set, wasmtime writes the address
    /// of each compiled function to `/tmp/perf-PID.map`, which `bench/wasm-profile.sh` reads.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RunnerError> {
        let mut builder = WasmtimeEngineProviderBuilder::new().module_bytes(bytes);
        if std::env::var_os(PERFMAP_VARIABLE).is_some() {
            let mut config = wasmtime_provider::wasmtime::Config::new();
            config.profiler(wasmtime_provider::wasmtime::ProfilingStrategy::PerfMap);
            builder = builder.engine(wasmtime_provider::wasmtime::Engine::new(&config).map_err(|e| e.to_string())?);
        }
        let pre = builder.build_pre()?;
        Ok(Self { pre })
    }

    /// A fresh instance, as the policy-server creates for each request.
    pub fn instance(&self, capabilities: Arc<dyn HostCapabilities>) -> Result<Instance, RunnerError> {
        let engine: WasmtimeEngineProvider = self.pre.rehydrate(None)?;
        let logs: Arc<Mutex<Vec<Value>>> = Arc::default();
        let sink = Arc::clone(&logs);
        let callback = move |_id: u64, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
            if binding != "kubewarden" {
                return Err(format!("unknown waPC binding {binding}").into());
            }
            if (namespace, operation) == ("tracing", "log") {
                let record = serde_json::from_slice(payload)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()));
                sink.lock().unwrap_or_else(PoisonError::into_inner).push(record);
                return Ok(Vec::new());
            }
            capabilities.call(namespace, operation, payload)
        };
        let host = WapcHost::new(Box::new(engine), Some(Box::new(callback)))?;
        Ok(Instance { host, logs })
    }
}

/// One instantiated policy.
pub struct Instance {
    host: WapcHost,
    logs: Arc<Mutex<Vec<Value>>>,
}

impl Instance {
    /// Calls `protocol_version`.
    pub fn protocol_version(&self) -> Result<String, RunnerError> {
        Ok(serde_json::from_slice(&self.host.call("protocol_version", b"")?)?)
    }

    /// Calls `validate_settings` with the settings document.
    pub fn validate_settings(&self, settings: &Value) -> Result<SettingsValidation, RunnerError> {
        let answer = self.host.call("validate_settings", &serde_json::to_vec(settings)?)?;
        Ok(serde_json::from_slice(&answer)?)
    }

    /// Calls `validate` with `{"request": …, "settings": …}`, as the policy-server does.
    pub fn validate(&self, request: &Value, settings: &Value) -> Result<PolicyResponse, RunnerError> {
        let payload = serde_json::to_vec(&json!({ "request": request, "settings": settings }))?;
        Ok(serde_json::from_slice(&self.host.call("validate", &payload)?)?)
    }

    /// Calls a waPC function with raw bytes (bad input, benchmarks); returns the raw answer.
    pub fn call(&self, function: &str, payload: &[u8]) -> Result<Vec<u8>, RunnerError> {
        Ok(self.host.call(function, payload)?)
    }

    /// The log records the policy sent so far.
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

pub use imageswap_engine::admission_request;

/// Turns the policy's answer into the AdmissionResponse the policy-server sends: a mutated
/// object becomes a JSON Patch against the request's object (none when nothing differs), and a
/// mutation of a request without object (DELETE) is rejected, as Kubewarden does.
pub fn admission_response(request: &Value, response: &PolicyResponse) -> AdmissionResponse {
    let uid = request.get("uid").cloned().unwrap_or(Value::Null);
    let status = |message: Option<&str>, code: Option<u16>| {
        (message.is_some() || code.is_some()).then(|| json!({ "message": message, "code": code }))
    };
    let original = request.get("object").filter(|o| !o.is_null());
    let patch = match (&response.mutated_object, original) {
        (Some(_), None) => {
            let message = "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed";
            return AdmissionResponse {
                uid,
                allowed: false,
                patch_type: None,
                patch: None,
                status: status(Some(message), None),
                warnings: response.warnings.clone(),
            };
        }
        (Some(mutated), Some(original)) => {
            let patch = json_patch::diff(original, mutated);
            (!patch.0.is_empty()).then(|| serde_json::to_value(patch).unwrap_or(Value::Null))
        }
        (None, _) => None,
    };
    AdmissionResponse {
        uid,
        allowed: response.accepted,
        patch_type: patch.as_ref().map(|_| "JSONPatch".to_owned()),
        patch,
        status: status(response.message.as_deref(), response.code),
        warnings: response.warnings.clone(),
    }
}

/// Applies an RFC 6902 patch (as [`AdmissionResponse::patch`] holds it) to a copy of `object`.
pub fn apply_patch(object: &Value, patch: &Value) -> Result<Value, RunnerError> {
    let patch: json_patch::Patch = serde_json::from_value(patch.clone())?;
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch)?;
    Ok(patched)
}
