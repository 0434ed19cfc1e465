#!/usr/bin/env python3
"""Write N synthetic articles shaped like the source article into DIR/articles.

The benchmark uses them to show that start-up, memory and request cost scale
with the content as they should. Each article has the source's structure and
about its size (intro, a section, 7 benefits, 5 precautions, a conclusion,
4 FAQs), with text made of the source's own sentences drawn at random, so
that it compresses like real prose (neither like repeated bytes nor like word
salad). Never point it at content/.

Usage: gen_corpus.py DIR N [SEED] [--mix SHARE FILE...]

With --mix, each sentence is drawn, with probability SHARE, from the
sentences of FILEs (other prose, e.g. Debian's /usr/share/common-licenses/*)
instead: a corpus in which the source's words are rarer, to see how search
cost follows the corpus (bench/README.md). Without it, the corpus is the
benchmark's, the same for the same SEED.
"""

import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "content", "articles", "deep-tissue-massage-for-back-pain.toml")


def sentences_of(text):
    """The sentences of `text` of five words or more, spaces made single."""
    text = re.sub(r"\s+", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 4]


def vocabulary():
    """The source's sentences and words."""
    with open(SOURCE, encoding="utf-8") as f:
        text = f.read()
    bodies = " ".join(re.findall(r'"""\n(.*?)"""', text, re.S))
    sentences = sentences_of(bodies)
    words = [w.strip(".,:!?") for w in bodies.split() if len(w) > 3]
    return sentences, words


def sentence(rng, vocab, _n=None):
    mix = vocab[2] if len(vocab) > 2 else None
    if mix and rng.random() < mix[0]:
        return rng.choice(mix[1])
    return rng.choice(vocab[0])


def paragraph(rng, vocab, sentences=3):
    return " ".join(sentence(rng, vocab) for _ in range(sentences))


def title(rng, vocab):
    return " ".join(rng.choice(vocab[1]).capitalize() for _ in range(rng.randint(2, 4)))


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def article(rng, vocab, i):
    out = [f"title = {toml_str(title(rng, vocab) + f' {i}')}", ""]
    out += ["[intro]", 'id = "introduction"', f"body = {toml_str(paragraph(rng, vocab, 4))}", ""]
    out += ["[[sections]]", 'id = "understanding"', f"heading = {toml_str(title(rng, vocab))}",
            f"body = {toml_str(paragraph(rng, vocab, 2))}", ""]
    for group, count, lead in (("benefits", 7, False), ("precautions", 5, True)):
        out += [f"[{group}]", f"heading = {toml_str(title(rng, vocab))}"]
        if lead:
            out.append(f"intro = {toml_str(sentence(rng, vocab, 18))}")
        for n in range(1, count + 1):
            out += ["", f"[[{group}.items]]", f'id = "{group[:-1]}-{n}"',
                    f"title = {toml_str(title(rng, vocab))}", f"body = {toml_str(paragraph(rng, vocab, 2))}"]
        out.append("")
    out += ["[conclusion]", 'id = "conclusion"', 'heading = "Conclusion"',
            f"body = {toml_str(paragraph(rng, vocab, 4))}", "", "[faqs]", 'heading = "FAQ"']
    for n in range(1, 5):
        out += ["", "[[faqs.items]]", f'id = "faq-{n}"', f"question = {toml_str(sentence(rng, vocab)[:-1] + '?')}",
                f"answer = {toml_str(paragraph(rng, vocab, 2))}"]
    out += ["", "[replies]", 'heading = "Leave a Reply"', ""]
    return "\n".join(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    args, mix = sys.argv[1:], None
    if "--mix" in args:
        at = args.index("--mix")
        try:
            share, files = float(args[at + 1]), args[at + 2:]
        except (IndexError, ValueError):
            sys.exit(__doc__)
        args = args[:at]
        if not 0 <= share <= 1 or not files or len(args) < 2:
            sys.exit(__doc__)
        other = []
        for name in files:
            with open(name, encoding="utf-8") as f:
                other += [s for s in sentences_of(f.read()) if len(s.split()) < 40]
        mix = (share, other)
    root, count = args[0], int(args[1])
    seed = int(args[2]) if len(args) > 2 else 1
    if os.path.realpath(root) == os.path.realpath(os.path.join(HERE, "..", "content")):
        sys.exit("refusing to write into content/")
    rng = random.Random(seed)
    vocab = vocabulary() + ((mix,) if mix else ())
    target = os.path.join(root, "articles")
    os.makedirs(target, exist_ok=True)
    for i in range(count):
        with open(os.path.join(target, f"synthetic-article-{i:05d}.toml"), "w", encoding="utf-8") as f:
            f.write(article(rng, vocab, i))
    print(f"wrote {count} articles to {target}")


if __name__ == "__main__":
    main()
