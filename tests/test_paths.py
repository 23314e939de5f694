"""The path policy that guards every tool taking a model-chosen video path: each attack, refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from viddiff.tools.errors import ConfigError, VidDiffError
from viddiff.tools.paths import PathPolicy, PathRefused


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """An allowed folder with a video, a sub-folder and links, and a secret outside it."""
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    (root / "a.mp4").write_bytes(b"video a")
    (root / "sub" / "b.mp4").write_bytes(b"video b")
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"secret")
    (root / "escape.mp4").symlink_to(outside / "secret.mp4")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "inner_link.mp4").symlink_to(root / "sub" / "b.mp4")
    return {"root": root, "outside": outside}


@pytest.fixture
def policy(tree: dict[str, Path]) -> PathPolicy:
    return PathPolicy.from_dirs([tree["root"]])


def test_allowed_relative_and_absolute_paths_resolve(policy, tree):
    root = tree["root"].resolve()
    assert policy.check("a.mp4") == str(root / "a.mp4")
    assert policy.check("./sub/b.mp4") == str(root / "sub" / "b.mp4")
    assert policy.check(str(tree["root"] / "sub" / "b.mp4")) == str(root / "sub" / "b.mp4")
    assert policy.check("  a.mp4 ") == str(root / "a.mp4")  # stray spaces from a model
    # a symlink that stays inside is fine, and the real target is what gets opened
    assert policy.check("inner_link.mp4") == str(root / "sub" / "b.mp4")


@pytest.mark.parametrize("raw", ["../private/secret.mp4", "sub/../../private/secret.mp4",
                                 "sub/../a.mp4", "..", "./../videos/a.mp4"])
def test_parent_traversal_is_refused(policy, raw):
    with pytest.raises(PathRefused, match=r"'\.\.'"):
        policy.check(raw)


def test_absolute_path_outside_is_refused_without_revealing_it_exists(policy, tree):
    for raw in (str(tree["outside"] / "secret.mp4"), "/etc/passwd", "/",
                str(tree["outside"] / "missing.mp4")):
        with pytest.raises(PathRefused, match="outside the allowed folders"):
            policy.check(raw)


def test_a_sibling_folder_sharing_the_prefix_is_outside(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos-private").mkdir()
    (tmp_path / "videos-private" / "x.mp4").write_bytes(b"x")
    policy = PathPolicy.from_dirs([tmp_path / "videos"])
    with pytest.raises(PathRefused, match="outside"):
        policy.check(str(tmp_path / "videos-private" / "x.mp4"))


@pytest.mark.parametrize("raw", ["escape.mp4", "escape_dir/secret.mp4"])
def test_symlinks_leaving_the_roots_are_refused(policy, raw):
    with pytest.raises(PathRefused, match="symlink"):
        policy.check(raw)


def test_dangling_symlink_to_outside_is_refused(policy, tree):
    (tree["root"] / "dangling.mp4").symlink_to(tree["outside"] / "nothing.mp4")
    with pytest.raises(PathRefused, match="symlink"):
        policy.check("dangling.mp4")


@pytest.mark.parametrize("raw", ["http://example.com/a.mp4", "https://example.com/a.mp4",
                                 "HTTP://EXAMPLE.COM/A.MP4"])
def test_urls_are_refused_unless_allowed(policy, tree, raw):
    with pytest.raises(PathRefused, match="URLs are not allowed"):
        policy.check(raw)
    allowing = PathPolicy.from_dirs([tree["root"]], allow_urls=True)
    assert allowing.check(raw) == raw


@pytest.mark.parametrize("raw", ["file:///etc/passwd", "file:a.mp4", "data:video/mp4;base64,AA",
                                 "concat:a.mp4|/etc/passwd", "pipe:0", "subfile:,,start,0,end,"
                                 "0,,:a.mp4", "ftp://example.com/a.mp4", "rtsp://cam/stream"])
def test_other_schemes_and_ffmpeg_protocols_are_always_refused(tree, raw):
    for allow in (False, True):
        policy = PathPolicy.from_dirs([tree["root"]], allow_urls=allow)
        with pytest.raises(PathRefused, match="never opened"):
            policy.check(raw)


def test_incomplete_url_is_refused_even_when_allowed(tree):
    with pytest.raises(PathRefused, match="not a complete"):
        PathPolicy.from_dirs([tree["root"]], allow_urls=True).check("https:///a.mp4")


def test_a_file_named_like_a_protocol_is_read_as_a_file(policy, tree):
    (tree["root"] / "concat:x.mp4").write_bytes(b"x")
    assert policy.check("./concat:x.mp4") == str(tree["root"].resolve() / "concat:x.mp4")


@pytest.mark.parametrize("raw", ["", "   ", "a.mp4\x00.txt", "a\nb.mp4", "~/a.mp4", "~root/x"])
def test_malformed_paths_are_refused(policy, raw):
    with pytest.raises(PathRefused):
        policy.check(raw)


def test_non_strings_are_refused(policy):
    with pytest.raises(PathRefused, match="must be a string"):
        policy.check(["a.mp4"])  # type: ignore[arg-type]


def test_folders_fifos_and_missing_files(policy, tree):
    with pytest.raises(PathRefused, match="a folder"):
        policy.check("sub")
    os.mkfifo(tree["root"] / "pipe.mp4")
    with pytest.raises(PathRefused, match="not a regular file"):
        policy.check("pipe.mp4")
    with pytest.raises(PathRefused, match="no such file"):
        policy.check("missing.mp4")


def test_refusals_are_viddiff_errors_with_one_line(policy):
    with pytest.raises(VidDiffError) as info:
        policy.check("../x.mp4")
    assert "\n" not in str(info.value)


def test_several_roots_and_env(tree, tmp_path, monkeypatch):
    other = tmp_path / "more"
    other.mkdir()
    (other / "c.mp4").write_bytes(b"c")
    env = {"VIDDIFF_ALLOWED_DIRS": os.pathsep.join([str(tree["root"]), str(other), ""]),
           "VIDDIFF_ALLOW_URLS": "yes"}
    policy = PathPolicy.from_env(env)
    assert policy.roots == (tree["root"].resolve(), other.resolve())
    assert policy.allow_urls
    assert policy.check(str(other / "c.mp4")).endswith("c.mp4")
    assert policy.check("a.mp4").endswith("a.mp4")  # relative to the first root
    assert "allowed folders" in policy.describe()


def test_default_is_the_working_directory(tree, monkeypatch):
    monkeypatch.chdir(tree["root"])
    policy = PathPolicy.from_env({})
    assert policy.roots == (tree["root"].resolve(),) and not policy.allow_urls
    assert policy.check("a.mp4").endswith("a.mp4")
    with pytest.raises(PathRefused):
        policy.check(str(tree["outside"] / "secret.mp4"))


def test_a_symlinked_root_accepts_paths_through_its_link(tmp_path, tree):
    link = tmp_path / "link-to-videos"
    link.symlink_to(tree["root"], target_is_directory=True)
    policy = PathPolicy.from_dirs([link])
    assert policy.check(str(link / "a.mp4")) == str(tree["root"].resolve() / "a.mp4")


def test_missing_allowed_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        PathPolicy.from_dirs([tmp_path / "nope"])
