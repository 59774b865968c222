//! The small client commands: version, list, ps, show, stop, rm, cp.

use anyhow::bail;
use hearth_api::{Client, CopyRequest, DeleteRequest, GenerateRequest, ShowRequest};
use serde_json::json;

use crate::output::{human_bytes, relative, table};

/// A client for `HEARTH_HOST`, after checking the server answers.
pub async fn connect() -> anyhow::Result<Client> {
    let client = Client::from_env();
    client.heartbeat().await?;
    Ok(client)
}

pub async fn version() -> anyhow::Result<()> {
    let client = Client::from_env();
    match client.version().await {
        Ok(v) => {
            println!("hearth version is {}", env!("CARGO_PKG_VERSION"));
            println!("Ollama API version is {v}");
        }
        Err(_) => {
            println!("Warning: could not connect to a running hearth server");
            println!("hearth version is {}", env!("CARGO_PKG_VERSION"));
        }
    }
    Ok(())
}

pub async fn list(prefix: Option<&str>) -> anyhow::Result<()> {
    let client = connect().await?;
    let models = client.list().await?.models;
    let rows: Vec<Vec<String>> = models
        .into_iter()
        .filter(|m| prefix.is_none_or(|p| m.name.starts_with(p)))
        .map(|m| {
            vec![
                m.name,
                m.digest.chars().take(12).collect(),
                human_bytes(m.size),
                relative(&m.modified_at),
            ]
        })
        .collect();
    table(&["NAME", "ID", "SIZE", "MODIFIED"], &rows);
    Ok(())
}

pub async fn ps() -> anyhow::Result<()> {
    let client = connect().await?;
    let models = client.ps().await?.models;
    let rows: Vec<Vec<String>> = models
        .into_iter()
        .map(|m| {
            let processor = processor(m.size, m.size_vram);
            let until = if chrono::DateTime::parse_from_rfc3339(&m.expires_at)
                .is_ok_and(|t| t <= chrono::Local::now())
            {
                "Stopping...".to_string()
            } else {
                relative(&m.expires_at)
            };
            vec![
                m.name,
                m.digest.chars().take(12).collect(),
                human_bytes(m.size),
                processor,
                m.context_length.to_string(),
                until,
            ]
        })
        .collect();
    table(
        &["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"],
        &rows,
    );
    Ok(())
}

fn processor(size: u64, vram: u64) -> String {
    if vram == 0 {
        "100% CPU".to_string()
    } else if vram >= size {
        "100% GPU".to_string()
    } else {
        let gpu = vram * 100 / size.max(1);
        format!("{}%/{}% CPU/GPU", 100 - gpu, gpu)
    }
}

/// Flags of `hearth show`.
#[derive(clap::Args)]
pub struct ShowArgs {
    model: String,
    /// Show the license.
    #[arg(long)]
    license: bool,
    /// Show the Modelfile.
    #[arg(long)]
    modelfile: bool,
    /// Show the parameters.
    #[arg(long)]
    parameters: bool,
    /// Show the template.
    #[arg(long)]
    template: bool,
    /// Show the system prompt.
    #[arg(long)]
    system: bool,
    /// Show all metadata.
    #[arg(short, long)]
    verbose: bool,
}

pub async fn show(args: ShowArgs) -> anyhow::Result<()> {
    let client = connect().await?;
    let mut req = ShowRequest::new(&args.model);
    req.verbose = args.verbose;
    let info = client.show(&req).await?;
    let pick = |flag: bool, text: &str| -> bool {
        if flag {
            println!("{text}");
        }
        flag
    };
    if pick(args.license, &info.license)
        | pick(args.modelfile, &info.modelfile)
        | pick(args.parameters, &info.parameters)
        | pick(args.template, &info.template)
        | pick(args.system, &info.system)
    {
        return Ok(());
    }
    let d = &info.details;
    println!("  Model");
    let arch = info
        .model_info
        .get("general.architecture")
        .and_then(|v| v.as_str())
        .unwrap_or(&d.family);
    println!("    {:<20}{}", "architecture", arch);
    println!("    {:<20}{}", "parameters", d.parameter_size);
    let ctx = info
        .model_info
        .iter()
        .find(|(k, _)| k.ends_with(".context_length"))
        .map(|(_, v)| v.to_string());
    if let Some(ctx) = ctx {
        println!("    {:<20}{}", "context length", ctx);
    }
    println!("    {:<20}{}", "quantization", d.quantization_level);
    if !info.capabilities.is_empty() {
        println!("\n  Capabilities");
        for c in &info.capabilities {
            println!("    {c}");
        }
    }
    if !info.parameters.is_empty() {
        println!("\n  Parameters");
        for line in info.parameters.lines() {
            println!("    {line}");
        }
    }
    if !info.system.is_empty() {
        println!(
            "\n  System\n    {}",
            info.system.lines().next().unwrap_or("")
        );
    }
    Ok(())
}

pub async fn stop(model: &str) -> anyhow::Result<()> {
    let client = connect().await?;
    let mut req = GenerateRequest::new(model, "");
    req.keep_alive = Some(json!(0));
    match client.generate_once(&req).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => bail!("couldn't find model \"{model}\" to stop"),
        Err(e) => Err(e.into()),
    }
}

pub async fn copy(source: &str, destination: &str) -> anyhow::Result<()> {
    let client = connect().await?;
    client
        .copy(&CopyRequest {
            source: source.into(),
            destination: destination.into(),
        })
        .await?;
    println!("copied '{source}' to '{destination}'");
    Ok(())
}

pub async fn remove(models: &[String]) -> anyhow::Result<()> {
    let client = connect().await?;
    for model in models {
        // Unload first, as Ollama does; a model that is not loaded is fine.
        let mut unload = GenerateRequest::new(model.as_str(), "");
        unload.keep_alive = Some(json!(0));
        let _ = client.generate_once(&unload).await;
        client.delete(&DeleteRequest::new(model.as_str())).await?;
        println!("deleted '{model}'");
    }
    Ok(())
}
