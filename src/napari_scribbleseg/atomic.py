"""Writes that leave either the old file (or folder) or the new one, never a half-written mix.

Everything is written into a hidden staging folder beside the target and then moved into place with
renames inside one directory, so an exception, a kill or a full disk midway leaves the old contents as
they were (a killed process may leave its hidden staging folder behind; nothing reads it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable


def write_file(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(staged_path)``, then move what it wrote to ``path``, replacing an older file.

    ``staged_path`` has ``path``'s file name inside a staging folder, so a writer that adds companion
    files (``.mhd`` + ``.raw``, ``.nhdr`` + data) can name them after it as usual: every file it
    writes is moved beside ``path``, the companions first and ``path`` itself last.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        write(staging / path.name)
        if not (staging / path.name).is_file():
            raise RuntimeError(f"the writer did not produce {path.name}")
        written = sorted(staging.iterdir(), key=lambda p: p.name == path.name)  # the named file last
        for item in written:
            os.replace(item, path.parent / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def replace_folder(folder: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(staging_folder)``, then swap it in for ``folder`` (which may exist) with two renames."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not folder.exists():
        staging.rename(folder)
        return folder
    old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
    folder.rename(old)  # two renames in one directory: the folder holds the old contents or the new
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder
