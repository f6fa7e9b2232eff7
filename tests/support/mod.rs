//! Private redis-servers for the cargo tests: free ports, temp dirs, stopped when the test binary exits.
#![allow(dead_code)]
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Servers started by one shell; they are killed when this process exits and the shell's stdin closes.
pub struct Servers {
    pub ports: Vec<u16>,
    _shell: Child,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `count` redis-servers, each with `extra` arguments, and waits until every one accepts connections.
pub fn start(count: usize, extra: &str) -> Servers {
    let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
    let mut script = String::new();
    for port in &ports {
        let dir = std::env::temp_dir().join(format!("regbuf-cargo-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        script.push_str(&format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no --repl-diskless-sync-delay 0 --dir '{}' {extra} & pids=\"$pids $!\"\n",
            dir.display()
        ));
    }
    script.push_str("read _; kill $pids\n");
    let shell = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (./build.sh deps)");
    let deadline = Instant::now() + Duration::from_secs(15);
    for port in &ports {
        while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server on {port} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Servers { ports, _shell: shell }
}

/// Runs redis-cli against `port` and returns what it printed.
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli").arg("-p").arg(port.to_string()).args(args).output().expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `check` until it holds, failing the test with `what` after `seconds`.
pub fn wait_until(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis Cluster of 3 masters with one replica each, all on 127.0.0.1, ready to serve every slot.
pub fn start_cluster() -> Servers {
    let servers = start(6, "--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000");
    let nodes: Vec<String> = servers.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut args = vec!["--cluster", "create"];
    args.extend(nodes.iter().map(String::as_str));
    args.extend(["--cluster-replicas", "1", "--cluster-yes"]);
    cli(servers.ports[0], &args);
    for port in &servers.ports {
        wait_until(60, "cluster_state:ok on every node", || {
            cli(*port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
        });
    }
    // Every master has its replica in sync before a test asks for replica durability.
    wait_until(60, "every master's replica", || {
        servers.ports.iter().filter(|p| cli(**p, &["INFO", "replication"]).contains(",state=online,")).count() == 3
    });
    servers
}
