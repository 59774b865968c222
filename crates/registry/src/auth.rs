//! Bearer-token challenges (`WWW-Authenticate: Bearer realm=…`): parsing
//! the header and fetching an anonymous token from the realm.
//!
//! The realm must be on the registry's own host: a hostile registry could
//! otherwise point it anywhere and collect whatever is sent there
//! (CVE-2025-51471). Ollama also signs the token request with its ed25519
//! identity; Hearth has no identity key yet, so it asks anonymously, which
//! is what public registries and CNCF Distribution's token servers accept.

use reqwest::{Client, Url};
use serde::Deserialize;

use crate::client::{origin_host, read_capped, status_error};
use crate::error::{RegistryError, Result};

/// Token responses are small JSON objects.
const MAX_TOKEN_BODY: usize = 64 << 10;

/// A parsed `Bearer` challenge.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: String,
    /// The OAuth2 spelling some token servers use instead.
    #[serde(default)]
    access_token: String,
}

impl Challenge {
    /// Parses `Bearer realm="…",service="…",scope="…"`; `None` for other
    /// schemes or a challenge without a realm.
    pub(crate) fn parse(header: &str) -> Option<Challenge> {
        let (scheme, params) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut challenge = Challenge::default();
        for (key, value) in params_of(params) {
            match key.to_ascii_lowercase().as_str() {
                "realm" => challenge.realm = value,
                "service" => challenge.service = Some(value),
                "scope" => challenge.scope = Some(value),
                _ => {}
            }
        }
        (!challenge.realm.is_empty()).then_some(challenge)
    }

    /// The realm URL with `service` and `scope`, after checking that it is
    /// on `registry_host`.
    fn token_url(&self, registry_host: &str) -> Result<Url> {
        let foreign = || RegistryError::ForeignRealm {
            realm: self.realm.clone(),
            host: registry_host.to_string(),
        };
        let mut url = Url::parse(&self.realm).map_err(|_| foreign())?;
        let web = matches!(url.scheme(), "http" | "https");
        if !web || origin_host(&url) != registry_host.to_ascii_lowercase() {
            return Err(foreign());
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = &self.service {
                query.append_pair("service", service);
            }
            if let Some(scope) = &self.scope {
                query.append_pair("scope", scope);
            }
        }
        Ok(url)
    }

    /// Asks the realm for a token.
    pub(crate) async fn fetch_token(&self, http: &Client, registry_host: &str) -> Result<String> {
        let url = self.token_url(registry_host)?;
        let response = http.get(url).send().await?;
        if !response.status().is_success() {
            return Err(status_error("fetch registry token", response).await);
        }
        let body = read_capped(response, MAX_TOKEN_BODY, "token response").await?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Protocol(format!("bad token response: {e}")))?;
        let token = if parsed.token.is_empty() {
            parsed.access_token
        } else {
            parsed.token
        };
        if token.is_empty() {
            return Err(RegistryError::Unauthorized);
        }
        Ok(token)
    }
}

/// `key="value"` or `key=value` pairs separated by commas; quoted values
/// may contain commas (`scope="repository:a:pull,push"`) and `\"`.
fn params_of(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_distribution_challenge() {
        let c = Challenge::parse(
            r#"Bearer realm="https://r.example/token",service="r.example",scope="repository:ns/m:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://r.example/token");
        assert_eq!(c.service.as_deref(), Some("r.example"));
        assert_eq!(c.scope.as_deref(), Some("repository:ns/m:pull,push"));
        assert!(Challenge::parse(r#"Basic realm="x""#).is_none());
        assert!(Challenge::parse("Bearer service=x").is_none());
        let bare = Challenge::parse("bearer realm=http://h/t, scope=a").unwrap();
        assert_eq!(bare.realm, "http://h/t");
        assert_eq!(bare.scope.as_deref(), Some("a"));
    }

    #[test]
    fn realm_must_be_the_registry_host() {
        let c = Challenge {
            realm: "https://r.example/token?x=1".into(),
            service: Some("svc".into()),
            scope: Some("repository:a/b:pull".into()),
        };
        let url = c.token_url("R.example").unwrap();
        assert_eq!(
            url.as_str(),
            "https://r.example/token?x=1&service=svc&scope=repository%3Aa%2Fb%3Apull"
        );
        for realm in [
            "https://evil.example/token",
            "https://r.example:444/token",
            "file:///etc/passwd",
            "not a url",
        ] {
            let c = Challenge {
                realm: realm.into(),
                ..Challenge::default()
            };
            assert!(
                matches!(
                    c.token_url("r.example"),
                    Err(RegistryError::ForeignRealm { .. })
                ),
                "{realm}"
            );
        }
    }
}
