//! What the console's tests share: a relay with a public URL (so invites have links), an admin
//! and a supervisor with console passwords, and a small client that signs in and calls the API
//! as the console's page does (the session cookie and the CSRF token).

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use team_api::Role;

use crate::util::{TestRelay, free_port, start_with};

pub(crate) const PASSWORD: &str = "correct horse battery";
pub(crate) const COOKIE: &str = "__Host-trubka_console";

pub(crate) struct Console {
    pub(crate) relay: TestRelay,
    pub(crate) admin: i64,
    pub(crate) supervisor: i64,
}

/// A signed-in console: the cookie's value and the CSRF token.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) json: Value,
}

/// A free loopback port, for a relay whose public URL must be known before it starts.
pub(crate) async fn console() -> Console {
    console_with(|_| {}).await
}

pub(crate) async fn console_with(adjust: impl FnOnce(&mut relay::RelayConfig)) -> Console {
    let port = free_port();
    let relay = start_with(move |config| {
        config.listen = ([127, 0, 0, 1], port).into();
        config.public_url = Some(format!("http://127.0.0.1:{port}"));
        adjust(config);
    })
    .await;
    console_on(relay).await
}

/// Adds the admin "Ольга" and the supervisor "Пётр", each with [`PASSWORD`].
pub(crate) async fn console_on(relay: TestRelay) -> Console {
    let admin = seat_with_password(&relay, "Ольга", "883140582526566", Role::Admin).await;
    let supervisor = seat_with_password(&relay, "Пётр", "883140582526567", Role::Supervisor).await;
    Console {
        relay,
        admin,
        supervisor,
    }
}

pub(crate) async fn seat_with_password(
    relay: &TestRelay,
    name: &str,
    workplace: &str,
    role: Role,
) -> i64 {
    let state = relay.handle.state();
    let seat = state
        .team
        .add_seat(relay::store::team::NewSeat {
            name: name.into(),
            workplace: workplace.into(),
            role,
        })
        .await
        .unwrap()
        .profile
        .id;
    let hash = relay::console::password::hash(PASSWORD.into())
        .await
        .unwrap();
    state
        .console_store
        .set_console_password(seat, hash)
        .await
        .unwrap();
    seat
}

impl Console {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.relay.base)
    }

    pub(crate) async fn sign_in_as(&self, login: &str, password: &str) -> Answer {
        self.send(
            Method::POST,
            "/admin/api/session",
            None,
            Some(json!({ "login": login, "password": password })),
        )
        .await
    }

    /// Signs in; the session from the answer's cookie and body.
    pub(crate) async fn session(&self, login: &str) -> Session {
        let answer = self.sign_in_as(login, PASSWORD).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
        session_of(&answer)
    }

    pub(crate) async fn admin_session(&self) -> Session {
        self.session("Ольга").await
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        session: Option<&Session>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.relay.http.request(method, self.url(path));
        if let Some(session) = session {
            request = request
                .header("cookie", format!("{COOKIE}={}", session.cookie))
                .header("x-csrf-token", &session.csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    pub(crate) async fn get(&self, path: &str, session: &Session) -> Answer {
        self.send(Method::GET, path, Some(session), None).await
    }
}

pub(crate) async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        headers,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub(crate) fn session_of(answer: &Answer) -> Session {
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap();
    let value = set_cookie
        .strip_prefix(&format!("{COOKIE}="))
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    Session {
        cookie: value.to_owned(),
        csrf: answer.json["csrfToken"].as_str().unwrap().to_owned(),
    }
}
