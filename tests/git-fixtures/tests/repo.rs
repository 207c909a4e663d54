//! `GitRepo` on its own: what the helpers publish to the served bare repository.

use git_fixtures::{GitRepo, git};

fn served_refs(repo: &GitRepo) -> String {
    git(["ls-remote", &repo.file_url()]).run_ok()
}

#[test]
fn a_commit_is_published_to_the_served_repository() {
    let repo = GitRepo::new("app");
    let sha = repo.commit_files(&[("deploy/app.yaml", "kind: ConfigMap\n")], "add app");

    assert_eq!(sha.len(), 40);
    assert_eq!(repo.head("main"), sha);
    assert!(served_refs(&repo).contains(&format!("{sha}\trefs/heads/main")));
}

#[test]
fn commits_are_reproducible_across_repositories() {
    let first = GitRepo::with_files("one", &[("a.txt", "a")]);
    let second = GitRepo::with_files("two", &[("a.txt", "a")]);

    assert_eq!(first.head("main"), second.head("main"));
}

#[test]
fn resetting_hard_rewrites_served_history() {
    let repo = GitRepo::with_files("app", &[("a.txt", "1")]);
    let base = repo.head("main");
    let dropped = repo.commit_files(&[("a.txt", "2")], "to be dropped");

    repo.reset_hard(&base);
    let rewritten = repo.commit_files(&[("a.txt", "2")], "to be dropped");

    assert_eq!(repo.head("main"), rewritten);
    assert_ne!(
        rewritten, dropped,
        "the clock gives a rewritten commit a new sha"
    );
}

#[test]
fn branches_move_and_tags_point_where_they_were_made() {
    let repo = GitRepo::with_files("app", &[("a.txt", "1")]);
    let first = repo.head("main");
    repo.tag("v1");
    let tag_object = repo.annotated_tag("v1-annotated", "release 1");
    repo.branch("release");
    let second = repo.commit("second");

    repo.move_branch("release", &second);
    repo.move_branch("main", &first);

    let refs = served_refs(&repo);
    assert!(refs.contains(&format!("{first}\trefs/tags/v1\n")));
    assert!(refs.contains(&format!("{tag_object}\trefs/tags/v1-annotated\n")));
    assert!(refs.contains(&format!("{first}\trefs/tags/v1-annotated^{{}}")));
    assert_eq!(repo.head("release"), second);
    assert_eq!(repo.head("main"), first);
}

#[test]
fn checkout_switches_the_branch_commits_land_on() {
    let repo = GitRepo::with_files("app", &[("a.txt", "1")]);
    repo.branch("feature");
    repo.checkout("feature");
    let on_feature = repo.commit_files(&[("b.txt", "2")], "feature work");

    assert_eq!(repo.current_branch().as_deref(), Some("feature"));
    assert_eq!(repo.head("feature"), on_feature);
    assert_ne!(repo.head("main"), on_feature);
}

#[test]
fn tree_ids_match_git_rev_parse() {
    let repo = GitRepo::with_files("app", &[("deploy/a.yaml", "a"), ("other/b.yaml", "b")]);
    let head = repo.head("main");
    let deploy = repo.tree_id(&head, "deploy");

    assert_eq!(deploy, repo.rev_parse(&format!("{head}:deploy")));
    assert_eq!(repo.tree_id(&head, "/deploy/"), deploy);
    assert_ne!(repo.tree_id(&head, ""), deploy);

    repo.commit_files(&[("other/b.yaml", "changed")], "outside deploy/");
    assert_eq!(repo.tree_id(&repo.head("main"), "deploy"), deploy);
}

#[test]
fn removed_files_disappear_with_the_next_commit() {
    let repo = GitRepo::with_files("app", &[("a.txt", "1"), ("dir/b.txt", "2")]);
    repo.remove("dir");
    let head = repo.commit("remove dir");

    let files = git(["--git-dir"])
        .arg(repo.bare_path())
        .args(["ls-tree", "-r", "--name-only", &head])
        .run_ok();
    assert_eq!(files, "a.txt");
}

#[test]
fn a_deleted_repository_can_be_restored() {
    let repo = GitRepo::with_files("app", &[("a.txt", "1")]);
    repo.delete_repository();
    assert!(!repo.is_served());
    assert!(!git(["ls-remote", &repo.file_url()]).run().success());

    repo.restore_repository();
    assert!(repo.is_served());
    assert!(served_refs(&repo).contains("refs/heads/main"));
}

#[test]
fn the_default_branch_can_change() {
    let repo = GitRepo::with_files("app", &[("a.txt", "1")]);
    repo.branch("stable");
    repo.set_default_branch("stable");

    let symref = git(["ls-remote", "--symref", &repo.file_url(), "HEAD"]).run_ok();
    assert!(
        symref.starts_with("ref: refs/heads/stable\tHEAD"),
        "{symref}"
    );
}
