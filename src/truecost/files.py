"""Writing output files all or nothing (reports, sweep tables)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write` on a temporary file in `path`'s folder, flush it to disk, then rename it over
    `path` (atomic on POSIX and Windows). On any failure (a full disk, an interrupt) the temporary
    file is removed and the old `path`, if any, is left as it was.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.txt"
    >>> write_atomically(p, lambda t: t.write_text("ok")); p.read_text()
    'ok'
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if path.exists():  # keep the old file's permissions
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
