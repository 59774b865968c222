//! Client tests against a one-shot local TCP server that replies with
//! canned HTTP bytes, so no real server or network is needed.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::*;
use crate::Message;

const LIMIT: Duration = Duration::from_secs(10);

/// Serve one connection: read the request, then write `pieces` one by one
/// with a pause between them so the client sees separate chunks. Returns
/// the base URL and a handle yielding the raw request bytes.
async fn serve_once(pieces: Vec<Vec<u8>>) -> (String, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let request = read_request(&mut socket).await;
        for piece in pieces {
            socket.write_all(&piece).await.unwrap();
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        request
    });
    (base, handle)
}

/// Read the head and, if there is a `Content-Length`, that many body bytes.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(head_end) = find(&data, b"\r\n\r\n") {
            let body_len = content_length(&data[..head_end]);
            if data.len() >= head_end + 4 + body_len {
                return data;
            }
        }
        let n = socket.read(&mut buf).await.unwrap();
        if n == 0 {
            return data;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A response head for a close-delimited body.
fn head(status: &str, content_type: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

/// A complete response with a body and its length.
fn full(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn collect<T>(stream: ApiStream<T>) -> Vec<Result<T, ApiError>> {
    tokio::time::timeout(LIMIT, stream.collect()).await.unwrap()
}

#[tokio::test]
async fn generate_stream_handles_lines_split_across_chunks() {
    let pieces = vec![
        head("200 OK", "application/x-ndjson"),
        br#"{"model":"m","created_at":"t","respo"#.to_vec(),
        b"nse\":\"He\",\"done\":false}\n{\"model\":\"m\",\"created_at\":\"t\",\"response\":\"llo\",\"done\":false}\n{\"mod".to_vec(),
        br#"el":"m","created_at":"t","response":"","done":true,"done_reason":"stop","eval_count":2}"#.to_vec(),
    ];
    let (base, server) = serve_once(pieces).await;
    let client = Client::new(&base);
    let items = collect(client.generate(&GenerateRequest::new("m", "hi"))).await;
    let chunks: Vec<GenerateResponse> = items.into_iter().map(Result::unwrap).collect();
    let text: String = chunks.iter().map(|c| c.response.as_str()).collect();
    assert_eq!(text, "Hello");
    assert!(chunks[2].done);
    assert_eq!(chunks[2].metrics.eval_count, 2);

    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(request.starts_with("POST /api/generate HTTP/1.1\r\n"));
    assert!(request.contains("\"model\":\"m\",\"prompt\":\"hi\""));
    assert!(request
        .to_ascii_lowercase()
        .contains("accept: application/x-ndjson"));
}

#[tokio::test]
async fn mid_stream_error_line_ends_the_stream_with_an_error() {
    let pieces = vec![
        head("200 OK", "application/x-ndjson"),
        b"{\"model\":\"m\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\",\"content\":\"a\"},\"done\":false}\n".to_vec(),
        b"{\"error\":\"model runner crashed\"}\n".to_vec(),
        b"{\"model\":\"m\",\"created_at\":\"t\",\"message\":{\"role\":\"assistant\",\"content\":\"b\"},\"done\":false}\n".to_vec(),
    ];
    let (base, _server) = serve_once(pieces).await;
    let client = Client::new(base);
    let request = ChatRequest::new("m", vec![Message::user("hi")]);
    let items = collect(client.chat(&request)).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().message.content, "a");
    assert_eq!(
        items[1].as_ref().unwrap_err(),
        &ApiError::message("model runner crashed")
    );
}

#[tokio::test]
async fn error_status_before_streaming_is_decoded() {
    let pieces = vec![full("404 Not Found", r#"{"error":"model 'x' not found"}"#)];
    let (base, _server) = serve_once(pieces).await;
    let items = collect(Client::new(base).generate(&GenerateRequest::new("x", ""))).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].as_ref().unwrap_err(),
        &ApiError::not_found("model 'x' not found")
    );
}

#[tokio::test]
async fn plain_text_error_body_becomes_the_message() {
    let pieces = vec![full("405 Method Not Allowed", "405 method not allowed")];
    let (base, _server) = serve_once(pieces).await;
    let err = Client::new(base).list().await.unwrap_err();
    assert_eq!(err, ApiError::new(405, "405 method not allowed"));
}

#[tokio::test]
async fn json_endpoints_decode_bodies() {
    let body = r#"{"models":[{"name":"a:latest","model":"a:latest","modified_at":"x","size":1,"digest":"d","details":{"parent_model":"","format":"gguf","family":"llama","families":null,"parameter_size":"1B","quantization_level":"Q4_0"}}]}"#;
    let (base, server) = serve_once(vec![full("200 OK", body)]).await;
    let list = Client::new(base).list().await.unwrap();
    assert_eq!(list.models[0].name, "a:latest");
    assert_eq!(list.models[0].details.format, "gguf");
    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(request.starts_with("GET /api/tags HTTP/1.1\r\n"));
    assert!(request.contains("user-agent: hearth/"));
}

#[tokio::test]
async fn delete_sends_a_json_body_and_accepts_an_empty_reply() {
    let (base, server) = serve_once(vec![full("200 OK", "")]).await;
    Client::new(base)
        .delete(&DeleteRequest::new("m:latest"))
        .await
        .unwrap();
    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(request.starts_with("DELETE /api/delete HTTP/1.1\r\n"));
    assert!(request.ends_with(r#"{"model":"m:latest","name":""}"#));
}

#[tokio::test]
async fn generate_once_forces_stream_false() {
    let body = r#"{"model":"m","created_at":"t","response":"all","done":true}"#;
    let (base, server) = serve_once(vec![full("200 OK", body)]).await;
    let reply = Client::new(base)
        .generate_once(&GenerateRequest::new("m", "p"))
        .await
        .unwrap();
    assert_eq!(reply.response, "all");
    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(request.contains("\"stream\":false"));
}

#[tokio::test]
async fn blob_exists_maps_statuses() {
    let digest = format!("sha256:{}", "a".repeat(64));
    let (base, server) = serve_once(vec![full("200 OK", "")]).await;
    assert!(Client::new(base).blob_exists(&digest).await.unwrap());
    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(request.starts_with(&format!("HEAD /api/blobs/{digest} HTTP/1.1")));

    let (base, _server) = serve_once(vec![full("404 Not Found", "")]).await;
    assert!(!Client::new(base).blob_exists(&digest).await.unwrap());

    let (base, _server) = serve_once(vec![full("400 Bad Request", "")]).await;
    let err = Client::new(base).blob_exists("bogus").await.unwrap_err();
    assert_eq!(err, ApiError::bad_request("400 Bad Request"));
}

#[tokio::test]
async fn upload_blob_streams_the_file_with_its_length() {
    let path = std::env::temp_dir().join(format!("hearth-api-blob-{}", std::process::id()));
    let contents: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &contents).unwrap();
    let digest = format!("sha256:{}", "b".repeat(64));

    let (base, server) = serve_once(vec![full("201 Created", "")]).await;
    let result = Client::new(base).upload_blob(&digest, &path).await;
    let request = server.await.unwrap();
    std::fs::remove_file(&path).unwrap();
    result.unwrap();

    let head_end = find(&request, b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&request[..head_end]).to_string();
    assert!(head.starts_with(&format!("POST /api/blobs/{digest} HTTP/1.1")));
    assert_eq!(content_length(head.as_bytes()), contents.len());
    assert_eq!(&request[head_end + 4..], &contents[..]);
}

#[tokio::test]
async fn upload_blob_reports_a_digest_mismatch() {
    let path = std::env::temp_dir().join(format!("hearth-api-bad-{}", std::process::id()));
    std::fs::write(&path, b"x").unwrap();
    let body = r#"{"error":"digest mismatch, expected \"sha256:aa\", got \"sha256:bb\""}"#;
    let (base, _server) = serve_once(vec![full("400 Bad Request", body)]).await;
    let err = Client::new(base)
        .upload_blob("sha256:aa", &path)
        .await
        .unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(err.status, Some(400));
    assert!(err.message.starts_with("digest mismatch"));
}

#[tokio::test]
async fn missing_file_is_a_clear_error() {
    let client = Client::new("http://127.0.0.1:9");
    let err = client
        .upload_blob(
            "sha256:aa",
            std::path::Path::new("/nonexistent/hearth.gguf"),
        )
        .await
        .unwrap_err();
    assert!(err.message.starts_with("/nonexistent/hearth.gguf: "));
}

#[tokio::test]
async fn connection_refused_says_how_to_fix_it() {
    // Grab a free port, then close it so nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(format!("{base}/"));
    assert_eq!(client.base_url(), base);

    let err = client.heartbeat().await.unwrap_err();
    assert!(err.is_connect_error());
    assert_eq!(
        err.message,
        format!("could not connect to hearth server at {base} — is 'hearth serve' running?")
    );
    let items = collect(client.pull(&PullRequest::new("m"))).await;
    assert!(items[0].as_ref().unwrap_err().is_connect_error());
}
