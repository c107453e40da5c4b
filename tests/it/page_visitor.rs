//! A browser without JavaScript for page tests: one session cookie,
//! redirects read one at a time, forms posted with the CSRF token and the
//! command id read from the page, and small readers of what pages show.

use crate::support::TestApp;

/// A browser without JavaScript: one session cookie, redirects read one
/// at a time.
pub struct Visitor {
    base: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

/// What a page answered.
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: String,
    /// Where a redirect goes.
    pub location: Option<String>,
    /// The `Cache-Control` header.
    pub cache_control: Option<String>,
}

impl Visitor {
    /// A visitor of `app` with no session yet.
    pub fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: None,
        }
    }

    async fn answer(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("the server answers");
        if let Some(set) = response.headers().get("set-cookie") {
            let set = set.to_str().expect("ASCII cookie");
            self.cookie = Some(set.split(';').next().unwrap_or_default().to_string());
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (location, cache_control) = (header("location"), header("cache-control"));
        Answer {
            status: response.status().as_u16(),
            location,
            cache_control,
            body: response.text().await.expect("a body"),
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.base));
        self.answer(request).await
    }

    /// `POST path` with these fields, as a form posts them.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        self.answer(request).await
    }

    /// Signs in with `token` through the sign-in form.
    pub async fn sign_in(&mut self, token: &str) {
        let form = self.get("/sign-in").await;
        let csrf = csrf(&form.body);
        let answer = self
            .post(
                "/sign-in",
                &[("csrf", &csrf), ("token", token), ("next", "/")],
            )
            .await;
        assert_eq!(answer.status, 303, "signed in: {}", answer.body);
    }

    /// Posts an admin form as the admin page shows it: with its CSRF token
    /// and its command id, plus `fields`.
    pub async fn admin_post(&mut self, action: &str, fields: &[(&str, &str)]) -> Answer {
        let page = self.get("/admin").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = csrf(&page.body);
        let command = command_of(&page.body, action);
        let mut all = vec![("csrf", csrf.as_str()), ("command", command.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }
}

/// The value after `marker` up to the next quote.
pub fn value_after(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)? + marker.len();
    let rest = &html[start..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The CSRF token of the first form on a page.
pub fn csrf(html: &str) -> String {
    value_after(html, "name=\"csrf\" value=\"").expect("a CSRF field")
}

/// The command id of the form that posts to `action`.
pub fn command_of(html: &str, action: &str) -> String {
    let form = &html[html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("a form posting to {action}"))..];
    value_after(form, "name=\"command\" value=\"").expect("a command id")
}

/// The value of the option of select `id` whose label starts `label`.
pub fn option_value(html: &str, id: &str, label: &str) -> String {
    let start = html
        .find(&format!("<select class=\"nhsuk-select\" id=\"{id}\""))
        .or_else(|| html.find(&format!("id=\"{id}\" name=\"{id}\"")))
        .unwrap_or_else(|| panic!("a select {id}"));
    let select = &html[start..];
    let select = &select[..select.find("</select>").expect("the select ends")];
    select
        .split("<option value=\"")
        .skip(1)
        .find_map(|option| {
            let (value, rest) = option.split_once('"')?;
            let text = &rest[rest.find('>')? + 1..];
            text.starts_with(label).then(|| value.to_string())
        })
        .unwrap_or_else(|| panic!("an option {label:?} in {id}: {select}"))
}

/// The value of the group form's team checkbox labelled `label`.
pub fn checkbox_value(html: &str, label: &str) -> String {
    html.split("name=\"group-teams\" type=\"checkbox\" value=\"")
        .skip(1)
        .find_map(|item| {
            let (value, rest) = item.split_once('"')?;
            let text = &rest[rest.find("\">")? + 2..];
            text.starts_with(label).then(|| value.to_string())
        })
        .unwrap_or_else(|| panic!("a team box {label:?}"))
}

/// The token a token page shows once.
pub fn issued_token(html: &str) -> String {
    let marker = "aria-describedby=\"issued-token-hint\">";
    let start = html.find(marker).expect("the token is shown") + marker.len();
    let rest = &html[start..];
    rest[..rest.find("</textarea>").expect("the token ends")].to_string()
}

/// The first link on a page to a path starting `prefix`.
pub fn link(html: &str, prefix: &str) -> String {
    value_after(html, &format!("href=\"{prefix}"))
        .map(|rest| format!("{prefix}{rest}"))
        .unwrap_or_else(|| panic!("a link to {prefix}"))
}
