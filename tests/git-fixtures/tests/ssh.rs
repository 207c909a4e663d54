//! `SshGitServer`: real `git` over real `ssh` against a real `sshd`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use git_fixtures::{GitOutput, GitRepo, SshGitServer, SshKey, git};

/// A client's key and known_hosts on disk, and the `GIT_SSH_COMMAND` that uses only them.
struct Client {
    _dir: tempfile::TempDir,
    key: PathBuf,
    known_hosts: PathBuf,
}

impl Client {
    fn new(key: &SshKey, known_hosts: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            path
        };
        let key = write("id", key.private_key());
        let known_hosts = write("known_hosts", &format!("{known_hosts}\n"));
        Self {
            _dir: dir,
            key,
            known_hosts,
        }
    }

    fn ssh_command(&self) -> String {
        format!(
            "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o IdentityAgent=none \
             -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null \
             -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10",
            quote(&self.key),
            quote(&self.known_hosts)
        )
    }

    fn git(&self, args: &[&str]) -> GitOutput {
        git(args).env("GIT_SSH_COMMAND", self.ssh_command()).run()
    }
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display())
}

#[test]
fn an_authorized_key_lists_and_clones_over_protocol_v2() {
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a: 1\n")]);
    repo.tag("v1");
    let key = SshKey::generate("client");
    let server = SshGitServer::serve(&[&repo], &key);
    let client = Client::new(&key, &server.known_hosts());

    let out = client.git(&["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]);
    assert!(out.success(), "{}", out.stderr);
    let head = repo.head("main");
    assert!(
        out.stdout.contains(&format!("{head}\trefs/heads/main")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("refs/tags/v1"), "{}", out.stdout);

    let dest = tempfile::tempdir().unwrap();
    let clone = dest.path().join("clone");
    let out = client.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &server.url(&repo),
        clone.to_str().unwrap(),
    ]);
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(clone.join("deploy/a.yaml")).unwrap(),
        "a: 1\n"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.repository == "app.git" && r.git_protocol == "version=2"),
        "{requests:?}"
    );
}

#[test]
fn a_v0_only_server_ignores_the_protocol_request() {
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let key = SshKey::generate("client");
    let server = SshGitServer::builder()
        .protocol_v0_only()
        .authorize(&key)
        .serve(&[&repo]);
    let client = Client::new(&key, &server.known_hosts());
    let out = client.git(&["-c", "protocol.version=2", "ls-remote", &server.url(&repo)]);
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains(&repo.head("main")));
    assert_eq!(server.requests()[0].git_protocol, "");
}

#[test]
fn unknown_keys_wrong_host_keys_pushes_and_other_paths_are_refused() {
    let repo = GitRepo::with_files("app", &[("a", "1")]);
    let key = SshKey::generate("client");
    let server = SshGitServer::serve(&[&repo], &key);

    let stranger = Client::new(&SshKey::generate("stranger"), &server.known_hosts());
    let out = stranger.git(&["ls-remote", &server.url(&repo)]);
    assert!(!out.success());
    assert!(
        out.stderr.contains("Permission denied (publickey)"),
        "{}",
        out.stderr
    );

    let impostor = SshKey::generate("impostor");
    let fooled = Client::new(
        &key,
        &format!("[127.0.0.1]:{} {}", server.port(), impostor.public_key()),
    );
    let out = fooled.git(&["ls-remote", &server.url(&repo)]);
    assert!(!out.success());
    assert!(
        out.stderr.contains("Host key verification failed"),
        "{}",
        out.stderr
    );

    // Authorized later: accepted from then on.
    server.authorize(&SshKey::generate("unused"));
    let client = Client::new(&key, &server.known_hosts());
    for url in [
        server.url_for("missing"),
        format!(
            "ssh://{}@127.0.0.1:{}/../etc.git",
            server.user(),
            server.port()
        ),
    ] {
        let out = client.git(&["ls-remote", &url]);
        assert!(!out.success(), "{url}");
        assert!(
            out.stderr
                .contains("does not appear to be a git repository"),
            "{url}: {}",
            out.stderr
        );
    }
    let work = tempfile::tempdir().unwrap();
    let out = client.git(&[
        "clone",
        "-q",
        &server.url(&repo),
        work.path().join("c").to_str().unwrap(),
    ]);
    assert!(out.success(), "{}", out.stderr);
    let out = client.git(&[
        "-C",
        work.path().join("c").to_str().unwrap(),
        "push",
        "origin",
        "HEAD:refs/heads/pushed",
    ]);
    assert!(!out.success(), "pushes are refused");
    assert!(
        out.stderr.contains("only git-upload-pack is served"),
        "{}",
        out.stderr
    );
}
