//! The seven Open API methods.
//!
//! Reads (`GET`) are retried on connection failures and 5xx with jittered backoff, three tries in
//! all. Actions (`POST`) are never retried after a timeout or a lost answer: the PBX may already
//! have rung the operator or moved the call, and doing it twice is worse than an error. The one
//! retry every request gets is after HTTP 401, which means the request did not run: the token is
//! refreshed once and the request sent once more.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use serde_json::{Map, Value, json};
use url::Url;

use crate::endpoints::{Endpoints, HttpConfig, transport_error};
use crate::error::{BODY_EXCERPT_LIMIT, Error, body_starts, excerpt};
use crate::model::{Callee, ExternalNumber, LegRef, PlacedCall, SipId, Terminal, Workplace};
use crate::secret::AccessToken;
use crate::session::Session;

/// How many times a read is tried in all.
const READ_TRIES: u32 = 3;
/// The first backoff before a read is retried; it doubles, with jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// The Open API client.
#[derive(Debug, Clone)]
pub struct Pbx {
    http: reqwest::Client,
    api: Url,
    deadline: Duration,
    session: Arc<Session>,
}

impl Pbx {
    /// A client for the API at `endpoints.api`, authorised by `session`.
    pub fn new(
        endpoints: &Endpoints,
        http: reqwest::Client,
        http_config: HttpConfig,
        session: Arc<Session>,
    ) -> Self {
        Pbx {
            http,
            api: endpoints.api.clone(),
            deadline: http_config.request_timeout,
            session,
        }
    }

    /// The session this client uses.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The account's external numbers (`GET /externalNumbersInfo`).
    pub async fn external_numbers(&self) -> Result<Vec<ExternalNumber>, Error> {
        let result = self.read("externalNumbersInfo").await?;
        list(&result, &["numbersList"], "externalNumbersInfo")?
            .iter()
            .map(|item| {
                let o = object(item, "externalNumbersInfo")?;
                Ok(ExternalNumber {
                    number: required_text(o, &["number"], "externalNumbersInfo")?,
                    kind: text(o, &["type"]),
                })
            })
            .collect()
    }

    /// The account's workplaces (`GET /workPlacesInfo`; the document also spells it
    /// `workplacesInfo`, and the heading's spelling is used).
    pub async fn workplaces(&self) -> Result<Vec<Workplace>, Error> {
        let result = self.read("workPlacesInfo").await?;
        list(
            &result,
            &["workplacesList", "workPlacesList"],
            "workPlacesInfo",
        )?
        .iter()
        .map(|item| {
            let o = object(item, "workPlacesInfo")?;
            Ok(Workplace {
                workplace: required_text(o, &["workplace"], "workPlacesInfo")?,
                name: text(o, &["name"]).unwrap_or_default(),
            })
        })
        .collect()
    }

    /// The account's terminals and their workplaces (`GET /terminalsInfo`). The document's
    /// example says `terminals_list`/`terminal` and its table `terminalsList`/`terminale`; all
    /// are accepted.
    pub async fn terminals(&self) -> Result<Vec<Terminal>, Error> {
        let result = self.read("terminalsInfo").await?;
        list(
            &result,
            &["terminals_list", "terminalsList"],
            "terminalsInfo",
        )?
        .iter()
        .map(|item| {
            let o = object(item, "terminalsInfo")?;
            Ok(Terminal {
                terminal: required_text(o, &["terminal", "terminale"], "terminalsInfo")?,
                workplace: required_text(o, &["workplace"], "terminalsInfo")?,
            })
        })
        .collect()
    }

    /// Click-to-call (`POST /makeCall`): the PBX rings `caller` (a workplace, not a terminal),
    /// and once the operator answers, dials `callee`. Never retried after a timeout.
    pub async fn make_call(&self, caller: &SipId, callee: &Callee) -> Result<PlacedCall, Error> {
        let result = self
            .act(
                "makeCall",
                json!({"params": {"callerId": caller.as_str(), "calleeId": callee.as_str()}}),
            )
            .await?;
        let id = result
            .get("call")
            .and_then(Value::as_object)
            .and_then(|c| text(c, &["id"]))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::Undecodable {
                what: "makeCall".into(),
                detail: "the answer has no result.call.id".into(),
                excerpt: body_starts(&Value::Object(result.clone()).to_string()),
            })?;
        Ok(PlacedCall {
            id: crate::model::LegId::new(id),
        })
    }

    /// Ends one leg (`POST /terminateCall`); the call goes on along the cabinet's routing. This
    /// is also how a parked call is released at once.
    pub async fn terminate_call(&self, leg: &LegRef) -> Result<(), Error> {
        self.act(
            "terminateCall",
            json!({"params": {
                "call": {"id": leg.id.as_str(), "tag": leg.tag},
                "transportId": leg.transport_id,
            }}),
        )
        .await
        .map(drop)
    }

    /// Transfers a leg, answered or still ringing, to `target` (`POST /transferCall`).
    pub async fn transfer_call(&self, leg: &LegRef, target: &Callee) -> Result<(), Error> {
        self.act(
            "transferCall",
            json!({"params": {
                "call": {"id": leg.id.as_str(), "tag": leg.tag},
                "calleeId": target.as_str(),
                "transportId": leg.transport_id,
            }}),
        )
        .await
        .map(drop)
    }

    /// Turns parking on or off for external numbers (`POST /setParkingNumbers`). A parked
    /// number's incoming calls wait 5 seconds for a transfer or release before normal routing.
    pub async fn set_parking(&self, numbers: &[String], parking: bool) -> Result<(), Error> {
        if numbers.is_empty() {
            return Err(Error::InvalidInput(
                "no numbers given to park or unpark".into(),
            ));
        }
        for n in numbers {
            Callee::parse(n).map_err(|_| {
                Error::InvalidInput(format!("{n:?} is not an external number (digits only)"))
            })?;
        }
        self.act(
            "setParkingNumbers",
            json!({"params": {"numbers": numbers, "isParking": parking}}),
        )
        .await
        .map(drop)
    }

    /// A read: retried on connection failures and 5xx.
    async fn read(&self, method: &str) -> Result<Map<String, Value>, Error> {
        let mut attempt = 1;
        loop {
            match self.send(Method::GET, method, None).await {
                Err(e) if e.is_retryable() && attempt < READ_TRIES => {
                    let backoff = jittered(FIRST_BACKOFF * 2u32.pow(attempt - 1));
                    tracing::debug!(method, attempt, error = %e, ?backoff, "retrying a read");
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// An action: sent once (plus once more after a 401).
    async fn act(&self, method: &str, body: Value) -> Result<Map<String, Value>, Error> {
        self.send(Method::POST, method, Some(&body)).await
    }

    /// Sends one request; on 401, refreshes the token once and sends it once more.
    async fn send(
        &self,
        verb: Method,
        method: &str,
        body: Option<&Value>,
    ) -> Result<Map<String, Value>, Error> {
        let token = self.session.access_token().await?;
        match self.send_with(&verb, method, body, &token).await? {
            Answer::Unauthorized => {
                tracing::info!(method, "the API refused the token; refreshing once");
                let fresh = self.session.access_token_after_rejection(&token).await?;
                match self.send_with(&verb, method, body, &fresh).await? {
                    Answer::Unauthorized => Err(Error::SignInRequired(format!(
                        "the PBX refused a freshly refreshed token for {method}"
                    ))),
                    Answer::Done(result) => Ok(result),
                }
            }
            Answer::Done(result) => Ok(result),
        }
    }

    async fn send_with(
        &self,
        verb: &Method,
        method: &str,
        body: Option<&Value>,
        token: &AccessToken,
    ) -> Result<Answer, Error> {
        let url = Endpoints::join(&self.api, method);
        let mut request = self
            .http
            .request(verb.clone(), url.clone())
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            // The deadline this `Pbx` was made with, whatever the shared client's own: a relay
            // answering a seat's action must give up sooner than the client's default.
            .timeout(self.deadline);
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&url, &e, self.deadline))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| transport_error(&url, &e, self.deadline))?;
        tracing::debug!(
            method,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Open API answered"
        );
        if status == 401 {
            return Ok(Answer::Unauthorized);
        }
        interpret(method, status, &text).map(Answer::Done)
    }
}

enum Answer {
    Unauthorized,
    Done(Map<String, Value>),
}

/// Reads an answer per the project's ruling (docs/protocol/README.md): success is HTTP 2xx with `success` (inside or outside `result`)
/// equal to 1 or absent. The `result` object is returned (or the whole body when there is none).
fn interpret(method: &str, status: u16, text: &str) -> Result<Map<String, Value>, Error> {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    if !(200..300).contains(&status) {
        let (code, message) = parsed.as_ref().map(error_fields).unwrap_or((None, None));
        return Err(Error::Api {
            status,
            code,
            message,
            body: excerpt(text, BODY_EXCERPT_LIMIT),
        });
    }
    let Some(Value::Object(body)) = parsed else {
        return Err(Error::Undecodable {
            what: method.to_owned(),
            detail: if text.trim().is_empty() {
                "the answer is empty".into()
            } else {
                "the answer is not a JSON object".into()
            },
            excerpt: body_starts(text),
        });
    };
    let result = match body.get("result") {
        Some(Value::Object(r)) => r.clone(),
        _ => body.clone(),
    };
    let success = result.get("success").or_else(|| body.get("success"));
    match success {
        None | Some(Value::Null) => Ok(result),
        Some(v)
            if v.as_f64() == Some(1.0) || v.as_bool() == Some(true) || v.as_str() == Some("1") =>
        {
            Ok(result)
        }
        Some(_) => {
            let (code, message) = error_fields(&Value::Object(body.clone()));
            Err(Error::Api {
                status,
                code,
                message: message.or_else(|| Some(format!("{method} did not succeed"))),
                body: excerpt(text, BODY_EXCERPT_LIMIT),
            })
        }
    }
}

/// Finds an error code and message in an error body of unknown shape: `{"error": "..."}`,
/// `{"error": {"code", "message"}}`, `{"code", "message"}`, or RFC 6749's `error_description`.
fn error_fields(v: &Value) -> (Option<String>, Option<String>) {
    let Some(o) = v.as_object() else {
        return (None, None);
    };
    let nested = o.get("error").and_then(Value::as_object).or_else(|| {
        o.get("result")
            .and_then(Value::as_object)
            .and_then(|r| r.get("error"))
            .and_then(Value::as_object)
    });
    let code = nested
        .and_then(|e| text(e, &["code"]))
        .or_else(|| o.get("error").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| text(o, &["code", "errorCode"]));
    let message = nested
        .and_then(|e| text(e, &["message", "description"]))
        .or_else(|| text(o, &["message", "error_description", "errorMessage"]));
    (code, message)
}

fn list<'a>(
    result: &'a Map<String, Value>,
    keys: &[&str],
    what: &str,
) -> Result<&'a Vec<Value>, Error> {
    keys.iter()
        .find_map(|k| result.get(*k).and_then(Value::as_array))
        .ok_or_else(|| Error::Undecodable {
            what: what.to_owned(),
            detail: format!("the answer has no {} list", keys.join(" / ")),
            excerpt: body_starts(&Value::Object(result.clone()).to_string()),
        })
}

fn object<'a>(item: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Error> {
    item.as_object().ok_or_else(|| Error::Undecodable {
        what: what.to_owned(),
        detail: "a list entry is not an object".into(),
        excerpt: body_starts(&item.to_string()),
    })
}

fn text(o: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match o.get(*k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn required_text(o: &Map<String, Value>, keys: &[&str], what: &str) -> Result<String, Error> {
    text(o, keys).ok_or_else(|| Error::Undecodable {
        what: what.to_owned(),
        detail: format!("a list entry has no {}", keys.join(" / ")),
        excerpt: body_starts(&Value::Object(o.clone()).to_string()),
    })
}

fn jittered(base: Duration) -> Duration {
    let factor = rand::rng().random_range(0.5..1.5);
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_inside_or_outside_result_or_absent() {
        assert!(interpret("m", 200, r#"{"result":{"success":1}}"#).is_ok());
        assert!(interpret("m", 200, r#"{"success":1}"#).is_ok());
        assert!(interpret("m", 200, r#"{"result":{"total":0}}"#).is_ok());
        let err = interpret("m", 200, r#"{"result":{"success":0,"message":"busy"}}"#).unwrap_err();
        assert!(matches!(err, Error::Api { status: 200, .. }), "{err:?}");
    }

    #[test]
    fn error_bodies_of_any_shape_become_typed_errors() {
        let Error::Api {
            status,
            code,
            message,
            ..
        } = interpret(
            "m",
            400,
            r#"{"error":{"code":"unknown_leg","message":"no such leg"}}"#,
        )
        .unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            (status, code.as_deref(), message.as_deref()),
            (400, Some("unknown_leg"), Some("no such leg"))
        );
        let Error::Api {
            status, code, body, ..
        } = interpret("m", 502, "<html>Bad gateway</html>").unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            (status, code, body.as_str()),
            (502, None, "<html>Bad gateway</html>")
        );
        assert!(matches!(
            interpret("m", 200, ""),
            Err(Error::Undecodable { .. })
        ));
        assert!(matches!(
            interpret("m", 200, "<html>"),
            Err(Error::Undecodable { .. })
        ));
        let long = "x".repeat(10_000);
        let Error::Api { body, .. } = interpret("m", 500, &long).unwrap_err() else {
            panic!()
        };
        assert!(body.len() <= BODY_EXCERPT_LIMIT + 3);
    }
}
