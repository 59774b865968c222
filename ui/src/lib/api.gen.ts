// Generated from the Rust `hearth-api` crate (crates/api/src/hearth.rs,
// `typescript()`). Do not edit: run
//   HEARTH_UPDATE_TS=1 cargo test -p hearth-api ui_types
// after changing a wire type.

export type ListResponse = { models: Array<ListModel>, };

export type ListModel = { 
/**
 * Shortest display name, e.g. `llama3.2:latest`.
 */
name: string, 
/**
 * Same as `name`.
 */
model: string, remote_model?: string, remote_host?: string, 
/**
 * Manifest mtime, local time with offset.
 */
modified_at: string, 
/**
 * Sum of layer sizes plus the config size.
 */
size: number, 
/**
 * Hex SHA-256 of the manifest bytes (64 chars, no `sha256:`).
 */
digest: string, details: ModelDetails, capabilities?: Array<string>, };

export type ModelDetails = { 
/**
 * The `FROM` source of the model layer (`""` in `/api/ps`).
 */
parent_model: string, 
/**
 * `gguf` or `safetensors`.
 */
format: string, family: string, families: Array<string>, 
/**
 * E.g. `3.2B`.
 */
parameter_size: string, 
/**
 * E.g. `Q4_K_M`.
 */
quantization_level: string, context_length?: number, embedding_length?: number, };

export type ProcessResponse = { models: Array<ProcessModel>, };

export type ProcessModel = { name: string, model: string, 
/**
 * Bytes the runner occupies (weights, KV cache, graph; CPU and GPU).
 */
size: number, digest: string, details: ModelDetails, 
/**
 * When the idle timer fires, local time with offset.
 */
expires_at: string, 
/**
 * The part of `size` in GPU memory.
 */
size_vram: number, 
/**
 * Context actually allocated per request.
 */
context_length: number, };

export type ShowResponse = { license?: string, modelfile?: string, 
/**
 * One `%-30s %#v` line per option value.
 */
parameters?: string, template?: string, system?: string, renderer?: string, parser?: string, details: ModelDetails, messages?: Array<Message>, remote_model?: string, remote_host?: string, 
/**
 * GGUF metadata; always serialized.
 */
model_info: { [key in string]: JsonValue }, projector_info?: { [key in string]: JsonValue }, tensors?: Array<Tensor>, capabilities?: Array<string>, 
/**
 * Manifest mtime, local time with offset.
 */
modified_at: string, 
/**
 * Minimum version (Modelfile REQUIRES).
 */
requires?: string, };

export type Tensor = { name: string, 
/**
 * GGML type name, e.g. `Q4_K`.
 */
type: string, shape: Array<number>, };

export type ProgressResponse = { status: string, digest?: string, total?: number, 
/**
 * Absent while zero.
 */
completed?: number, };

export type ChatResponse = { model: string, remote_model?: string, remote_host?: string, 
/**
 * UTC RFC 3339 with trimmed nanoseconds.
 */
created_at: string, message: Message, done: boolean, done_reason?: string, _debug_info?: DebugInfo | null, logprobs?: Array<Logprob>, 
/**
 * Handler start to done.
 */
total_duration?: number, 
/**
 * Handler start to runner acquired (includes queueing and loading).
 */
load_duration?: number, 
/**
 * Prompt tokens (cached plus newly evaluated).
 */
prompt_eval_count?: number, prompt_eval_duration?: number, 
/**
 * Generated tokens.
 */
eval_count?: number, eval_duration?: number, };

export type Message = { 
/**
 * `system`, `user`, `assistant` or `tool` (others pass through).
 */
role: string, content: string, 
/**
 * Reasoning text (output of thinking models, or prior reasoning).
 */
thinking?: string, 
/**
 * Base64 image (or audio) bytes, without a `data:` prefix.
 */
images?: Array<string>, tool_calls?: Array<ToolCall>, 
/**
 * On `tool` messages: the tool that produced this result.
 */
tool_name?: string, 
/**
 * On `tool` messages: the id of the call being answered.
 */
tool_call_id?: string, };

export type ToolCall = { 
/**
 * `call_` plus 8 lowercase alphanumerics; omitted when empty.
 */
id?: string, function: ToolCallFunction, };

export type ToolCallFunction = { 
/**
 * Position of the call in the response; always serialized.
 */
index: number, name: string, 
/**
 * Arguments in the order the model produced them; `{}` when empty.
 */
arguments: { [key in string]: JsonValue }, };

export type Metrics = { 
/**
 * Handler start to done.
 */
total_duration?: number, 
/**
 * Handler start to runner acquired (includes queueing and loading).
 */
load_duration?: number, 
/**
 * Prompt tokens (cached plus newly evaluated).
 */
prompt_eval_count?: number, prompt_eval_duration?: number, 
/**
 * Generated tokens.
 */
eval_count?: number, eval_duration?: number, };

export type DebugInfo = { rendered_template: string, image_count?: number, };

export type Logprob = { token: string, logprob: number, bytes?: Array<number>, top_logprobs?: Array<TokenLogprob>, };

export type TokenLogprob = { token: string, logprob: number, 
/**
 * The token's raw bytes; omitted for an empty token.
 */
bytes?: Array<number>, };

export type VersionResponse = { version: string, };

export type ErrorResponse = { error: string, };

export type SystemInfo = { hostname: string, 
/**
 * E.g. `Debian GNU/Linux 12`.
 */
os: string, cpu_model: string, 
/**
 * Logical cores.
 */
cpu_cores: number, 
/**
 * Whole-machine CPU use, 0–100, since the previous sample.
 */
cpu_usage: number, 
/**
 * Bytes.
 */
memory_total: number, memory_used: number, 
/**
 * Bytes that can be allocated without swapping.
 */
memory_available: number, gpus: Array<GpuInfo>, disk: DiskInfo, 
/**
 * Seconds since the server started.
 */
uptime_s: number, 
/**
 * Hearth's version.
 */
version: string, };

export type GpuInfo = { name: string, vram_total: number, vram_used: number, };

export type DiskInfo = { 
/**
 * The model store's root folder.
 */
path: string, total: number, free: number, 
/**
 * Bytes of the blobs in the store.
 */
models_size: number, };

export type Verdict = "fits" | "tight" | "wont_fit";

export type FitReport = { model: string, num_ctx: number, 
/**
 * `local` (read from the GGUF) or `registry` (from the manifest sizes,
 * before pulling; the KV cache is then an estimate).
 */
source: string, 
/**
 * Bytes of weights.
 */
weights: number, 
/**
 * Bytes of KV cache at `num_ctx` (f16 keys and values).
 */
kv_cache: number, 
/**
 * Compute buffers and runtime, estimated.
 */
overhead: number, total: number, 
/**
 * Memory available now (RAM not in use, plus what loaded models hold).
 */
available: number, verdict: Verdict, };

export type HearthSettings = { 
/**
 * The address the server listens on now.
 */
listen: string, 
/**
 * Whether it listens beyond loopback now.
 */
lan: boolean, 
/**
 * Default keep-alive, e.g. `5m` (`-1` forever).
 */
keep_alive: string, 
/**
 * Parallel requests per model.
 */
num_parallel: number, 
/**
 * Default context length.
 */
context_length: number, 
/**
 * Extra allowed browser origins (`HEARTH_ORIGINS`).
 */
origins: Array<string>, 
/**
 * Whether any API key exists (LAN exposure needs one).
 */
keys_exist: boolean, 
/**
 * The config file changes are saved to.
 */
config_file: string, 
/**
 * Saved values that differ from the running ones: they apply at the
 * next start of `hearth serve`.
 */
pending: Array<string>, };

export type SettingsUpdate = { lan?: boolean, keep_alive?: string, num_parallel?: number, context_length?: number, origins?: Array<string>, };

export type KeyInfo = { name: string, 
/**
 * `inference` or `admin`.
 */
scope: string, created_at: string, };

export type KeyList = { keys: Array<KeyInfo>, };

export type CreateKeyRequest = { name: string, 
/**
 * `inference` (default) or `admin`.
 */
scope?: string, };

export type CreatedKey = { name: string, scope: string, key: string, };

export type RequestLogEntry = { 
/**
 * RFC 3339, UTC.
 */
time: string, method: string, 
/**
 * The path without the query string.
 */
path: string, status: number, 
/**
 * Time to the response head (a stream continues after it).
 */
duration_ms: number, request_id: string, };

export type RequestLog = { requests: Array<RequestLogEntry>, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;
