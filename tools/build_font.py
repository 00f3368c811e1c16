"""Build the bundled Chinese font, ``src/ruralgov/fonts/RuralGovSansSC-Regular.{ttf,woff2}``.

Figures and pages in Chinese must not depend on a font the machine happens to have, and the
project ships only free fonts. The source is Noto Sans SC 2.004 (Adobe and Google, SIL Open
Font License 1.1; the Reserved Font Name is "Source"), as the variable TrueType font of the
PyPI wheel ``justmytype-intl-cjk==0.1.0`` (checked by its SHA-256). It is cut down to the
characters the project needs — the 3,755 hanzi of GB2312 level 1, ASCII, CJK and full-width
punctuation, and every other character in Chinese text anywhere in the repository (found by
scanning it) — fixed at weight 400 (Regular), and renamed "RuralGov Sans SC" (a modified
font under the OFL may keep a name that is not reserved; a name of its own keeps it apart from
a full Noto Sans SC on the system). The OFL text ships beside it.

Run from the repository root, with fontTools and brotli
(``pip install -c constraints.txt fonttools brotli==1.2.1``)::

    python tools/build_font.py

A test holds the font to every character the package's Chinese text uses: after adding
text with a character outside the font, run this again.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "ruralgov" / "fonts"
FAMILY = "RuralGov Sans SC"
WHEEL = "justmytype-intl-cjk==0.1.0"
WHEEL_SHA256 = "06d9665542bfcad373716bb80583aa2d9bb2086a054fe11f706b9bd41e03f256"
MEMBER = "justmytype_intl_cjk/fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
LICENSE = "justmytype_intl_cjk/fonts/ofl/notosanssc/OFL.txt"
#: Where Chinese text may be: the package, scenarios, experiments, docs and the READMEs.
SCANNED = ("src", "scenarios", "experiments", "docs", "README.md", "README.zh.md")
SUFFIXES = {".py", ".js", ".html", ".css", ".yaml", ".yml", ".md", ".json", ".txt"}


def is_cjk(ch: str) -> bool:
    """A character of Chinese text (hanzi, CJK and full-width punctuation)."""
    o = ord(ch)
    return (0x2E80 <= o <= 0x2FDF or 0x3000 <= o <= 0x303F or 0x3400 <= o <= 0x4DBF
            or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFE30 <= o <= 0xFE4F
            or 0xFF00 <= o <= 0xFFEF)


def _files(root: Path, tops) -> list[Path]:
    """The text files git tracks under ``tops`` (untracked files do not change the font)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *tops], cwd=root, check=True,
                            capture_output=True).stdout.decode().split("\0")
    return [root / f for f in sorted(filter(None, listed))
            if Path(f).suffix in SUFFIXES and "fonts" not in Path(f).parts]


def used_characters(root: Path = ROOT) -> set[int]:
    """Every character of Chinese text in the scanned files."""
    return {ord(c) for f in _files(root, SCANNED) if f.is_file()
            for c in f.read_text(encoding="utf-8", errors="ignore") if is_cjk(c)}


def code_points(root: Path = ROOT) -> set[int]:
    """GB2312 level 1 and its symbol rows 1-9 (punctuation, numbers such as ①, Greek,
    Cyrillic, kana, pinyin, bopomofo, box drawing), ASCII and Latin-1, CJK and full-width
    punctuation, general punctuation, the minus sign and the arrows and relations of figure
    labels, and every character of Chinese text the repository uses (any other character of
    the package's text too, where the source font has it)."""
    level1 = {ord(bytes([h, lo]).decode("gb2312")) for h in range(0xB0, 0xD8)
              for lo in range(0xA1, 0xFF) if not (h == 0xD7 and lo > 0xF9)}
    for h in range(0xA1, 0xAA):  # the symbol rows
        for lo in range(0xA1, 0xFF):
            try:
                level1.add(ord(bytes([h, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    cps = level1 | set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(
        range(0x3000, 0x3040)) | set(range(0xFF01, 0xFF5F)) | set(range(0x2010, 0x2028))
    cps |= {0x2030, 0x2212, 0x2190, 0x2191, 0x2192, 0x2193, 0x2248, 0x2260, 0x2264, 0x2265}
    return cps | used_characters(root) | _package_text(root)


def _package_text(root: Path) -> set[int]:
    """Every character outside ASCII in the package's own text (labels, pages, messages)."""
    return {ord(c) for f in _files(root, ("src",)) if f.is_file()
            for c in f.read_text(encoding="utf-8", errors="ignore") if ord(c) > 0x7F}


def _rename(font, family: str) -> None:
    name = font["name"]
    ps = family.replace(" ", "") + "-Regular"
    for nid in (16, 17, 21, 22, 25):
        name.removeNames(nameID=nid)
    for nid, val in {1: family, 2: "Regular", 3: f"{ps};subset of Noto Sans SC 2.004",
                     4: family + " Regular", 6: ps}.items():
        name.removeNames(nameID=nid)
        name.setName(val, nid, 3, 1, 0x409)
        name.setName(val, nid, 1, 0, 0)


def main() -> int:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "-d", tmp, WHEEL], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if not digest.startswith(WHEEL_SHA256):
            sys.exit(f"{wheel.name}: SHA-256 {digest} is not the wheel this font was built "
                     f"from ({WHEEL_SHA256})")
        with zipfile.ZipFile(wheel) as z:
            z.extract(MEMBER, tmp)
            licence = z.read(LICENSE)
        font = TTFont(Path(tmp) / MEMBER)
        opts = subset.Options()
        opts.name_IDs, opts.name_languages = ["*"], ["*"]
        opts.notdef_outline = True  # a character outside the font shows as a box
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=sorted(code_points()))
        sub.subset(font)
        font = instancer.instantiateVariableFont(font, {"wght": 400}, updateFontNames=False)
        _rename(font, FAMILY)
        font["OS/2"].achVendID = "NONE"  # modified: no longer the vendor's font
        font.recalcTimestamp = False  # the same input gives the same bytes
        font["head"].modified = font["head"].created
        OUT.mkdir(parents=True, exist_ok=True)
        font.flavor = None
        font.save(OUT / "RuralGovSansSC-Regular.ttf")
        font.flavor = "woff2"
        font.save(OUT / "RuralGovSansSC-Regular.woff2")
        (OUT / "OFL.txt").write_bytes(licence)
    for f in sorted(OUT.glob("RuralGovSansSC*")):
        print(f"{f.relative_to(ROOT)}: {f.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
