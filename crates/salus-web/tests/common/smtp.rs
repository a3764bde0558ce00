//! A small SMTP server for the tests that send mail, and the settings that point Salus at it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use salus_app::notifications::{NotificationSettings, SmsSettings, SmtpSecurity, SmtpSettings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A small SMTP server speaking the protocol for real over TCP: it accepts (or, when
/// `refuse`, rejects every recipient with 550) and keeps each accepted message.
pub struct SmtpServer {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<String>>>,
}

pub async fn smtp_server(refuse: bool) -> SmtpServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = messages.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-test.local\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RSET" | "NOOP" => b"250 2.0.0 OK\r\n",
                        "RCPT" if refuse => b"550 5.1.1 mailbox unavailable\r\n",
                        "RCPT" => b"250 2.1.5 OK\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 end with a dot\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 2.0.0 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"502 5.5.2 not implemented\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    SmtpServer { port, messages }
}

pub fn settings(port: u16, sms_log: &std::path::Path) -> NotificationSettings {
    NotificationSettings {
        email: Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "Salus Demo Hospital <appointments@salus.test>".into(),
            timeout: Duration::from_secs(5),
        }),
        sms: SmsSettings::Log { path: sms_log.to_path_buf() },
    }
}
