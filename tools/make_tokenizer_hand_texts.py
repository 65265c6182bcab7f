#!/usr/bin/python3
"""Writes the hand-written tokenizer test texts, kept here with escapes because many of their characters
are invisible (ZWJ, NBSP and other spaces, control characters, combining marks, bidi marks):

    tests/tokenizer/data/texts/hand.txt          one input a line: scripts and hard cases
    tests/tokenizer/data/texts/pairs.txt         text TAB pair (the first TAB splits)
    tests/tokenizer/data/texts/invalid_utf8.txt  line 2 holds a lone continuation byte at byte 5

    /usr/bin/python3 tools/make_tokenizer_hand_texts.py

No line may hold '\\n' (the line separator); '\\r', '\\v', '\\f', U+0085, U+2028 and U+2029 are text.
After a change, regenerate the reference (tools/README.md).
"""
# -*- coding: utf-8 -*-
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXTS = os.path.join(REPO, "tests", "tokenizer", "data", "texts")

lines = [
# English prose, contractions, numbers
"The quick brown fox jumps over the lazy dog.",
"Hello world",
"Hello, world!",
" Hello world",
"hello world ",
"  leading two spaces",
"trailing two spaces  ",
"several    spaces     inside   this line",
"I can't believe it's not butter; they're sure we've done it, I'm told you'll see, he'd know.",
"DON'T SHOUT, IT'S RUDE. They'Re mixing Case'S.",
"'s 't 're 've 'm 'll 'd",
"rock 'n' roll and ''quoted'' and `backticks` and \"double quotes\"",
"Numbers: 0 1 12 123 1234 12345 123456789 3.14159 -42 +7 1,000,000 1.000.000,50 2026-12-05 22:18:20",
"Phone +1 (555) 010-9999, ZIP 90210, IPv4 192.168.0.1, IPv6 fe80::1ff:fe23:4567:890a",
"Version v1.2.3-rc.4+build.5 and 0x1F600 and 1e-9 and 6.022e23",
"Prices: $5.00, €3,50, £2, ¥100, ₹20, ₿0.001, 50¢, 10%, ½ ¼ ¾",
"Email: someone@example.com, URL: https://example.org/path?q=1&r=two#frag",
"C++ templates: std::vector<std::pair<int, int>> v{{1, 2}}; x->y = *p++ && !q || r ^ s;",
"def f(x): return x**2 if x >= 0 else -x  # comment",
"Repeated punctuation!!! Really??? Wait... what?!?! ---- ==== **** ____ ~~~~ ####",
"............................................................",
"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
"(((nested))) [[[brackets]]] {{{braces}}} <<<angles>>>",
"a",
"I",
".",
" ",
"   ",
"Supercalifragilisticexpialidocious antidisestablishmentarianism floccinaucinihilipilification",
"pneumonoultramicroscopicsilicovolcanoconiosis",
"Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
"x" * 300,
"ab" * 150,
"The_snake_case_identifier and camelCaseIdentifier and SCREAMING_CASE and kebab-case-word",
"MixedCASE WoRdS iN a SeNtEnCe",
"Tokenization of transformers' inputs isn't trivial: 'quoted' words, \"double\", and (parentheses).",
# Latin with accents: precomposed (NFC) and decomposed (NFD)
"Café résumé naïve façade jalapeño São Paulo Zürich Ærøskøbing Łódź Dvořák",
"Cafe\u0301 re\u0301sume\u0301 nai\u0308ve fac\u0327ade jalapen\u0303o Sa\u0303o Paulo Zu\u0308rich",
"Ångström vs A\u030angstro\u0308m vs \u212bngstr\u00f6m (Angstrom sign U+212B)",
"ﬁnance ﬂow ﬀ ﬃ (ligatures) ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３ and ｶﾀｶﾅ halfwidth",
"Ⅻ ① ② ⑳ ㊿ ² ³ ¹ ₀ ₁ ™ ℃ ℉ № ℡ ㎏ ㎞ ㍻",
"Straße STRASSE İstanbul ıi ǅ ǈ ǋ ß ẞ ﬅ",
"e\u0301\u0301\u0301 stacked combining marks a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
"Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333 zalgo text",
"\u0301 a line that starts with a combining acute",
"Vietnamese: Tiếng Việt có dấu, người, được, những, Nguyễn",
"Polish: Zażółć gęślą jaźń. Czech: Příliš žluťoučký kůň úpěl ďábelské ódy.",
"Turkish: Pijamalı hasta yağız şoföre çabucak güvendi. Icelandic: Þú ert æðisleg.",
# Cyrillic, Greek
"Съешь же ещё этих мягких французских булок, да выпей чаю.",
"Ще́дрик, щедрик, щедрівочка — українська пісня; ґанок, їжак, єнот.",
"Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΆΈΉΊΌΎΏ άέήίόύώ ϊϋΐΰ ς σ Σ",
"Greek with tonos decomposed: \u03b1\u0301 \u03b5\u0301 \u03b9\u0308\u0301",
# Arabic, Hebrew, Persian, Urdu (right to left, with marks)
"العربية: نص تجريبي للتقطيع، مع أرقام ١٢٣٤٥٦٧٨٩٠ وعلامات ترقيم؟",
"بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ (with harakat)",
"عربي mixed with English and 123 numbers in one line",
"עברית: דג סקרן שט בים מאוכזב ולפתע מצא חברה. שָׁלוֹם (with niqqud)",
"فارسی: این یک متن آزمایشی است‌ (ZWNJ: می‌خواهم)",
"Right-to-left mark \u200fhere and left-to-right mark \u200ehere and embedding \u202bالعربية\u202c.",
# Indic, Thai, other South and Southeast Asian
"हिन्दी: यह एक परीक्षण वाक्य है। क्षत्रिय, ज्ञान, श्री, द्वार, ऋषि",
"मराठी आणि नेपाली: नमस्ते संसार",
"বাংলা: আমি বাংলায় গান গাই। தமிழ்: வணக்கம் உலகம். తెలుగు: నమస్కారం",
"ไทย: ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ ๑๒๓",
"ລາວ: ສະບາຍດີ  ខ្មែរ: សួស្តី  မြန်မာ: မင်္ဂလာပါ",
"ཀ་ཁ་ག་ང་ Tibetan, ሰላም Amharic, გამარჯობა Georgian, Բարեւ Armenian",
# CJK, Japanese, Korean
"中文：我爱自然语言处理。今天天气很好！",
"繁體中文：臺灣的資訊科技產業。",
"日本語：私は東京に住んでいます。カタカナとひらがなと漢字。",
"ｶﾞｷﾞｸﾞ halfwidth katakana with voiced marks and ｰ",
"한국어: 안녕하세요, 세계! 자연어 처리는 재미있습니다.",
"Decomposed Hangul: \u1112\u1161\u11ab\u1100\u1173\u11af (jamo) vs 한글",
"CJK Extension B outside the BMP: 𠀀 𠀁 𪚥 𩸽 and CJK compatibility 豈 更",
"Mixed: 東京Tokyo2026年12月5日 and 서울Seoul and 北京Beijing",
"一二三四五六七八九十百千万亿",
# Emoji
"Emoji: 😀 😂 🥲 👍 🎉 🚀 ❤️ ✨ 🇺🇸 🇯🇵 🏳️‍🌈",
"Family ZWJ: 👨‍👩‍👧‍👦 and couple 👩‍❤️‍💋‍👨 and technologist 👩🏽‍💻",
"Skin tones: 👋🏻 👋🏼 👋🏽 👋🏾 👋🏿 and keycaps 1️⃣ #️⃣ *️⃣",
"Emoji without spaces😀😀😀and text🎉🎉",
"Variation selectors: ☺ ☺️ ☺︎ ♥ ♥️ and tag sequence 🏴󠁧󠁢󠁳󠁣󠁴󠁿",
# Whitespace and control characters
"tab\tseparated\tcolumns (in a single text)",
"NBSP\u00a0between\u00a0words and narrow\u202fNBSP and figure\u2007space",
"en\u2002em\u2003thin\u2009hair\u200aideographic\u3000spaces",
"zero\u200bwidth\u200bspace and ZWNJ\u200cZWJ\u200dand word\u2060joiner",
"BOM\ufeffin the middle and soft\u00adhyphen",
"line\u2028separator and paragraph\u2029separator and NEL\u0085here",
"vertical\x0btab and form\x0cfeed and carriage\rreturn inside",
"control \x01\x02\x03 chars \x1b[31mANSI\x1b[0m and DEL\x7f and C1\x80\x9f",
"Ogham space mark\u1680and Mongolian vowel separator\u180e",
"\t leading tab and space",
"trailing tab\t",
"private use \ue000\uf8ff and noncharacter \ufdd0 and replacement \ufffd char",
"unassigned code point \U000e01f0 and \u0378 and plane 15 \U000f0000",
"Math: ∀x∈ℝ: x²≥0, ∑ᵢ aᵢ, ∫₀^∞ e^{-x} dx = 1, 𝔸𝔹ℂ 𝒜ℬ 𝐀𝐁𝐂 𝟘𝟙𝟚",
"Box drawing ┌─┬─┐ │ │ └─┴─┘ and arrows ← → ↑ ↓ ⇒ ⇔",
"Dashes: hyphen - en – em — minus − and quotes ‘single’ “double” «guillemets» „low“",
"Ellipsis … and middle dot · and bullet • and dagger † ‡ and section § ¶",
# Special tokens written in text
"<s>",
"</s>",
"<mask>",
"<pad> <unk>",
"[CLS] [SEP] [MASK] [PAD] [UNK]",
"The capital of France is <mask>.",
"The capital of France is<mask>.",
"The capital of France is   <mask>   .",
"<s> A sentence written with its own markers </s>",
"hello</s>world<s>again",
"Paris is the [MASK] of France. [SEP] Second part",
"<|endoftext|> GPT-2's end of text <|endoftext|>",
"text<|endoftext|>text",
"<mask><mask><mask>",
"<MASK> <S> [mask] < s > <s >",
# Mixed scripts
"Mixing Latin, Кириллица, Ελληνικά, العربية, עברית, हिन्दी, ไทย, 中文, 日本語, 한국어 and 😀 in one line.",
"a\u0308\u0301bc 한국 中 😀 é",
"<0x41><0xE2><0x82><0xAC> byte pieces written as text, and Ġ Ċ (GPT-2's byte symbols)",
"\u2581 the metaspace character itself \u2581\u2581 in text\u2581",
]

long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 20
lines.append(long_word)
lines.append("Ω" * 200)
lines.append("😀" * 100)
lines.append("中" * 300)
lines.append("é" * 150 + " " + "e\u0301" * 150)
lines.append(" ".join(["word"] * 400))
lines.append("")
lines.append("")

for line in lines:
    assert "\n" not in line, line
out = open(os.path.join(TEXTS, "hand.txt"), "w", encoding="utf-8", newline="\n")
for line in lines:
    out.write(line + "\n")
out.close()
print(f"wrote hand.txt: {len(lines)} lines")

pairs = [
"What is the capital of France?\tParis is the capital of France.",
"Hello\tworld",
"hello world\t",
"\thello world",
"\t",
"first\tsecond\twith another tab",
"How old are you?\tI'm 6 years old.",
"Der Hund bellt.\tThe dog barks.",
"Кошка спит.\tThe cat sleeps.",
"猫が寝ている。\t고양이가 자고 있다.",
"العربية\tעברית",
"query: how much protein should a female eat\tpassage: As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day.",
"<s> already marked </s>\t<mask> here",
"[CLS] bert markers [SEP]\t[MASK]",
"😀 emoji\t👨‍👩‍👧‍👦 family",
"  spaces  \t  more spaces  ",
"Café\tCafe\u0301",
"A very long first sequence " + " ".join(["alpha"] * 120) + "\tshort",
"short\tA very long second sequence " + " ".join(["beta"] * 120),
" ".join(["one"] * 80) + "\t" + " ".join(["two"] * 80),
"ＦＵＬＬＷＩＤＴＨ\tﬁnance",
"x\ty",
"The quick brown fox\tjumps over the lazy dog",
"Is this a question?\tYes, it's an answer; they're sure.",
"ไทยภาษา\t中文语言",
"NBSP\u00a0here\tzero\u200bwidth",
"no TAB on this line: with --pairs it is a single text",
"",
]
out = open(os.path.join(TEXTS, "pairs.txt"), "w", encoding="utf-8", newline="\n")
for line in pairs:
    assert "\n" not in line, line
    out.write(line + "\n")
out.close()
print(f"wrote pairs.txt: {len(pairs)} lines")

# Invalid UTF-8: line 2 has a lone continuation byte at byte 5 of the line (counted from 0).
with open(os.path.join(TEXTS, "invalid_utf8.txt"), "wb") as f:
    f.write(b"valid first line\n")
    f.write(b"bad: \x80 byte\n")
    f.write(b"never reached\n")
