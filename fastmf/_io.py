"""Writing files so that a crash never leaves a half-written file behind."""

import os
import secrets


def check_writable(path):
    """Fail early, naming ``path``, when a file cannot be written there."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder; give a file name to write.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"cannot write {path}: the folder {folder} does not exist."
        )
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"cannot write {path}: the folder {folder} is not writable."
        )
    return path


def atomic_write(path, write):
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it.

    The temporary file gets the usual permissions (0666 less the umask), is
    flushed to disk before the rename, and is removed if anything fails, so
    ``path`` holds either its old content or the complete new one.
    """
    path = check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(
        folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp"
    )
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
