//! The `healthcheck` command's probe: one plain HTTP request, no client library needed.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Why the service is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("no answer from {address}: {source}")]
    Io {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("GET /health on {address} answered `{status_line}`")]
    Unhealthy {
        address: SocketAddr,
        status_line: String,
    },
}

/// Sends `GET /health` to the service listening on `host:port` and expects a 200.
/// A wildcard host (`0.0.0.0`, `::`) is probed on the loopback address.
pub fn check(host: &str, port: u16) -> Result<(), ProbeError> {
    let address = target(host, port)?;
    let io = |source| ProbeError::Io { address, source };
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(io)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(io)?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head).map_err(io)?;
    let status_line = String::from_utf8_lossy(&head[..read])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    let mut words = status_line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/") => Ok(()),
        _ => Err(ProbeError::Unhealthy {
            address,
            status_line,
        }),
    }
}

/// Where to reach a service listening on `host:port`: a wildcard host is reached on the
/// loopback address.
pub fn target(host: &str, port: u16) -> Result<SocketAddr, ProbeError> {
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => {
            let loopback = match ip {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            Ok(SocketAddr::new(loopback, port))
        }
        Ok(ip) => Ok(SocketAddr::new(ip, port)),
        Err(_) => (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addresses| addresses.next())
            .ok_or_else(|| ProbeError::Resolve(host.to_owned())),
    }
}
