//! Notifications to patients: an outbox row per message, written in the same transaction
//! as the event it tells of, with a job that sends it at its time (at once, or 24 h and
//! 2 h before an appointment). Channels are email over SMTP (lettre) and SMS through an
//! adapter (by default, a line per message in a log file). The patient's consent flags
//! decide which channels are used; their preferred language picks the template when one
//! exists in it, else English. Templates are minijinja, edited by administrators, with a
//! preview; rendering has a fuel limit so a template cannot loop for ever.

use salus_core::notifications::NotificationStatus;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use salus_db::DatabaseTransaction;
use salus_db::entity::{appointment, notification, notification_template};
use salus_db::notifications as q;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::jobs::new_job;
use crate::{AppError, Ctx};

/// How SMTP is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same host or a test server).
    None,
    StartTls,
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub timeout: Duration,
}

/// Where SMS messages go.
#[derive(Debug, Clone)]
pub enum SmsSettings {
    /// One line per message appended to this file (the default: no provider needed).
    Log { path: PathBuf },
    /// A provider's HTTP API: `body` is a minijinja template of the request body with
    /// `to` and `text` (e.g. `{"to": {{ to|tojson }}, "message": {{ text|tojson }}}`); any
    /// 2xx answer is success. `header` carries the provider's key.
    Http {
        url: String,
        body: String,
        content_type: String,
        header: Option<(String, String)>,
        timeout: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct NotificationSettings {
    /// `None`: email is not configured; email messages fail with that reason (and retry,
    /// so configuring it later delivers them).
    pub email: Option<SmtpSettings>,
    pub sms: SmsSettings,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self { email: None, sms: SmsSettings::Log { path: std::env::temp_dir().join("salus-sms.log") } }
    }
}

/// The kinds of message, and what the template may use.
pub const KINDS: [&str; 4] =
    ["appointment_booked", "appointment_reminder", "appointment_cancelled", "appointment_rescheduled"];
pub const CHANNELS: [&str; 2] = ["email", "sms"];

/// The values a preview renders with (what a real message would carry).
pub fn sample_context() -> Value {
    json!({ "patient": "Lakshmi Iyer", "doctor": "Dr Priya Rao", "date": "Mon 30 Nov 2026", "time": "09:30",
            "facility": "Salus Demo Hospital", "facility_phone": "+91 44 2345 6789", "when": "tomorrow" })
}

/// A language name as typed on a registration ("Tamil") or a code ("ta") to the code
/// templates are kept under.
pub fn language_code(preferred: Option<&str>) -> String {
    let p = preferred.unwrap_or("").trim().to_lowercase();
    let known = [
        ("english", "en"),
        ("tamil", "ta"),
        ("hindi", "hi"),
        ("telugu", "te"),
        ("kannada", "kn"),
        ("malayalam", "ml"),
        ("bengali", "bn"),
        ("marathi", "mr"),
        ("urdu", "ur"),
        ("gujarati", "gu"),
        ("punjabi", "pa"),
        ("arabic", "ar"),
        ("swahili", "sw"),
        ("yoruba", "yo"),
        ("hausa", "ha"),
        ("igbo", "ig"),
        ("amharic", "am"),
        ("french", "fr"),
        ("chinese", "zh"),
        ("mandarin", "zh"),
    ];
    if let Some((_, code)) = known.iter().find(|(name, code)| *name == p || *code == p) {
        return (*code).to_owned();
    }
    if p.len() == 2 && p.chars().all(|c| c.is_ascii_lowercase()) { p } else { "en".into() }
}

/// Renders a template's subject and body with `context`.
pub fn render(
    subject: &str,
    body: &str,
    context: &Value,
) -> Result<(String, String), (String, &'static str)> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(50_000));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let one =
        |field: &'static str, text: &str| env.render_str(text, context).map_err(|e| (e.to_string(), field));
    Ok((one("subject", subject)?, one("body", body)?))
}

/// A message in the outbox, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub send_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for Notification {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            patient_id: n.patient_id,
            kind: n.kind,
            channel: n.channel,
            recipient: n.recipient,
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            send_at: n.send_at,
            sent_at: n.sent_at,
        }
    }
}

/// The `kind` for [`crate::Notifications::queue_appointment_messages`] that writes only the
/// reminders of an appointment, no message now.
const REMINDERS_ONLY: &str = "reminders_only";

impl crate::Notifications<'_> {
    /// Writes the messages an appointment event calls for, in the caller's transaction:
    /// `kind` now, and for a booking (or a move) the reminders 24 h and 2 h before.
    pub(crate) async fn queue_appointment_messages(
        &self,
        txn: &DatabaseTransaction,
        a: &appointment::Model,
        kind: &str,
    ) -> Result<usize, AppError> {
        let Some(patient) = salus_db::patients::find_patient(txn, a.patient_id).await? else { return Ok(0) };
        let doctor = salus_db::identity::find_user(txn, a.doctor_id).await?.map(|u| u.user.display_name);
        let facilities = salus_db::organisation::facilities(txn).await?;
        let facility = facilities.iter().find(|f| f.active);
        let local = a.starts_at.with_timezone(&self.time_zone);
        let mut context = json!({
            "patient": format!("{} {}", patient.given_names, patient.family_name).trim(),
            "doctor": doctor.unwrap_or_default(),
            "date": local.format("%a %d %b %Y").to_string(),
            "time": a.slot_time.clone().unwrap_or_else(|| local.format("%H:%M").to_string()),
            "facility": facility.map(|f| f.name.clone()).unwrap_or_else(|| "Salus".into()),
            "facility_phone": facility.and_then(|f| f.phone.clone()),
            "when": "",
        });
        let mut channels = Vec::new();
        if patient.consent_email
            && let Some(email) = &patient.email
        {
            channels.push(("email", email.clone()));
        }
        if patient.consent_sms
            && let Some(phone) = &patient.phone
        {
            channels.push(("sms", phone.clone()));
        }
        let language = language_code(patient.preferred_language.as_deref());
        let now = Utc::now();
        let mut times = if kind == REMINDERS_ONLY { Vec::new() } else { vec![(kind.to_owned(), now, "")] };
        if matches!(kind, "appointment_booked" | "appointment_rescheduled" | REMINDERS_ONLY) {
            for (hours, when) in [(24, "tomorrow"), (2, "in two hours")] {
                let at = a.starts_at - chrono::Duration::hours(hours);
                if at > now + chrono::Duration::minutes(5) {
                    times.push(("appointment_reminder".into(), at, when));
                }
            }
        }
        let mut written = 0;
        for (kind, at, when) in times {
            context["when"] = json!(when);
            for (channel, recipient) in &channels {
                let row = notification::Model {
                    id: Uuid::now_v7(),
                    patient_id: a.patient_id,
                    appointment_id: Some(a.id),
                    kind: kind.clone(),
                    channel: (*channel).into(),
                    recipient: recipient.clone(),
                    language: language.clone(),
                    context: context.to_string(),
                    status: NotificationStatus::Pending,
                    attempts: 0,
                    last_error: None,
                    send_at: at,
                    sent_at: None,
                    created_at: now,
                    updated_at: now,
                };
                salus_db::jobs::enqueue(
                    txn,
                    new_job("notification.send", json!({ "notification_id": row.id }), at),
                )
                .await?;
                q::insert(txn, row).await?;
                written += 1;
            }
        }
        Ok(written)
    }

    /// When an appointment changes patient (a merge or its undoing): what was still to be
    /// sent about it was addressed from the other record (its phone, e-mail, consent and
    /// name), so it is cancelled and the reminders are written again from the patient it
    /// belongs to now. Appointments past, cancelled or finished are left alone.
    pub(crate) async fn readdress(
        &self,
        txn: &DatabaseTransaction,
        appointments: &[Uuid],
    ) -> Result<(), AppError> {
        let now = Utc::now();
        for id in appointments {
            let Some(a) = salus_db::scheduling::find_appointment(txn, *id).await? else { continue };
            if a.starts_at <= now || !matches!(a.status.as_str(), "booked" | "checked_in") {
                continue;
            }
            self.cancel_messages(txn, a.id).await?;
            self.queue_appointment_messages(txn, &a, REMINDERS_ONLY).await?;
        }
        Ok(())
    }

    /// Cancels an appointment's messages not yet sent — reminders, and a confirmation still
    /// waiting or failed — when it is cancelled or moved, so nothing about it goes out later.
    pub(crate) async fn cancel_messages(
        &self,
        txn: &DatabaseTransaction,
        appointment: Uuid,
    ) -> Result<(), AppError> {
        for n in q::unsent_of_appointment(txn, appointment).await? {
            q::set_status(txn, n.id, NotificationStatus::Cancelled, None, Utc::now()).await?;
            let payload = json!({ "notification_id": n.id }).to_string();
            salus_db::jobs::cancel_queued(txn, "notification.send", &payload).await?;
        }
        Ok(())
    }

    /// Sends one message (the job's work). A message no longer pending (sent, cancelled)
    /// is left alone, so running the job twice sends once.
    pub(crate) async fn send_notification(&self, id: Uuid, attempt: i32) -> Result<(), AppError> {
        // Claimed atomically: of two workers holding the same job (a lease that ran out
        // under a slow mail server), one sends and the other finds it taken.
        let lease = chrono::Duration::minutes(10);
        let txn = self.db.begin_write().await?;
        let claimed = q::claim_for_sending(&txn, id, Utc::now(), lease).await?;
        txn.commit().await?;
        if !claimed {
            return Ok(());
        }
        let Some(n) = q::find(self.db.reader(), id).await? else { return Ok(()) };
        let template = match q::template(self.db.reader(), &n.kind, &n.channel, &n.language).await? {
            Some(t) => t,
            None => q::template(self.db.reader(), &n.kind, &n.channel, "en")
                .await?
                .ok_or_else(|| AppError::Internal(format!("no template for {} by {}", n.kind, n.channel)))?,
        };
        let context: Value = serde_json::from_str(&n.context).unwrap_or_default();
        let result = match render(&template.subject, &template.body, &context) {
            Ok((subject, body)) => self.deliver(&n.channel, &n.recipient, &subject, &body).await,
            Err((e, field)) => Err(format!("the template's {field} does not render: {e}")),
        };
        let txn = self.db.begin_write().await?;
        match &result {
            Ok(()) => q::record_attempt(&txn, id, attempt, Ok(Utc::now())).await?,
            Err(e) => q::record_attempt(&txn, id, attempt, Err(e)).await?,
        }
        txn.commit().await?;
        result.map_err(AppError::Internal)
    }

    async fn deliver(&self, channel: &str, to: &str, subject: &str, body: &str) -> Result<(), String> {
        match channel {
            "email" => {
                let Some(smtp) = &self.notifications.email else {
                    return Err("email is not configured ([notifications.smtp])".into());
                };
                send_email(smtp, to, subject, body).await
            }
            "sms" => match &self.notifications.sms {
                SmsSettings::Http { url, body: template, content_type, header, timeout } => {
                    let payload = minijinja::Environment::new()
                        .render_str(template, json!({ "to": to, "text": body }))
                        .map_err(|e| format!("the SMS request template does not render: {e}"))?;
                    let client =
                        reqwest::Client::builder().timeout(*timeout).build().map_err(|e| e.to_string())?;
                    let mut req =
                        client.post(url).header(reqwest::header::CONTENT_TYPE, content_type).body(payload);
                    if let Some((name, value)) = header {
                        req = req.header(name, value);
                    }
                    let res = req
                        .send()
                        .await
                        .map_err(|e| format!("the SMS provider could not be reached: {e}"))?;
                    if res.status().is_success() {
                        Ok(())
                    } else {
                        let status = res.status();
                        let text: String = res.text().await.unwrap_or_default().chars().take(200).collect();
                        Err(format!("the SMS provider answered {status}: {text}"))
                    }
                }
                SmsSettings::Log { path } => {
                    let line = format!("{}\t{to}\t{}\n", Utc::now().to_rfc3339(), body.replace('\n', " "));
                    let mut file = tokio::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .await
                        .map_err(|e| format!("cannot open the SMS log {}: {e}", path.display()))?;
                    // Tokio's file hands the bytes to a background thread; only flush
                    // says they were written, before the job is marked sent.
                    file.write_all(line.as_bytes())
                        .await
                        .map_err(|e| format!("cannot write the SMS log: {e}"))?;
                    file.flush().await.map_err(|e| format!("cannot write the SMS log: {e}"))
                }
            },
            other => Err(format!("unknown channel {other}")),
        }
    }

    /// The outbox, newest first: one patient's messages, or everyone's for administrators.
    pub async fn outbox(&self, ctx: &Ctx, patient: Option<Uuid>) -> Result<Vec<Notification>, AppError> {
        self.authorize(
            ctx,
            if patient.is_some() { Permission::AppointmentsRead } else { Permission::JobsManage },
        )
        .await?;
        let rows = q::recent(self.db.reader(), patient, 200).await?;
        let events = rows
            .iter()
            .map(|n| {
                audit::row(
                    ctx,
                    Event::new("notification.read", "notification", Some(n.id.to_string()))
                        .patient(n.patient_id),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok(rows.into_iter().map(Notification::from).collect())
    }

    pub async fn notification_templates(
        &self,
        ctx: &Ctx,
    ) -> Result<Vec<salus_core::notifications::MessageTemplate>, AppError> {
        self.authorize(ctx, Permission::JobsManage).await?;
        Ok(crate::records(q::templates(self.db.reader()).await?))
    }

    /// Checks a template by rendering it with the sample values; returns the rendering.
    pub fn preview_template(&self, subject: &str, body: &str) -> Result<(String, String), AppError> {
        if body.trim().is_empty() {
            return Err(AppError::field("body", "write the message"));
        }
        render(subject, body, &sample_context()).map_err(|(e, field)| AppError::field(field, e))
    }

    /// Saves a template (new or replacing), after a preview proves it renders.
    pub async fn save_template(
        &self,
        ctx: &Ctx,
        kind: &str,
        channel: &str,
        language: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), AppError> {
        self.authorize(ctx, Permission::JobsManage).await?;
        let mut errors = Vec::new();
        if !KINDS.contains(&kind) {
            errors.push(salus_core::FieldError::new("kind", "choose one of the message kinds"));
        }
        if !CHANNELS.contains(&channel) {
            errors.push(salus_core::FieldError::new("channel", "choose email or sms"));
        }
        let language = language.trim().to_lowercase();
        if language.len() != 2 || !language.chars().all(|c| c.is_ascii_lowercase()) {
            errors.push(salus_core::FieldError::new(
                "language",
                "use a two-letter language code (en, ta, hi…)",
            ));
        }
        if channel == "email" && subject.trim().is_empty() {
            errors.push(salus_core::FieldError::new("subject", "an email needs a subject"));
        }
        if body.trim().is_empty() {
            errors.push(salus_core::FieldError::new("body", "write the message"));
        }
        if let Err((e, field)) = render(subject, body, &sample_context()) {
            errors.push(salus_core::FieldError::new(field, e));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let txn = self.db.begin_write().await?;
        let row = notification_template::Model {
            kind: kind.into(),
            channel: channel.into(),
            language: language.clone(),
            subject: subject.trim().into(),
            body: body.into(),
            updated_at: Utc::now(),
            updated_by: crate::patients::actor_id(ctx),
        };
        q::put_template(&txn, row).await?;
        let event = Event::new(
            "notification_template.save",
            "notification_template",
            Some(format!("{kind}/{channel}/{language}")),
        );
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}

pub(crate) async fn send_email(
    smtp: &SmtpSettings,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(|e| e.to_string())?
        }
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?
        }
    };
    let mut builder = builder.port(smtp.port).timeout(Some(smtp.timeout));
    if let (Some(u), Some(p)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    let message = Message::builder()
        .from(smtp.from.parse().map_err(|e| format!("the sender address is not valid: {e}"))?)
        .to(to.parse().map_err(|e| format!("the recipient address is not valid: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| e.to_string())?;
    builder.build().send(message).await.map(|_| ()).map_err(|e| format!("the mail server refused: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_codes() {
        assert_eq!(language_code(Some("Tamil")), "ta");
        assert_eq!(language_code(Some(" hi ")), "hi");
        assert_eq!(language_code(Some("Klingon")), "en");
        assert_eq!(language_code(None), "en");
    }

    #[test]
    fn templates_render_strictly_and_finitely() {
        let ok = render("Hi {{ patient }}", "{{ doctor }} at {{ time }}", &sample_context()).unwrap();
        assert_eq!(ok.0, "Hi Lakshmi Iyer");
        let (_, field) = render("x", "{{ nonsense }}", &sample_context()).unwrap_err();
        assert_eq!(field, "body", "an unknown value is an error, not blank text");
        let (_, field) = render("{% for", "", &sample_context()).unwrap_err();
        assert_eq!(field, "subject");
        let endless = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        assert!(render("", endless, &sample_context()).is_err(), "fuel stops a runaway template");
    }
}
