//! HTTP/1.1 by hand over raw TCP: an HTTP client library would never trickle a head, hold a
//! connection idle, or show when the server closed it, and those are what the connection
//! tests and the raw stand-in Twilio are about.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use super::app::{PUBLIC_URL, TOKEN, default_callback, encode, sign};

/// Longer than any wait in these tests: a read still pending by then has hung.
pub const HUNG: Duration = Duration::from_secs(10);

/// An ordinary signed callback, as the bytes TaskRouter would send.
pub fn signed_callback() -> Vec<u8> {
    let pairs = default_callback();
    let body = encode(&pairs);
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);
    format!(
        "POST /assignment HTTP/1.1\r\nHost: router.example.com\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         X-Twilio-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One HTTP/1.1 answer as read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The header lines, lowercased.
    pub headers: String,
    pub body: String,
}

/// Reads one HTTP/1.1 message, its head then `Content-Length` bytes of body; `None` when
/// the connection ends (closed or reset) before the whole of it. Either end reading here
/// reads what the service under test wrote, so a head that is not text, or a length that
/// is not a number, fails the test.
pub async fn read_message(stream: &mut (impl AsyncRead + Unpin)) -> Option<(String, Vec<u8>)> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8(received[..head_end].to_vec()).unwrap();
    let length: usize = head
        .to_lowercase()
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().unwrap());
    let mut body = received[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some((head, body))
}

/// Reads one whole answer; `None` when the connection ends (closed or reset) before one.
pub async fn read_answer(stream: &mut (impl AsyncRead + Unpin)) -> Option<Answer> {
    let (head, body) = read_message(stream).await?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {head:?}"));
    Some(Answer {
        status,
        headers: head.to_lowercase(),
        body: String::from_utf8(body).unwrap(),
    })
}

/// Waits for the server to end the connection; what it sent before, if anything.
pub async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends a request head one byte every `every`, never finishing it, until the server closes.
pub async fn trickle_head(mut writer: impl AsyncWrite + Unpin, every: Duration) {
    let head = b"POST /assignment HTTP/1.1\r\nHost: router.example.com\r\nX-Slow: ";
    for byte in head.iter().chain(std::iter::repeat(&b'a')) {
        if writer.write_all(&[*byte]).await.is_err() {
            break;
        }
        sleep(every).await;
    }
}

/// Sends a signed callback on a new connection and reads the answer.
pub async fn answer_to_signed_callback(address: SocketAddr) -> Answer {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(&signed_callback()).await.unwrap();
    timeout(HUNG, read_answer(&mut stream))
        .await
        .expect("the callback was never answered")
        .expect("the connection ended without an answer")
}
