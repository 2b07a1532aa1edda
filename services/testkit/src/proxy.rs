//! A TCP proxy between a service and a server it depends on, so a test can take the
//! server away from that one service — drop every live connection and refuse new ones —
//! and give it back, without stopping the shared server other tests use.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

struct Shared {
    target: SocketAddr,
    cut: AtomicBool,
    accepted: AtomicU64,
    live: AtomicU64,
    /// Bumped by every cut: live connections end when it moves.
    generation: watch::Sender<u64>,
}

/// Listens on 127.0.0.1 (port 0) and forwards every connection to `target`.
pub struct TcpProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TcpProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpProxy")
            .field("addr", &self.addr)
            .field("target", &self.shared.target)
            .finish()
    }
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            target,
            cut: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            live: AtomicU64::new(0),
            generation: watch::channel(0).0,
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self {
            addr,
            shared,
            accept,
        })
    }

    /// Where clients connect (`127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections forwarded so far (the proof that a client really went through here).
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Drops every live connection and refuses new ones (accepted, then closed at once)
    /// until [`restore`](Self::restore); returns once the live ones are closed.
    pub async fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        self.shared.generation.send_modify(|g| *g += 1);
        for _ in 0..500 {
            if self.shared.live.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.generation.send_modify(|g| *g += 1);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if shared.cut.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        shared.accepted.fetch_add(1, Ordering::SeqCst);
        shared.live.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(forward(client, shared.clone()));
    }
}

async fn forward(mut client: TcpStream, shared: Arc<Shared>) {
    let mut generation = shared.generation.subscribe();
    generation.mark_unchanged();
    if let Ok(mut server) = TcpStream::connect(shared.target).await
        && !shared.cut.load(Ordering::SeqCst)
    {
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            _ = generation.changed() => {}
        }
    }
    // Both sockets close here.
    drop(client);
    shared.live.fetch_sub(1, Ordering::SeqCst);
}
