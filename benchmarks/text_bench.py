"""Speed of the default text encoder (all-MiniLM-L6-v2): captions/s, cold and cached.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/text_bench.py [--captions 2048] [--batch-size 256] [--repeats 5]

The captions are distinct synthetic captions (short, like COCO's: about 10-20 tokens). Three figures,
each the median over the repeats:

* ``encode``: ``TextEncoder.encode`` on batches of ``--batch-size`` captions, in generator order;
* ``encode_cached, cold``: ``TextEncoder.encode_cached`` on captions it has not seen (it sorts them by
  length before batching, so batches pad less) - what training pays once for a dataset's captions;
* ``encode_cached, cached``: the same captions again, all found in the cache.

Prints a Markdown section with the machine, the command, the git commit and the figures.
"""
from __future__ import annotations

import argparse
import statistics

from common import header, seconds

from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.text import TextEncoder


def distinct_captions(count: int) -> list[str]:
    generator = SyntheticPoseGenerator(size=64, seed=0)
    captions: dict[str, None] = {}
    while len(captions) < count:
        captions.update(dict.fromkeys(generator.sample(count).captions))
    return list(captions)[:count]


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", type=int, default=2048, help="distinct captions per run")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--encoder", default="default", help="TextEncoder.from_pretrained name or folder")
    args = parser.parse_args(argv)

    encoder = TextEncoder.from_pretrained(args.encoder)
    # A fresh set of captions per repeat, so every cold run really meets new text.
    runs = [distinct_captions(args.captions * (args.repeats + 1))[i::args.repeats + 1] for i in range(args.repeats + 1)]
    warmup, runs = runs[0], runs[1:]
    encoder.encode(warmup[: args.batch_size])
    tokens = encoder.tokenizer(warmup, padding=False)["input_ids"]
    mean_tokens = sum(map(len, tokens)) / len(tokens)

    def plain(captions):
        for start in range(0, len(captions), args.batch_size):
            encoder.encode(captions[start:start + args.batch_size])

    timings = {"encode": [], "encode_cached, cold": [], "encode_cached, cached": []}
    for captions in runs:
        timings["encode"].append(seconds(lambda: plain(captions)))
        encoder.clear_cache()
        timings["encode_cached, cold"].append(seconds(lambda: encoder.encode_cached(captions, batch_size=args.batch_size)))
        timings["encode_cached, cached"].append(seconds(lambda: encoder.encode_cached(captions, batch_size=args.batch_size)))
    rows = []
    for name, values in timings.items():
        median = statistics.median(values)
        rows.append(f"| {name} | {median:.3f} | {args.captions / median:,.0f} |")

    workload = (f"{args.captions:,} distinct synthetic captions per run (mean {mean_tokens:.1f} tokens with "
                f"[CLS]/[SEP]), batches of {args.batch_size}, encoder {encoder.to_config()['name_or_path']!r} on "
                f"{encoder.device} in {encoder.dtype}, median of {args.repeats} runs")
    lines = header("Text encoder (posegraph.text, all-MiniLM-L6-v2)", "text_bench.py", argv, workload)
    section = "\n".join([*lines, "| step | seconds | captions/s |", "|---|---:|---:|", *rows])
    print(section)
    return section

if __name__ == "__main__":
    main()
