#!/usr/bin/python3
"""Generates src/tokenizer/unicode_tables.cpp: the Unicode data the WordPiece tokenizer needs.

Hugging Face's BertTokenizer is Python, so the tables come from Python itself: unicodedata for the
General_Category classes, canonical decompositions and combining classes, and str.lower() for the
lowercase mapping (and for which characters are Cased and Case_Ignorable, the two properties behind
str.lower()'s final-sigma rule). Run it with the system interpreter and commit the result:

    /usr/bin/python3 tools/gen_unicode_tables.py > src/tokenizer/unicode_tables.cpp

The layout of the tables is declared in src/tokenizer/unicode_tables.hpp.
"""

import sys
import unicodedata

MAX_CODE_POINT = 0x10FFFF
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3  # decomposed by formula in unicode.cpp, not by table

# Flag bits; keep in sync with CharFlag in unicode_tables.hpp.
PUNCTUATION = 1
CONTROL = 2
WHITESPACE = 4
NONSPACING_MARK = 8
CASED = 16
CASE_IGNORABLE = 32


def code_points():
    for cp in range(MAX_CODE_POINT + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates never survive UTF-8 validation
        yield cp


def is_cased(c):
    # Cased = Lowercase | Uppercase | Lt (UAX #44); Python's islower/isupper test the first two.
    return c.islower() or c.isupper() or unicodedata.category(c) == "Lt"


def is_case_ignorable(c):
    # Python's str.lower() lowers a capital sigma to the final form when a cased letter precedes it,
    # skipping case-ignorable characters in between. Asking str.lower() itself keeps this table and
    # Python's behaviour identical without another data file.
    probe = ("1" + c + "\u03a3") if is_cased(c) else ("A" + c + "\u03a3")
    final = probe.lower()[-1] == "\u03c2"
    return not final if is_cased(c) else final


def flags_of(cp):
    c = chr(cp)
    category = unicodedata.category(c)
    flags = 0
    # BertTokenizer's _is_punctuation: every ASCII non-alphanumeric graphic character, and P*.
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or category[0] == "P":
        flags |= PUNCTUATION
    # _is_control: every C* category (Cc, Cf, Co, Cn) except tab, newline and carriage return.
    if category[0] == "C" and c not in "\t\n\r":
        flags |= CONTROL
    # _is_whitespace (Zs and \t \n \r) joined with str.split()'s whitespace (adds U+2028, U+2029 and
    # controls such as \v, which cleaning removes first), so one flag serves cleaning and splitting.
    if category == "Zs" or c in " \t\n\r" or c.isspace():
        flags |= WHITESPACE
    if category == "Mn":
        flags |= NONSPACING_MARK
    if is_cased(c):
        flags |= CASED
    if is_case_ignorable(c):
        flags |= CASE_IGNORABLE
    return flags


def runs(values):
    """(first, last, value) for maximal runs of equal nonzero values over all code points."""
    result = []
    for cp, value in values:
        if value and result and result[-1][1] == cp - 1 and result[-1][2] == value:
            result[-1][1] = cp
        elif value:
            result.append([cp, cp, value])
    return result


def lowercase_ranges():
    """Simple lowercase mappings as (first, last, delta, stride) runs; U+0130 is handled in code."""
    mapped = []
    for cp in code_points():
        lower = chr(cp).lower()
        if len(lower) != 1:
            assert cp == 0x130, f"unexpected multi-character lowercase U+{cp:04X}"
            continue
        if ord(lower) != cp:
            mapped.append((cp, ord(lower) - cp))
    result = []
    for cp, delta in mapped:
        if result:
            first, last, run_delta, stride = result[-1]
            if run_delta == delta and (
                    (stride == 0 and cp - last in (1, 2)) or (stride and cp - last == stride)):
                result[-1] = [first, cp, delta, cp - first if stride == 0 else stride]
                continue
        result.append([cp, cp, delta, 0])
    return [(first, last, delta, stride or 1) for first, last, delta, stride in result]


def decompositions():
    entries, data = [], []
    for cp in code_points():
        if HANGUL_FIRST <= cp <= HANGUL_LAST:
            continue
        nfd = unicodedata.normalize("NFD", chr(cp))
        if nfd != chr(cp):
            entries.append((cp, len(data), len(nfd)))
            data.extend(ord(c) for c in nfd)
    assert len(data) < 1 << 16 and max(n for _, _, n in entries) < 256
    return entries, data


def emit_array(out, declaration, items, per_line):
    out.write(f"{declaration} = {{\n")
    for i in range(0, len(items), per_line):
        out.write("    " + " ".join(item + "," for item in items[i:i + per_line]) + "\n")
    out.write("};\n\n")


def main():
    out = sys.stdout
    all_flags = [(cp, flags_of(cp)) for cp in code_points()]
    flag_runs = runs([(cp, f) for cp, f in all_flags if cp >= 128])
    ascii_flags = [f for cp, f in all_flags[:128]]
    combining = runs((cp, unicodedata.combining(chr(cp))) for cp in code_points())
    lower = lowercase_ranges()
    entries, data = decompositions()

    python = sys.version.split()[0]
    out.write(f"""// Generated by tools/gen_unicode_tables.py from Python {python}'s Unicode \
{unicodedata.unidata_version} data. Do not edit.
// clang-format off
#include "tokenizer/unicode_tables.hpp"

namespace vecformer::detail::unicode_tables {{

namespace {{

""")
    emit_array(out, "constexpr uint8_t kAsciiFlags[128]", [str(f) for f in ascii_flags], 16)
    emit_array(out, f"constexpr FlagRange kFlagRanges[{len(flag_runs)}]",
               [f"{{0x{a:X}, 0x{b:X}, {f}}}" for a, b, f in flag_runs], 4)
    emit_array(out, f"constexpr LowercaseRange kLowercaseRanges[{len(lower)}]",
               [f"{{0x{a:X}, 0x{b:X}, {d}, {s}}}" for a, b, d, s in lower], 4)
    emit_array(out, f"constexpr CombiningClassRange kCombiningClassRanges[{len(combining)}]",
               [f"{{0x{a:X}, 0x{b:X}, {c}}}" for a, b, c in combining], 4)
    emit_array(out, f"constexpr Decomposition kDecompositions[{len(entries)}]",
               [f"{{0x{cp:X}, {offset}, {n}}}" for cp, offset, n in entries], 4)
    emit_array(out, f"constexpr char32_t kDecompositionData[{len(data)}]",
               [f"0x{cp:X}" for cp in data], 8)
    out.write(f"""}}  // namespace

const char* const kUnicodeVersion = "{unicodedata.unidata_version}";

std::span<const uint8_t, 128> ascii_flags() {{ return kAsciiFlags; }}
std::span<const FlagRange> flag_ranges() {{ return kFlagRanges; }}
std::span<const LowercaseRange> lowercase_ranges() {{ return kLowercaseRanges; }}
std::span<const CombiningClassRange> combining_class_ranges() {{ return kCombiningClassRanges; }}
std::span<const Decomposition> decompositions() {{ return kDecompositions; }}
std::span<const char32_t> decomposition_data() {{ return kDecompositionData; }}

}}  // namespace vecformer::detail::unicode_tables
""")


if __name__ == "__main__":
    main()
