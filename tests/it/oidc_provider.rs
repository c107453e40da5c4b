//! A real OpenID provider for the sign-in tests: npm `oidc-provider` run by
//! `tests/oidc/provider.mjs` as a child process on a free port, with one
//! confidential client, test accounts, its own login and consent pages,
//! RP-initiated logout, JWT access tokens for a configured audience, and a
//! route that rotates its signing keys. `tests/oidc/login.mjs` signs in
//! through those pages in headless Chromium. `scripts/test` installs the npm
//! packages; these tests fail, never skip, when node or they are missing.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

const PROVIDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs");
const LOGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/login.mjs");

/// A person the provider knows. The login page takes `sub` or `email`.
#[derive(Debug, Clone, Serialize)]
pub struct OidcAccount {
    /// The subject identifier the provider puts in `sub`.
    pub sub: String,
    /// The `email` claim.
    pub email: String,
    /// The `email_verified` claim.
    pub email_verified: bool,
    /// The `name` claim.
    pub name: String,
}

impl OidcAccount {
    /// An account with a verified e-mail.
    pub fn verified(sub: &str, email: &str, name: &str) -> OidcAccount {
        OidcAccount {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: name.into(),
        }
    }
}

/// The registered client (the relying party), as `provider.mjs` reads it.
#[derive(Debug, Clone, Serialize)]
pub struct OidcClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret` (sent with HTTP Basic at the token endpoint).
    pub client_secret: String,
    /// Where the provider may send the browser back with a code.
    pub redirect_uris: Vec<String>,
    /// Where the provider may send the browser after RP-initiated logout.
    pub post_logout_redirect_uris: Vec<String>,
}

/// Everything the provider is started with (`provider.mjs`'s CONFIG).
#[derive(Debug, Clone, Serialize)]
pub struct OidcConfig {
    /// The one client.
    pub client: OidcClient,
    /// The access tokens' `aud`; the provider's default is the client id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Access token lifetime in seconds (default 3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<u64>,
    /// ID token lifetime in seconds (default 3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_ttl: Option<u64>,
    /// The people who can sign in.
    pub accounts: Vec<OidcAccount>,
}

impl OidcConfig {
    /// A client with one redirect URI and one post-logout redirect URI, and
    /// no accounts yet.
    pub fn new(
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        after_logout: &str,
    ) -> Self {
        OidcConfig {
            client: OidcClient {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                redirect_uris: vec![redirect_uri.into()],
                post_logout_redirect_uris: vec![after_logout.into()],
            },
            audience: None,
            access_token_ttl: None,
            id_token_ttl: None,
            accounts: Vec::new(),
        }
    }

    /// Adds an account.
    pub fn account(mut self, account: OidcAccount) -> Self {
        self.accounts.push(account);
        self
    }

    /// Sets the access tokens' audience.
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.into());
        self
    }
}

/// The answer to a key rotation.
#[derive(Debug, serde::Deserialize)]
pub struct RotatedKeys {
    /// The new signing key's `kid`.
    pub kid: String,
    /// Every `kid` the JWKS now publishes, the new one first.
    pub kids: Vec<String>,
}

/// A running provider; killed when dropped.
pub struct OidcProvider {
    /// `http://127.0.0.1:PORT`, the `iss` of its tokens.
    pub issuer: String,
    /// What it was started with.
    pub config: OidcConfig,
    child: Child,
    _stdout: ChildStdout,
    log: tempfile::NamedTempFile,
}

impl OidcProvider {
    /// Starts `provider.mjs` on a free port and waits until it listens.
    pub fn start(config: OidcConfig) -> OidcProvider {
        let json = serde_json::to_string(&config).expect("the config as JSON");
        // Its warnings and errors go to a file (a closed pipe would kill it).
        let log = tempfile::NamedTempFile::new().expect("a file for its log");
        let mut child = Command::new("node")
            .args([PROVIDER, "0", &json])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("the log file"))
            .spawn()
            .expect("node runs (install Node.js; scripts/test installs tests/oidc)");
        let stdout = child.stdout.take().expect("its stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|ready| ready["issuer"].as_str().map(str::to_owned));
        let Some(issuer) = issuer else {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
            panic!("{PROVIDER} did not start (scripts/test runs `npm ci --prefix tests/oidc`): said {line:?}\n{stderr}");
        };
        OidcProvider {
            issuer,
            config,
            child,
            _stdout: reader.into_inner(),
            log,
        }
    }

    /// What it has written to stderr so far (warnings, server errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// The issuer's discovery document.
    pub async fn discovery(&self) -> Value {
        get_json(&format!("{}/.well-known/openid-configuration", self.issuer)).await
    }

    /// The `kid`s its JWKS publishes now.
    pub async fn kids(&self) -> Vec<String> {
        let jwks = get_json(&format!("{}/jwks", self.issuer)).await;
        jwks["keys"]
            .as_array()
            .expect("a JWKS has keys")
            .iter()
            .map(|key| key["kid"].as_str().expect("every key has a kid").to_owned())
            .collect()
    }

    /// The authorization URL for the test client: the code flow with PKCE
    /// (S256 of `verifier`), back to `redirect` with `state`, and `nonce`.
    pub async fn authorize_url(
        &self,
        redirect: &str,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> String {
        let discovery = self.discovery().await;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        reqwest::Url::parse_with_params(
            discovery["authorization_endpoint"]
                .as_str()
                .expect("authorization_endpoint"),
            [
                ("client_id", self.config.client.client_id.as_str()),
                ("response_type", "code"),
                ("scope", "openid email profile"),
                ("redirect_uri", redirect),
                ("state", state),
                ("nonce", nonce),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .expect("an authorize URL")
        .to_string()
    }

    /// Exchanges `code` (with its PKCE `verifier`) at the token endpoint as
    /// the test client; answers the endpoint's answer as it is.
    pub async fn exchange(&self, code: &str, redirect: &str, verifier: &str) -> reqwest::Response {
        let discovery = self.discovery().await;
        let client = &self.config.client;
        reqwest::Client::new()
            .post(
                discovery["token_endpoint"]
                    .as_str()
                    .expect("token_endpoint"),
            )
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .expect("the token endpoint answers")
    }

    /// Signs in as `login` through the provider's pages and answers the
    /// token endpoint's JSON (`id_token`, `access_token`, ...), as a
    /// client at `redirect` would get it.
    pub async fn tokens(&self, login: &str, redirect: &str) -> Value {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let authorize = self
            .authorize_url(redirect, "state-t", "nonce-t", &verifier)
            .await;
        let back = self
            .sign_in(&authorize, login, redirect)
            .await
            .unwrap_or_else(|why| panic!("sign-in at the provider: {why}\n{}", self.log()));
        let back = reqwest::Url::parse(&back).expect("the redirect is a URL");
        let code = back
            .query_pairs()
            .find(|(name, _)| name == "code")
            .map(|(_, code)| code.into_owned())
            .expect("the redirect carries a code");
        let answer = self.exchange(&code, redirect, &verifier).await;
        assert!(answer.status().is_success(), "tokens: {}", answer.status());
        answer.json().await.expect("JSON")
    }

    /// Makes a new signing key that signs from now on; the previous ones
    /// stay published when `keep_old`, else they are dropped.
    pub async fn rotate_keys(&self, keep_old: bool) -> RotatedKeys {
        let old = if keep_old { "keep" } else { "drop" };
        let response = reqwest::Client::new()
            .post(format!("{}/test/rotate-keys?old={old}", self.issuer))
            .send()
            .await
            .expect("the provider answers");
        assert!(
            response.status().is_success(),
            "rotate-keys: {}",
            response.status()
        );
        response.json().await.expect("rotate-keys answers JSON")
    }

    /// Signs in at `authorize_url` through the provider's pages in headless
    /// Chromium as `login` (a sub or e-mail), consents, and returns the URL
    /// the provider sent the browser to (the first starting with
    /// `stop_prefix`, which is not loaded). Err holds node's output.
    pub async fn sign_in(
        &self,
        authorize_url: &str,
        login: &str,
        stop_prefix: &str,
    ) -> Result<String, String> {
        let args = [
            LOGIN.to_owned(),
            authorize_url.to_owned(),
            login.to_owned(),
            stop_prefix.to_owned(),
        ];
        let output = tokio::task::spawn_blocking(move || Command::new("node").args(args).output())
            .await
            .expect("join")
            .expect("node runs (scripts/test installs tests/browser and Chromium)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let printed: Value = serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout}"))?;
        printed["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| stdout.to_string())
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.expect("the provider answers");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.json().await.expect("JSON")
}

/// A JWT's header and payload, undecoded claims as JSON (no checks).
fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut next = || {
        let part = parts.next().expect("a JWT has three parts");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    };
    (next(), next())
}

const REDIRECT: &str = "http://127.0.0.1:65531/auth/callback";

fn provider(audience: Option<&str>) -> OidcProvider {
    let config = OidcConfig::new(
        "advice-log",
        "test-secret",
        REDIRECT,
        "http://127.0.0.1:65531/",
    )
    .account(OidcAccount::verified(
        "u-ada",
        "ada@example.org",
        "Ada Lovelace",
    ))
    .account(OidcAccount {
        email_verified: false,
        ..OidcAccount::verified("u-bob", "bob@example.org", "Bob")
    });
    let config = match audience {
        Some(audience) => config.audience(audience),
        None => config,
    };
    OidcProvider::start(config)
}

#[tokio::test]
async fn the_provider_publishes_discovery_and_rotates_its_keys() {
    let op = provider(None);
    let discovery = op.discovery().await;
    assert_eq!(discovery["issuer"], op.issuer.as_str());
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "end_session_endpoint",
    ] {
        let url = discovery[endpoint]
            .as_str()
            .unwrap_or_else(|| panic!("no {endpoint}: {discovery}"));
        assert!(
            url.starts_with(&op.issuer),
            "{endpoint} {url} is not at {}",
            op.issuer
        );
    }
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );

    let first = op.kids().await;
    assert_eq!(first.len(), 1, "one signing key at the start: {first:?}");
    let kept = op.rotate_keys(true).await;
    assert!(!first.contains(&kept.kid), "a new kid");
    assert_eq!(op.kids().await, vec![kept.kid.clone(), first[0].clone()]);
    let dropped = op.rotate_keys(false).await;
    assert_eq!(
        op.kids().await,
        vec![dropped.kid.clone()],
        "old keys dropped"
    );
    assert_eq!(dropped.kids, vec![dropped.kid]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_through_the_providers_pages_and_the_code_buys_jwts() {
    let audience = "https://advice-log.example/api";
    let op = provider(Some(audience));
    let client = op.config.client.clone();
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let authorize = op
        .authorize_url(REDIRECT, "state-1", "nonce-1", &verifier)
        .await;

    // An unknown login is not signed in; a known e-mail is.
    let refused = op
        .sign_in(&authorize, "mallory@example.org", REDIRECT)
        .await;
    assert!(
        refused.is_err_and(|why| why.contains("no such account")),
        "an unknown login is refused"
    );
    let back = op
        .sign_in(&authorize, "ada@example.org", REDIRECT)
        .await
        .unwrap_or_else(|why| panic!("the sign-in failed: {why}\nprovider log:\n{}", op.log()));
    let back = reqwest::Url::parse(&back).expect("the redirect is a URL");
    let query: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(query.get("state").map(String::as_str), Some("state-1"));
    assert_eq!(query.get("iss"), Some(&op.issuer));
    let code = query.get("code").expect("the redirect carries a code");

    // PKCE is checked: the wrong verifier gets nothing.
    let wrong = op.exchange(code, REDIRECT, &"x".repeat(64)).await;
    assert_eq!(wrong.status(), reqwest::StatusCode::BAD_REQUEST);
    let tokens: Value = op
        .exchange(code, REDIRECT, &verifier)
        .await
        .json()
        .await
        .expect("JSON");
    let kids = op.kids().await;

    let (header, id) = jwt_parts(
        tokens["id_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no id_token: {tokens}")),
    );
    assert_eq!(header["alg"], "RS256");
    assert!(
        kids.iter().any(|kid| header["kid"] == kid.as_str()),
        "signed by a published key"
    );
    assert_eq!(id["iss"], op.issuer.as_str());
    assert_eq!(id["aud"], client.client_id.as_str());
    assert_eq!(id["sub"], "u-ada");
    assert_eq!(id["nonce"], "nonce-1");
    assert_eq!(id["email"], "ada@example.org");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Ada Lovelace");

    let access = tokens["access_token"].as_str().expect("an access token");
    let (header, claims) = jwt_parts(access);
    assert_eq!(header["typ"], "at+jwt");
    assert!(
        kids.iter().any(|kid| header["kid"] == kid.as_str()),
        "signed by a published key"
    );
    assert_eq!(claims["aud"], audience);
    assert_eq!(claims["iss"], op.issuer.as_str());
    assert_eq!(claims["sub"], "u-ada");
    assert_eq!(claims["email"], "ada@example.org");
    assert_eq!(claims["email_verified"], true);
    assert!(claims["exp"].as_i64() > claims["iat"].as_i64());
}
