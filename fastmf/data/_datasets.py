"""The MovieLens rating sets by name: found on disk, or downloaded on request.

Nothing here touches the network unless the caller passes ``download=True``, and
nothing is written anywhere except by such a download, into the data folder.
A download is verified against a SHA-256 before a single byte of it is read as
an archive, and lands in the cache by one rename, so a failed or interrupted
download leaves the cache as it was.
"""

import hashlib
import http.client
import logging
import os
import re
import secrets
import shutil
import stat
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from ._ratings import Ratings
from ._readers import read_ratings

logger = logging.getLogger("fastmf")

_BASE_URL = "https://files.grouplens.org/datasets/movielens"
#: Seconds a connection or a single read may stall before the download fails.
_TIMEOUT = 60
_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# A Windows drive ("C:") at the start of an archive member's name.
_DRIVE = re.compile(r"[A-Za-z]:")


class DownloadError(OSError):
    """A download failed, was cut short, or did not match its SHA-256.

    Nothing is left behind: the partial file is deleted and the cache is
    unchanged.

    Attributes
    ----------
    url : str
    """

    def __init__(self, message, url):
        super().__init__(message)
        self.url = url


@dataclass(frozen=True)
class MovieLensArchive:
    """Where one MovieLens rating set comes from and how to read it.

    Attributes
    ----------
    name : str
        ``"ml-100k"``, ...; also the folder it is looked for and cached in.
    archive : str
        File name of the official zip archive.
    member : str
        Path of the ratings file inside the archive.
    preset : str
        The :func:`fastmf.data.read_ratings` preset of the ratings file.
    url : str
        Official GroupLens download address.
    sha256 : str or None
        SHA-256 of the archive; None where fastmf knows none, in which case a
        download needs the caller's ``checksum``.
    rolling : bool
        Whether GroupLens replaces the archive from time to time (the "latest"
        sets), so that a known checksum may go stale.
    """

    name: str
    archive: str
    member: str
    preset: str
    url: str
    sha256: str | None
    rolling: bool = False

    @property
    def filename(self):
        """Base name of the ratings file (``u.data``, ``ratings.csv``, ...)."""
        return PurePosixPath(self.member).name


def _entry(name, member, preset, sha256, rolling=False):
    archive = f"{name}.zip"
    return MovieLensArchive(
        name, archive, member, preset, f"{_BASE_URL}/{archive}", sha256, rolling
    )


# Checksums: the SHA-256 of the official archive as published by TensorFlow
# Datasets (tensorflow_datasets/url_checksums/movielens.txt) and, for every entry,
# the same value pinned independently in several other public projects. ml-32m
# and ml-latest are not in that file; their values are the ones pinned by
# several unrelated projects that downloaded the archive themselves. For ml-10m
# no SHA-256 was found anywhere (GroupLens publishes only MD5 sums), so none is
# stored and a download of it needs the caller's checksum. Never add a value
# that was not computed from, or published for, the official archive.
_REGISTRY = (
    _entry(
        "ml-100k",
        "ml-100k/u.data",
        "ml-100k",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
    ),
    _entry(
        "ml-1m",
        "ml-1m/ratings.dat",
        "ml-1m",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
    ),
    # The 10M archive unpacks into a folder named after its 100K tags.
    _entry("ml-10m", "ml-10M100K/ratings.dat", "ml-10m", None),
    _entry(
        "ml-20m",
        "ml-20m/ratings.csv",
        "ml-20m",
        "96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
    ),
    _entry(
        "ml-25m",
        "ml-25m/ratings.csv",
        "ml-latest",
        "8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
    ),
    _entry(
        "ml-32m",
        "ml-32m/ratings.csv",
        "ml-latest",
        "e4a68655d7386b8f95f2f2424b2ff975dfdd15ffd59e0d864a14dca43e99d6ee",
    ),
    # The September 2018 release, whose ratings.csv is the one in ../shared/data.
    _entry(
        "ml-latest-small",
        "ml-latest-small/ratings.csv",
        "ml-latest",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        rolling=True,
    ),
    # The release whose README is dated July 2023.
    _entry(
        "ml-latest",
        "ml-latest/ratings.csv",
        "ml-latest",
        "66a9e518c747d76b241d9a859b001a2619d3ed1672ceef599eb50daf73a7b4a3",
        rolling=True,
    ),
)

#: The MovieLens sets fastmf knows, by name (read-only).
MOVIELENS = MappingProxyType({entry.name: entry for entry in _REGISTRY})


# -- public API ---------------------------------------------------------------------


def list_datasets() -> list[str]:
    """Names of the rating sets :func:`load_movielens` knows.

    The fixed releases come first, smallest first, then the rolling "latest" ones.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from fastmf.datasets import list_datasets
    >>> list_datasets()[:3]
    ['ml-100k', 'ml-1m', 'ml-10m']
    """
    return list(MOVIELENS)


def dataset_path(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the ratings file of ``name``: where it is, else where it would go.

    Looks in the data folder (``data_dir``, else ``$FASTMF_DATA_DIR``, else the
    per-user cache ``$XDG_CACHE_HOME/fastmf`` or ``~/.cache/fastmf``) for the
    ratings file in each layout that :func:`load_movielens` accepts. Reads and
    writes nothing.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.
    data_dir : str or os.PathLike, optional

    Returns
    -------
    pathlib.Path
        The first layout's file that exists, else ``<data folder>/<name>/<file>``,
        where a download puts it.

    Examples
    --------
    >>> from fastmf.datasets import dataset_path
    >>> dataset_path("ml-100k", "/data").as_posix()
    '/data/ml-100k/u.data'
    """
    entry = _check_name(name)
    folder = _resolve_data_dir(data_dir)
    found = _find(entry, folder)

    return found if found is not None else _cached_path(entry, folder)


def load_movielens(
    name: str,
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    checksum: str | None = None,
    url: str | None = None,
) -> Ratings:
    """Load a MovieLens rating set by name, downloading it only when asked.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`: ``"ml-100k"``, ``"ml-1m"``, ``"ml-10m"``,
        ``"ml-20m"``, ``"ml-25m"``, ``"ml-32m"``, ``"ml-latest-small"`` or
        ``"ml-latest"``.
    data_dir : str or os.PathLike, optional
        Folder holding the rating sets. By default ``$FASTMF_DATA_DIR``, else
        ``$XDG_CACHE_HOME/fastmf``, else ``~/.cache/fastmf``. The ratings file is
        looked for as ``<data_dir>/<name>/<file>`` (for example
        ``ml-100k/u.data``) and where the official archive unpacks it (for
        ``ml-10m``: ``ml-10M100K/ratings.dat``).
    download : bool, default False
        When the ratings are not on disk, fetch the official archive over HTTP(S),
        check its SHA-256, and keep the ratings file in
        ``<data_dir>/<name>/``. Without it, missing data is an error and nothing
        goes over the network.
    checksum : str, optional
        Expected SHA-256 of the archive (64 hex digits), overriding the one
        fastmf knows; required to download a set for which fastmf knows none
        (``ml-10m``). Files already on disk are not checked.
    url : str, optional
        Where to download from (``http://`` or ``https://``), for a mirror; by
        default the GroupLens address. The archive must still match the
        checksum.

    Returns
    -------
    Ratings
        Raw user and item ids are the MovieLens ids.

    Raises
    ------
    FileNotFoundError
        When the ratings are not on disk and ``download`` is False; the message
        names the folder, the paths tried and how to download.
    DownloadError
        When a download fails (HTTP error, connection lost, body cut short),
        its SHA-256 does not match, or the archive is unsafe or lacks the
        ratings file. Nothing is left behind.
    ValueError
        For an unknown ``name``; a malformed ``checksum`` or ``url``; or a
        download of a set with no known checksum and none given.
    TypeError
        For a ``download`` that is not True or False, or a ``data_dir`` that is
        not a path.

    Notes
    -----
    MovieLens data is licensed by GroupLens for research use; read the README
    kept beside the ratings file, and do not redistribute the data.

    Examples
    --------
    >>> from fastmf.datasets import load_movielens
    >>> ratings = load_movielens("ml-100k", download=True)  # doctest: +SKIP
    >>> ratings  # doctest: +SKIP
    Ratings(n_ratings=100,000, n_users=943, n_items=1,682)
    """
    entry = _check_name(name)
    download = _check_download(download)
    checksum = _check_checksum(checksum)
    url = _check_url(url)
    folder = _resolve_data_dir(data_dir)

    path = _find(entry, folder)
    if path is None:
        if not download:
            raise FileNotFoundError(_missing_message(entry, folder, url))
        path = _download(entry, folder, url or entry.url, checksum or entry.sha256)

    return read_ratings(path, preset=entry.preset)


# -- arguments and places -----------------------------------------------------------


def _check_name(name):
    if not isinstance(name, str) or name not in MOVIELENS:
        listed = ", ".join(repr(known) for known in MOVIELENS)
        raise ValueError(f"name must be one of {listed}; got {name!r}.")
    return MOVIELENS[name]


def _check_download(download):
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False; got {download!r}.")
    return download


def _check_checksum(checksum):
    if checksum is None:
        return None
    if not isinstance(checksum, str) or _SHA256.fullmatch(checksum) is None:
        raise ValueError(
            "checksum must be the archive's SHA-256 as 64 hexadecimal digits; "
            f"got {checksum!r}."
        )
    return checksum.lower()


def _check_url(url):
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"url must be an http:// or https:// address of the archive; got {url!r}."
        )
    return url


def _resolve_data_dir(data_dir):
    """The data folder: the argument, else $FASTMF_DATA_DIR, else the user cache."""
    if data_dir is not None:
        if not isinstance(data_dir, str | os.PathLike):
            raise TypeError(
                f"data_dir must be a path (str or os.PathLike); got {data_dir!r}."
            )
        return Path(data_dir).expanduser()
    configured = os.environ.get("FASTMF_DATA_DIR")
    if configured:
        return Path(configured).expanduser()

    # The XDG base-directory rules say to ignore a relative $XDG_CACHE_HOME.
    cache = os.environ.get("XDG_CACHE_HOME")
    root = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return root / "fastmf"


def _candidates(entry, folder):
    """Paths the ratings file may have in ``folder``, in the order they are tried.

    ``<name>/<file>`` is the layout of ../shared/data and of fastmf's own cache;
    the archive's member path is where unzipping the official archive puts it.
    """
    paths = [_cached_path(entry, folder), folder.joinpath(*entry.member.split("/"))]
    return list(dict.fromkeys(paths))


def _cached_path(entry, folder):
    return folder / entry.name / entry.filename


def _find(entry, folder):
    for path in _candidates(entry, folder):
        if path.is_file():
            return path
    return None


def _missing_message(entry, folder, url):
    tried = " or ".join(str(path) for path in _candidates(entry, folder))
    source = url or entry.url
    message = (
        f"MovieLens {entry.name!r} is not in {folder}: looked for {tried}. "
        f"To download it from {source} into {folder / entry.name}, call "
        f"load_movielens({entry.name!r}, download=True)"
    )
    if entry.sha256 is None:
        message += " with checksum='<SHA-256 of the archive>' (fastmf knows none)"
    return message + (
        "; or unpack the archive there yourself, or pass data_dir= (or set "
        "FASTMF_DATA_DIR) to the folder that holds it."
    )


# -- downloading --------------------------------------------------------------------


def _download(entry, folder, url, sha256):
    """Fetch, verify and cache ``entry``'s ratings; return the cached file's path."""
    if sha256 is None:
        raise ValueError(
            f"fastmf knows no SHA-256 for {entry.archive}, so it does not download "
            "it unverified; pass the archive's SHA-256 as checksum='<64 hex "
            "digits>' (for instance of a copy you checked against the MD5 that "
            "GroupLens publishes beside it)."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise type(error)(
            f"cannot create the data folder {folder} to download {entry.name} "
            f"into ({error.strerror or error}); pass data_dir= a writable folder."
        ) from error

    archive = folder / f".{entry.archive}.{secrets.token_hex(4)}.part"
    try:
        _fetch(url, archive, sha256, entry)
        return _extract(archive, entry, folder, url)
    finally:
        archive.unlink(missing_ok=True)


def _fetch(url, destination, sha256, entry):
    """Stream ``url`` into ``destination``; raise DownloadError unless it verifies.

    Only network failures become DownloadError; a failure to write the file
    (disk full, permissions) is raised as the OSError it is.
    """
    logger.info("downloading %s from %s", entry.name, url)
    request = urllib.request.Request(url, headers={"User-Agent": "fastmf"})
    digest = hashlib.sha256()
    received = 0
    with open(destination, "xb") as handle, _open_url(request, url) as response:
        expected = _content_length(response)
        while chunk := _read(response, url):
            handle.write(chunk)
            digest.update(chunk)
            received += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())

    # http.client returns a short body without complaint when the server closes
    # early, so the length is checked here.
    if expected is not None and received != expected:
        raise DownloadError(
            f"downloading {url} was cut short: received {received:,} of "
            f"{expected:,} bytes. Try again.",
            url,
        )
    _verify(digest.hexdigest(), sha256, url, entry)


def _open_url(request, url):
    try:
        return urllib.request.urlopen(request, timeout=_TIMEOUT)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"downloading {url} failed: the server answered HTTP {error.code} "
            f"{error.reason}.",
            url,
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise _network_error(url, error) from error


def _read(response, url):
    try:
        return response.read(_CHUNK)
    except (http.client.HTTPException, OSError) as error:
        raise _network_error(url, error) from error


def _network_error(url, error):
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return DownloadError(
        f"downloading {url} failed: {reason}. Check the address and the "
        "connection, then try again.",
        url,
    )


def _content_length(response):
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _verify(actual, expected, url, entry):
    if actual == expected:
        logger.info("%s matches its SHA-256", entry.archive)
        return
    message = (
        f"the archive downloaded from {url} does not match its SHA-256: expected "
        f"{expected}, got {actual}. It was deleted. The download may be damaged "
        "or not the official archive; try again."
    )
    if entry.rolling:
        message += (
            f" {entry.name} is a rolling release: if GroupLens has published a new "
            "one, check it and pass its SHA-256 as checksum=."
        )
    raise DownloadError(message, url)


def _extract(archive, entry, folder, url):
    """Unpack the ratings file (and README) of a verified archive into the cache."""
    staging = folder / f".{entry.name}.{secrets.token_hex(4)}.tmp"
    staging.mkdir()
    try:
        with _open_zip(archive, url) as bundle:
            members = _safe_members(bundle, entry, url)
            for info in members:
                target = staging / PurePosixPath(info.filename).name
                with bundle.open(info) as source, open(target, "xb") as handle:
                    shutil.copyfileobj(source, handle, _CHUNK)
                    handle.flush()
                    os.fsync(handle.fileno())
        _install(staging, folder / entry.name)
    except zipfile.BadZipFile as error:
        raise DownloadError(
            f"the archive from {url} is damaged: {error}.", url
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    return _cached_path(entry, folder)


def _open_zip(archive, url):
    try:
        return zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise DownloadError(
            f"the file at {url} is not a zip archive; check the address.", url
        ) from None


def _safe_members(bundle, entry, url):
    """The members to extract: the ratings file and any README beside it.

    The whole archive is refused when any member's name is absolute, has a
    drive or a ``..`` part: such an archive is not the official one, and nothing
    of it is trusted.
    """
    infos = bundle.infolist()
    for info in infos:
        if _unsafe(info.filename):
            raise DownloadError(
                f"the archive from {url} is refused: its member "
                f"{info.filename!r} would be written outside the data folder.",
                url,
            )

    by_name = {info.filename: info for info in infos}
    ratings = by_name.get(entry.member)
    if ratings is None or ratings.is_dir() or _is_link(ratings):
        raise DownloadError(
            f"the archive from {url} has no file {entry.member}; it is not the "
            f"{entry.name} archive.",
            url,
        )
    parent = PurePosixPath(entry.member).parent
    readmes = [
        info
        for info in infos
        if PurePosixPath(info.filename).parent == parent
        and PurePosixPath(info.filename).name.upper().startswith("README")
        and not info.is_dir()
        and not _is_link(info)
    ]
    return [ratings, *readmes]


def _unsafe(member):
    name = member.replace("\\", "/")
    parts = PurePosixPath(name).parts
    return (
        name.startswith("/")
        or "\x00" in name
        or ".." in parts
        or (bool(parts) and _DRIVE.match(parts[0]) is not None)
    )


def _is_link(info):
    return stat.S_ISLNK(info.external_attr >> 16)


def _install(staging, target):
    """Move the staged folder to ``target`` in one rename.

    When ``target`` already exists (a folder without the ratings file, or one
    another process has just filled), each staged file is renamed into it
    instead, never replacing a file already there.
    """
    try:
        os.rename(staging, target)
        return
    except OSError:
        if not target.is_dir():
            raise
    for staged in staging.iterdir():
        if not (target / staged.name).exists():
            os.replace(staged, target / staged.name)
