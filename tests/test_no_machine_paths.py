"""
No committed file names a folder of the machine it was made on (a checkout, a temporary folder, a home): results
JSON, READMEs and cards, configs, code, and the metadata inside binary files (PNG text chunks, ONNX node metadata
such as the exporter's stack traces). Such a path means nothing to a reader and tells what another machine held.
"""

import re
import subprocess
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# An absolute path into a machine's own folders: the repository's files must name paths relative to its root.
MACHINE_FOLDERS = ("work", "tmp", "home", "root", "Users", "mnt", "scratch", "private/var", "var/folders")
MACHINE_PATH = re.compile(
    rb"(?<![\w.~-])/(?:" + b"|".join(re.escape(f.encode()) for f in MACHINE_FOLDERS) + rb")/"
    rb"|\b[A-Za-z]:\\\\?Users\\"
)


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    return [ROOT / name.decode() for name in names if name and (ROOT / name.decode()).is_file()]


def png_text(data: bytes) -> bytes:
    """The text chunks of a PNG (tEXt as is, zTXt and iTXt decompressed), where tools put their metadata."""
    chunks, position = [], 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        if kind == b"tEXt":
            chunks.append(body)
        elif kind == b"zTXt":
            keyword, _, rest = body.partition(b"\0")
            chunks.append(keyword + b"\0" + zlib.decompress(rest[1:]))
        elif kind == b"iTXt":
            keyword, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, text = rest.partition(b"\0")  # translated keyword
            chunks.append(keyword + b"\0" + (zlib.decompress(text) if compressed else text))
        position += 12 + length
    return b"\n".join(chunks)


def machine_paths(path: Path) -> list[str]:
    data = path.read_bytes()
    searched = png_text(data) if data.startswith(b"\x89PNG") else data  # PNG pixels are compressed, never text
    return sorted({match.group(0).decode(errors="replace") for match in MACHINE_PATH.finditer(searched)})


def absolute(folder: str, rest: str) -> bytes:
    """A machine path spelt so that this file itself holds none."""
    return f"/{folder}/{rest}".encode()


def test_the_pattern_finds_machine_paths_and_leaves_relative_ones():
    assert MACHINE_PATH.search(b'"--authors_repo ' + absolute("tmp", 'authors_wt"'))
    assert MACHINE_PATH.search(b'File "' + absolute("work", 'main/timemae_hf/modeling_timemae.py"'))
    assert MACHINE_PATH.search(b"C:" + b"\\Users\\me\\data")
    assert not MACHINE_PATH.search(b"../shared/data/UCI HAR Dataset.zip benchmarks/runs/har_refit/tmp/x ~/tmp/")


def test_png_text_chunks_are_read_compressed_or_not():
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"tEXt", b"Software\0matplotlib")
        + chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"made in " + absolute("home", "me/plots")))
        + chunk(b"iTXt", b"Source\0\0\0\0\0python " + absolute("work", "x.py"))
    )
    assert MACHINE_PATH.findall(png_text(png)) == [absolute("home", ""), absolute("work", "")]


@pytest.mark.parametrize("path", tracked_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_committed_file_names_no_machine_path(path):
    found = machine_paths(path)
    assert not found, (
        f"{path.relative_to(ROOT)} names absolute paths of a machine ({', '.join(found)}): write paths relative to the "
        "repository root (results: benchmarks.common.launch.repository_relative), or a placeholder a reader fills in"
    )
