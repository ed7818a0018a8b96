#!/usr/bin/env python3
"""Regenerates the Unicode range tables in core/text/unicode.cpp.

Usage: python3 scripts/gen_unicode_tables.py [core/text/unicode.cpp]

Tables (inclusive code point ranges, sorted):
  kLetterRanges  -- General_Category L  (Lu Ll Lt Lm Lo)  = regex \\p{L}
  kNumberRanges  -- General_Category N  (Nd Nl No)        = regex \\p{N}
Whitespace (\\s in Oniguruma / Rust regex = the White_Space property) is a
short fixed list written by hand in unicode.cpp; this script checks it against
Python's str.isspace(), which is White_Space plus U+001C..U+001F.

The text between the BEGIN/END GENERATED markers in unicode.cpp is replaced.
"""
import sys
import unicodedata

BEGIN = "// BEGIN GENERATED (scripts/gen_unicode_tables.py)"
END = "// END GENERATED"

WHITE_SPACE = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680] + \
    list(range(0x2000, 0x200B)) + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]


def ranges(pred):
    out = []
    start = None
    for cp in range(0x110000):
        ok = pred(cp)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, 0x10FFFF))
    return out


def emit(name, rs):
    lines = [f"// {len(rs)} ranges", f"const Range {name}[] = {{"]
    row = []
    for a, b in rs:
        row.append(f"{{0x{a:X},0x{b:X}}}")
        if len(row) == 8:
            lines.append("    " + ",".join(row) + ",")
            row = []
    if row:
        lines.append("    " + ",".join(row) + ",")
    lines.append("};")
    return lines


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "core/text/unicode.cpp"
    isspace = [cp for cp in range(0x110000) if chr(cp).isspace()]
    expected = sorted(set(WHITE_SPACE) | {0x1C, 0x1D, 0x1E, 0x1F})
    if isspace != expected:
        sys.exit(f"White_Space list mismatch with str.isspace(): {[hex(c) for c in isspace]}")
    cat = [unicodedata.category(chr(cp)) for cp in range(0x110000)]
    letters = ranges(lambda cp: cat[cp][0] == "L")
    numbers = ranges(lambda cp: cat[cp][0] == "N")
    body = [BEGIN, f"// Unicode {unicodedata.unidata_version} (Python unicodedata)."]
    body += emit("kLetterRanges", letters)
    body += emit("kNumberRanges", numbers)
    body.append(END)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < 0:
        sys.exit(f"markers not found in {path}")
    text = text[:i] + "\n".join(body) + text[j + len(END):]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{path}: {len(letters)} letter ranges, {len(numbers)} number ranges")


if __name__ == "__main__":
    main()
