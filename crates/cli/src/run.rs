//! `hearth run MODEL [PROMPT]`: one answer, or an interactive chat that
//! streams replies and keeps the conversation.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::bail;
use futures_util::StreamExt;
use hearth_api::{ChatRequest, Client, GenerateRequest, Message};
use serde_json::json;

use crate::commands::connect;

/// Flags of `hearth run`.
#[derive(clap::Args)]
pub struct RunArgs {
    model: String,
    /// The prompt; without one, an interactive chat starts.
    prompt: Vec<String>,
    /// How long the model stays loaded after the answer (e.g. 10m).
    #[arg(long)]
    keepalive: Option<String>,
    /// Print timings after each answer.
    #[arg(long)]
    verbose: bool,
    /// Answer in JSON.
    #[arg(long)]
    format: Option<String>,
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let client = connect().await?;
    let info = match client
        .show(&hearth_api::ShowRequest::new(&args.model))
        .await
    {
        Ok(info) => info,
        Err(e) if e.is_not_found() => bail!("model '{}' not found", args.model),
        Err(e) => return Err(e.into()),
    };
    let embedding = info.capabilities.iter().any(|c| c == "embedding");
    let mut prompt = args.prompt.join(" ");
    if !std::io::stdin().is_terminal() {
        let mut piped = String::new();
        std::io::stdin().read_to_string(&mut piped)?;
        if !piped.trim().is_empty() {
            prompt = if prompt.is_empty() {
                piped
            } else {
                format!("{prompt}\n\n{piped}")
            };
        }
        if prompt.is_empty() {
            bail!("no prompt given");
        }
    }
    if embedding {
        return embed(&client, &args, &prompt).await;
    }
    // Load first so the model's load time doesn't look like a slow answer.
    let mut load = GenerateRequest::new(args.model.as_str(), "");
    load.keep_alive = args.keepalive.as_ref().map(|k| json!(k));
    client.generate_once(&load).await?;
    let mut history = Vec::new();
    if !prompt.is_empty() {
        history.push(Message::user(prompt));
        chat_turn(&client, &args, &mut history).await?;
        return Ok(());
    }
    repl(&client, &args, &mut history).await
}

/// An embedding model answers with its vector, as JSON.
async fn embed(client: &Client, args: &RunArgs, input: &str) -> anyhow::Result<()> {
    if input.is_empty() {
        bail!(
            "embedding models need input: hearth run {} \"some text\"",
            args.model
        );
    }
    let request = hearth_api::EmbedRequest {
        model: args.model.clone(),
        input: Some(json!(input)),
        keep_alive: args.keepalive.as_ref().map(|k| json!(k)),
        ..Default::default()
    };
    let response = client.embed(&request).await?;
    let vector = response.embeddings.into_iter().next().unwrap_or_default();
    println!("{}", serde_json::to_string(&vector)?);
    Ok(())
}

async fn repl(client: &Client, args: &RunArgs, history: &mut Vec<Message>) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    loop {
        print!(">>> ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            println!();
            return Ok(());
        }
        let line = line.trim();
        match line {
            "" => continue,
            "/bye" | "/exit" => return Ok(()),
            "/clear" => {
                history.clear();
                println!("Cleared session context");
                continue;
            }
            "/?" | "/help" => {
                println!("Available Commands:\n  /clear          Clear session context\n  /bye            Exit\n  /?, /help       Help for a command");
                continue;
            }
            _ => {}
        }
        history.push(Message::user(line));
        if let Err(e) = chat_turn(client, args, history).await {
            eprintln!("Error: {e}");
            history.pop();
        }
    }
}

/// Streams one assistant reply to stdout and appends it to `history`.
async fn chat_turn(
    client: &Client,
    args: &RunArgs,
    history: &mut Vec<Message>,
) -> anyhow::Result<()> {
    let mut req = ChatRequest::new(args.model.as_str(), history.clone());
    req.keep_alive = args.keepalive.as_ref().map(|k| json!(k));
    req.format = args.format.as_ref().map(|f| json!(f));
    let mut stream = client.chat(&req);
    let mut answer = String::new();
    let mut out = std::io::stdout();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        out.write_all(chunk.message.content.as_bytes())?;
        out.flush()?;
        answer.push_str(&chunk.message.content);
        if chunk.done && args.verbose {
            print_metrics(&chunk.metrics);
        }
    }
    println!("\n");
    history.push(Message::assistant(answer));
    Ok(())
}

fn print_metrics(m: &hearth_api::Metrics) {
    let secs = |ns: u64| ns as f64 / 1e9;
    let rate = |count: u64, ns: u64| {
        if ns == 0 {
            0.0
        } else {
            count as f64 / secs(ns)
        }
    };
    eprintln!("\ntotal duration:       {:.3}s", secs(m.total_duration));
    eprintln!("load duration:        {:.3}s", secs(m.load_duration));
    eprintln!("prompt eval count:    {} token(s)", m.prompt_eval_count);
    eprintln!("prompt eval duration: {:.3}s", secs(m.prompt_eval_duration));
    eprintln!(
        "prompt eval rate:     {:.2} tokens/s",
        rate(m.prompt_eval_count, m.prompt_eval_duration)
    );
    eprintln!("eval count:           {} token(s)", m.eval_count);
    eprintln!("eval duration:        {:.3}s", secs(m.eval_duration));
    eprintln!(
        "eval rate:            {:.2} tokens/s",
        rate(m.eval_count, m.eval_duration)
    );
}
