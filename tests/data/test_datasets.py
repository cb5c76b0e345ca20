"""fastmf.datasets: MovieLens by name, from disk or from a loopback test server.

No test reaches the internet. Downloads come from an HTTP server on 127.0.0.1
started here, serving archives built in the test; every call that may download
passes that server's url. The per-user cache is pointed into tmp_path in every
test, and proxies are switched off so that urllib talks to the server directly.
"""

import hashlib
import http.server
import os
import re
import threading
import zipfile

import pytest

import fastmf.data
import fastmf.datasets
from fastmf.data import Ratings
from fastmf.datasets import (
    MOVIELENS,
    DownloadError,
    dataset_path,
    list_datasets,
    load_movielens,
)

NAMES = [
    "ml-100k",
    "ml-1m",
    "ml-10m",
    "ml-20m",
    "ml-25m",
    "ml-32m",
    "ml-latest-small",
    "ml-latest",
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Keep the real home cache untouched and route no request through a proxy."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for variable in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


# -- the loopback server ------------------------------------------------------------


class _Server:
    """An HTTP server on 127.0.0.1 that serves configured bodies and counts hits.

    ``routes`` maps a path to ``(status, body, mode)``; mode ``"full"`` sends the
    body, ``"truncated"`` promises all of it but sends half, ``"drop"`` closes
    the connection without answering.
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                status, body, mode = server.routes.get(self.path, (404, b"", "full"))
                if mode == "drop":
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body if mode == "full" else body[: len(body) // 2])

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def serve(self, path, body, status=200, mode="full"):
        self.routes[path] = (status, body, mode)
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    running = _Server()
    yield running
    running.close()


def _zip(path, members):
    """Write a zip archive of ``members`` (name -> bytes) and return its bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path.read_bytes()


@pytest.fixture(scope="module")
def ml100k_zip(data_file, tmp_path_factory):
    """ml-100k.zip laid out like the official archive, from the real u.data."""
    folder = data_file("ml-100k/u.data").parent
    members = {
        "ml-100k/u.data": (folder / "u.data").read_bytes(),
        "ml-100k/README": (folder / "README").read_bytes(),
        "ml-100k/u.item": (folder / "u.item").read_bytes(),
    }
    return _zip(tmp_path_factory.mktemp("archive") / "ml-100k.zip", members)


@pytest.fixture(scope="module")
def shared_data(data_file):
    """The shared data folder (read-only for these tests)."""
    data_file("ml-latest-small/ratings.csv")
    return data_file("ml-100k/u.data").parent.parent


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- the registry -------------------------------------------------------------------


def test_list_datasets_names_every_movielens_set():
    assert list_datasets() == NAMES
    assert list(MOVIELENS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_registry_urls_are_the_official_ones(name):
    entry = MOVIELENS[name]

    assert entry.url == f"https://files.grouplens.org/datasets/movielens/{name}.zip"
    assert entry.archive == f"{name}.zip"
    assert entry.sha256 is None or (
        len(entry.sha256) == 64 and entry.sha256 == entry.sha256.lower()
    )


def test_only_ml_10m_lacks_a_checksum():
    assert [name for name in NAMES if MOVIELENS[name].sha256 is None] == ["ml-10m"]


def test_unknown_name_is_refused_with_the_known_names(tmp_path):
    with pytest.raises(ValueError, match=r"name must be one of 'ml-100k'.*'ml-1M'"):
        load_movielens("ml-1M", data_dir=tmp_path)
    with pytest.raises(ValueError, match="name must be one of"):
        dataset_path(100, data_dir=tmp_path)


# -- finding files on disk ----------------------------------------------------------


def _write_ratings(folder, relative, text):
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_shared_data_layout_is_found_and_nothing_is_written(shared_data, server):
    before = {p: p.stat().st_mtime_ns for p in shared_data.rglob("*")}
    url = server.serve("/never.zip", b"")

    ml100k = load_movielens(
        "ml-100k", data_dir=shared_data, download=True, url=url, checksum="0" * 64
    )
    small = load_movielens("ml-latest-small", data_dir=shared_data)

    assert dataset_path("ml-100k", shared_data) == shared_data / "ml-100k" / "u.data"
    assert (ml100k.n_ratings, ml100k.n_users, ml100k.n_items) == (100_000, 943, 1_682)
    assert (small.n_ratings, small.n_users, small.n_items) == (100_836, 610, 9_724)
    assert server.requests == []
    assert {p: p.stat().st_mtime_ns for p in shared_data.rglob("*")} == before


def test_data_dir_parameter_beats_the_environment(tmp_path, monkeypatch):
    _write_ratings(tmp_path / "env", "ml-100k/u.data", "1\t1\t5\t0\n")
    _write_ratings(tmp_path / "arg", "ml-100k/u.data", "1\t1\t5\t0\n2\t2\t4\t0\n")
    monkeypatch.setenv("FASTMF_DATA_DIR", str(tmp_path / "env"))

    assert load_movielens("ml-100k").n_ratings == 1
    assert load_movielens("ml-100k", data_dir=tmp_path / "arg").n_ratings == 2
    assert dataset_path("ml-100k") == tmp_path / "env" / "ml-100k" / "u.data"


def test_default_is_the_xdg_cache_then_home_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("FASTMF_DATA_DIR", raising=False)
    expected = tmp_path / "xdg-cache" / "fastmf" / "ml-1m" / "ratings.dat"
    assert dataset_path("ml-1m") == expected

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = tmp_path / "home" / ".cache" / "fastmf" / "ml-1m" / "ratings.dat"
    assert dataset_path("ml-1m") == home

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, per XDG
    assert dataset_path("ml-1m") == home


def test_unpacked_official_archive_layout_is_found(tmp_path):
    path = _write_ratings(tmp_path, "ml-10M100K/ratings.dat", "1::122::5::838985046\n")

    ratings = load_movielens("ml-10m", data_dir=tmp_path)

    assert dataset_path("ml-10m", tmp_path) == path
    assert ratings.n_ratings == 1 and ratings.values[0] == 5.0


@pytest.mark.parametrize(
    ("name", "relative", "text", "value"),
    [
        ("ml-1m", "ml-1m/ratings.dat", "1::1193::5::978300760\n", 5.0),
        (
            "ml-20m",
            "ml-20m/ratings.csv",
            "userId,movieId,rating,timestamp\n1,2,3.5,0\n",
            3.5,
        ),
        (
            "ml-32m",
            "ml-32m/ratings.csv",
            "userId,movieId,rating,timestamp\n1,2,0.5,0\n",
            0.5,
        ),
    ],
)
def test_each_layout_is_read_with_its_preset(tmp_path, name, relative, text, value):
    _write_ratings(tmp_path, relative, text)

    ratings = load_movielens(name, data_dir=tmp_path)

    assert ratings.values.tolist() == [value]


def test_missing_data_names_the_folder_and_how_to_download(tmp_path, server):
    empty = tmp_path / "empty"
    empty.mkdir()
    url = server.serve("/ml-100k.zip", b"unused")

    with pytest.raises(FileNotFoundError) as caught:
        load_movielens("ml-100k", data_dir=empty, url=url)

    message = str(caught.value)
    assert str(empty / "ml-100k" / "u.data") in message
    assert "download=True" in message and url in message
    assert server.requests == [] and _files(empty) == []


def test_missing_data_message_names_the_official_url(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"files.grouplens.org.*ml-1m.zip"):
        load_movielens("ml-1m", data_dir=tmp_path)
    assert _files(tmp_path) == []  # nothing created, not even the cache folder


# -- downloading --------------------------------------------------------------------


def test_download_fetches_verifies_caches_and_then_stays_local(
    tmp_path, server, ml100k_zip
):
    url = server.serve("/ml-100k.zip", ml100k_zip)
    cache = tmp_path / "cache"

    first = load_movielens(
        "ml-100k", data_dir=cache, download=True, checksum=_sha256(ml100k_zip), url=url
    )
    second = load_movielens(
        "ml-100k", data_dir=cache, download=True, checksum=_sha256(ml100k_zip), url=url
    )

    assert (first.n_ratings, first.n_users, first.n_items) == (100_000, 943, 1_682)
    assert second.n_ratings == 100_000
    assert server.requests == ["/ml-100k.zip"]  # the second call stayed local
    # Only the ratings file and the README (licence), no archive, no temp files.
    assert _files(cache) == ["ml-100k", "ml-100k/README", "ml-100k/u.data"]


def test_download_into_an_existing_folder_keeps_its_files(tmp_path, server, ml100k_zip):
    url = server.serve("/ml-100k.zip", ml100k_zip)
    _write_ratings(tmp_path, "ml-100k/README", "mine")
    _write_ratings(tmp_path, "ml-100k/notes.txt", "mine")

    ratings = load_movielens(
        "ml-100k", tmp_path, download=True, checksum=_sha256(ml100k_zip), url=url
    )

    assert ratings.n_ratings == 100_000
    assert (tmp_path / "ml-100k" / "README").read_text() == "mine"
    assert _files(tmp_path) == [
        "ml-100k",
        "ml-100k/README",
        "ml-100k/notes.txt",
        "ml-100k/u.data",
    ]


def test_download_uses_the_registry_checksum_by_default(tmp_path, server, ml100k_zip):
    # The test archive is not the official one, so the official SHA-256 refuses it.
    url = server.serve("/ml-100k.zip", ml100k_zip)

    with pytest.raises(DownloadError, match=MOVIELENS["ml-100k"].sha256):
        load_movielens("ml-100k", data_dir=tmp_path, download=True, url=url)
    assert _files(tmp_path) == []


def test_wrong_checksum_raises_and_leaves_nothing(tmp_path, server, ml100k_zip):
    url = server.serve("/ml-100k.zip", ml100k_zip)
    wrong = "ab" * 32

    with pytest.raises(DownloadError, match="does not match its SHA-256") as caught:
        load_movielens("ml-100k", tmp_path, download=True, checksum=wrong, url=url)

    assert caught.value.url == url
    assert f"expected {wrong}, got {_sha256(ml100k_zip)}" in str(caught.value)
    assert _files(tmp_path) == []


def test_checksum_comparison_ignores_case(tmp_path, server, ml100k_zip):
    url = server.serve("/ml-100k.zip", ml100k_zip)
    upper = _sha256(ml100k_zip).upper()

    ratings = load_movielens("ml-100k", tmp_path, True, checksum=upper, url=url)

    assert ratings.n_ratings == 100_000


def test_rolling_release_mismatch_explains_how_to_accept_a_new_one(
    tmp_path, server, ml100k_zip
):
    url = server.serve("/ml-latest-small.zip", ml100k_zip)

    with pytest.raises(DownloadError, match=r"rolling release.*checksum="):
        load_movielens("ml-latest-small", tmp_path, download=True, url=url)
    assert _files(tmp_path) == []


def test_http_404_raises_clearly(tmp_path, server):
    url = server.serve("/ml-100k.zip", b"not here", status=404)

    with pytest.raises(DownloadError, match=r"HTTP 404"):
        load_movielens("ml-100k", tmp_path, True, checksum="0" * 64, url=url)
    assert _files(tmp_path) == []


def test_truncated_body_raises_clearly(tmp_path, server, ml100k_zip):
    url = server.serve("/ml-100k.zip", ml100k_zip, mode="truncated")
    half, full = len(ml100k_zip) // 2, len(ml100k_zip)

    with pytest.raises(
        DownloadError, match=f"cut short: received {half:,} of {full:,}"
    ):
        load_movielens("ml-100k", tmp_path, True, checksum=_sha256(ml100k_zip), url=url)
    assert _files(tmp_path) == []


def test_dropped_connection_raises_clearly(tmp_path, server):
    url = server.serve("/ml-100k.zip", b"", mode="drop")

    with pytest.raises(DownloadError, match=r"downloading .* failed"):
        load_movielens("ml-100k", tmp_path, True, checksum="0" * 64, url=url)
    assert _files(tmp_path) == []


def test_not_a_zip_is_refused(tmp_path, server):
    body = b"<html>a login page</html>"
    url = server.serve("/ml-100k.zip", body)

    with pytest.raises(DownloadError, match="not a zip archive"):
        load_movielens("ml-100k", tmp_path, True, checksum=_sha256(body), url=url)
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    "evil", ["../evil", "ml-100k/../../evil", "/tmp/evil", "C:/evil", "..\\evil"]
)
def test_archive_with_an_escaping_member_is_refused(tmp_path, server, evil):
    body = _zip(
        tmp_path / "evil.zip",
        {"ml-100k/u.data": b"1\t1\t5\t0\n", evil: b"owned"},
    )
    url = server.serve("/ml-100k.zip", body)
    cache = tmp_path / "cache"

    with pytest.raises(DownloadError, match="refused: its member"):
        load_movielens("ml-100k", cache, True, checksum=_sha256(body), url=url)

    assert _files(cache) == []
    assert not (tmp_path / "evil").exists()


def test_archive_without_the_ratings_file_is_refused(tmp_path, server):
    body = _zip(tmp_path / "other.zip", {"ml-1m/ratings.dat": b"1::1::5::0\n"})
    url = server.serve("/ml-100k.zip", body)
    cache = tmp_path / "cache"

    with pytest.raises(DownloadError, match=r"has no file ml-100k/u.data"):
        load_movielens("ml-100k", cache, True, checksum=_sha256(body), url=url)
    assert _files(cache) == []


def test_unknown_checksum_refuses_before_any_request(tmp_path, server):
    url = server.serve("/ml-10m.zip", b"unused")

    with pytest.raises(ValueError, match=r"knows no SHA-256 for ml-10m.zip.*checksum="):
        load_movielens("ml-10m", tmp_path, download=True, url=url)
    assert server.requests == [] and _files(tmp_path) == []


def test_unknown_checksum_downloads_with_the_callers(tmp_path, server):
    body = _zip(tmp_path / "ml-10m.zip", {"ml-10M100K/ratings.dat": b"1::2::4.5::0\n"})
    url = server.serve("/ml-10m.zip", body)
    cache = tmp_path / "cache"

    ratings = load_movielens("ml-10m", cache, True, checksum=_sha256(body), url=url)

    assert ratings.values.tolist() == [4.5]
    assert _files(cache) == ["ml-10m", "ml-10m/ratings.dat"]
    assert dataset_path("ml-10m", cache) == cache / "ml-10m" / "ratings.dat"


# -- argument checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x.zip", "127.0.0.1/x.zip", 7]
)
def test_only_http_urls_are_accepted(tmp_path, url):
    with pytest.raises(ValueError, match="url must be an http:// or https://"):
        load_movielens("ml-100k", tmp_path, download=True, checksum="0" * 64, url=url)


@pytest.mark.parametrize("checksum", ["abc", "g" * 64, 12, "0" * 63])
def test_malformed_checksum_is_refused(tmp_path, checksum):
    with pytest.raises(ValueError, match="checksum must be the archive's SHA-256"):
        load_movielens("ml-100k", tmp_path, checksum=checksum)


@pytest.mark.parametrize("download", [1, "yes", None])
def test_download_must_be_a_bool(tmp_path, download):
    with pytest.raises(TypeError, match="download must be True or False"):
        load_movielens("ml-100k", tmp_path, download=download)


def test_data_dir_must_be_a_path():
    with pytest.raises(TypeError, match="data_dir must be a path"):
        dataset_path("ml-100k", data_dir=3)


def test_read_only_data_dir_fails_naming_the_folder(tmp_path, server, ml100k_zip):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    url = server.serve("/ml-100k.zip", ml100k_zip)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(PermissionError, match=re.escape(str(locked))):
            load_movielens(
                "ml-100k", locked / "cache", True, checksum=_sha256(ml100k_zip), url=url
            )
    finally:
        locked.chmod(0o700)
    assert server.requests == []


def test_uncreatable_data_dir_fails_naming_it_before_any_request(
    tmp_path, server, ml100k_zip
):
    url = server.serve("/ml-100k.zip", ml100k_zip)
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / "a-file" / "cache"

    with pytest.raises(OSError, match=r"cannot create the data folder .*data_dir="):
        load_movielens("ml-100k", folder, True, checksum=_sha256(ml100k_zip), url=url)
    assert server.requests == []


def test_package_alias_and_data_exports_are_the_same_functions():
    assert fastmf.data.load_movielens is fastmf.datasets.load_movielens
    assert fastmf.data.dataset_path is fastmf.datasets.dataset_path
    assert fastmf.data.list_datasets is fastmf.datasets.list_datasets
    assert load_movielens.__annotations__["return"] is Ratings
