"""Derived data kept between starts in the data dir: the router's fitted weights, the list of places abroad and the
unpacked language model. Each is computed once and read on later starts (each file's name carries a hash or a
version of what it was derived from). The bot names the dir when it starts; without one, nothing is kept."""

from pathlib import Path

_data_dir: list[Path] = []  # set once by Bot.from_settings; a list so the module needs no `global`


def keep_derived_in(data_dir: Path) -> None:
    _data_dir[:] = [data_dir]


def derived_file(name: str) -> Path | None:
    """Where a derived file of this name is kept, or None when no data dir was named."""
    return _data_dir[0] / name if _data_dir else None


def write_derived(path: Path, write) -> None:  # noqa: ANN001 - a callable that writes to the path it is given
    """Write through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)
