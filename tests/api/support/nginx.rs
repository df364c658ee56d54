//! A real nginx (Debian's package) as a reverse proxy in front of test apps.
//!
//! It runs as one process (`master_process off`): a master with workers would leave a worker
//! running as `nobody` when the master is killed, and nginx rewrites the workers' command line
//! and clears their environment, so nothing would show where they came from. On drop the
//! process is stopped, checked gone, and its temp dir removed.

use super::process::{Spawned, TempDir};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running nginx.
pub struct Nginx {
    // Declared before `dir`, so nginx stops before its dir is removed.
    process: Spawned,
    /// `http://127.0.0.1:port`.
    pub address: String,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx with `locations` (the inside of a `server` block, `listen` added here).
    pub fn start(locations: &str) -> Nginx {
        Nginx::start_with("", locations)
    }

    /// Starts nginx with `http` added to its `http` block (upstreams, log formats) and
    /// `locations` in its server; `{dir}` in either is replaced by its temp dir.
    pub fn start_with(http: &str, locations: &str) -> Nginx {
        let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect(
                "nginx is missing: apt-get install nginx-light (scripts/install-test-deps.sh does)",
            );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = TempDir::new("nginx");
        let d = dir.path().display();
        let http = http.replace("{dir}", &d.to_string());
        let locations = locations.replace("{dir}", &d.to_string());
        let conf = format!(
            "master_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 64; }}\n\
             http {{\n access_log off;\n{http}\n client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n \
             fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n \
             server {{\n  listen 127.0.0.1:{port};\n{locations}\n }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        // `-p <dir>` puts the tag on its command line.
        let process = Spawned::start(
            Command::new(bin)
                .arg("-p")
                .arg(dir.path())
                .arg("-c")
                .arg(dir.path().join("nginx.conf"))
                .args(["-g", "daemon off;"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            dir.tag(),
            "nginx",
            Duration::from_secs(5),
        )
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let nginx = Nginx {
            process,
            address: format!("http://127.0.0.1:{port}"),
            dir,
        };
        super::wait_for(Duration::from_secs(10), "nginx to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        nginx
    }

    /// Its processes (one: it runs without a master).
    pub fn processes(&self) -> Vec<super::process::Proc> {
        self.process.processes()
    }

    /// A file of its temp dir, as text (empty when missing).
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// Its tag (its temp dir's name).
    pub fn tag(&self) -> &str {
        self.dir.tag()
    }

    /// Its error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}
// Drop: `process` gets SIGTERM (nginx's fast shutdown), then SIGKILL for anything still
// carrying its tag; then `dir` is removed.
