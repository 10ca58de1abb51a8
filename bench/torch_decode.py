#!/usr/bin/env python3
"""PyTorch peer for `npm run bench:decode`: encoder and cached decoder-step latency.

The model is torch_train.py's T5 (same shapes as genir's presets) in eval mode under
torch.no_grad(). The encoder call computes the encoder states and every decoder block's
cross-attention keys/values; a decoder step runs one position for N hypotheses with a
self-attention cache of --past positions, the encoder output (batch 1) broadcast over the
hypotheses. The last stdout line is one JSON object.
    /usr/bin/python3 bench/torch_decode.py --config small --hyps 10,100
"""

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import CONFIGS, T5, loaded_blas_libraries, relative_position_bucket  # noqa: E402


def encode(model, src, mask):
    s = src.shape[1]
    pad = (1.0 - mask[:, None, None, :].float()) * -1e9
    bias = model.position_bias(model.encoder.position_table(), s, s, True) + pad
    x = model.shared(src)
    for block in model.encoder.block:
        x = block(x, bias)
    memory = model.encoder.final_layer_norm(x)
    cross = []
    for block in model.decoder.block:
        attention = block.layer[1].EncDecAttention
        cross.append((attention.split(attention.k(memory)), attention.split(attention.v(memory))))
    return memory, cross, pad


def attend(attention, x, k, v, bias):
    q = attention.split(attention.q(x))
    weights = F.softmax(torch.matmul(q, k.transpose(-1, -2)) + bias, dim=-1)
    return attention.o(torch.matmul(weights, v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1))


def decoder_step(model, tokens, cache, cross, pad):
    position = cache[0][0].shape[2]
    buckets = relative_position_bucket(torch.arange(position + 1)[None, :] - position, False, model.num_buckets, model.max_distance)
    bias = model.decoder.position_table()(buckets).permute(2, 0, 1).unsqueeze(0)
    y = model.shared(tokens)
    present = []
    for i, block in enumerate(model.decoder.block):
        layer = block.layer[0]
        attention = layer.SelfAttention
        h = layer.layer_norm(y)
        k = torch.cat([cache[i][0], attention.split(attention.k(h))], dim=2)
        v = torch.cat([cache[i][1], attention.split(attention.v(h))], dim=2)
        present.append((k, v))
        y = y + attend(attention, h, k, v, bias)
        cross_layer = block.layer[1]
        y = y + attend(cross_layer.EncDecAttention, cross_layer.layer_norm(y), cross[i][0], cross[i][1], pad)
        y = block.layer[2](y)
    logits = model.lm_head(model.decoder.final_layer_norm(y))
    return F.log_softmax(logits[:, -1], dim=-1), present


def timed(fn, runs):
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": times[(len(times) - 1) // 2], "p90_ms": times[min(len(times) - 1, int(len(times) * 0.9))]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="small", choices=sorted(CONFIGS))
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--src-len", type=int, default=64)
    parser.add_argument("--past", type=int, default=8)
    parser.add_argument("--hyps", default="10,100")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[args.config]
    model = T5(cfg, args.vocab, 0.0).eval()
    result = {"params": sum(p.numel() for p in model.parameters()), "blas": [p.rsplit("/", 1)[-1] for p in loaded_blas_libraries()]}
    with torch.no_grad():
        src = torch.randint(2, args.vocab, (1, args.src_len))
        mask = torch.ones(1, args.src_len, dtype=torch.long)
        result["encoder"] = timed(lambda: encode(model, src, mask), args.runs)
        _, cross, pad = encode(model, src, mask)
        empty = torch.zeros(1, cfg["num_heads"], 0, cfg["d_kv"])
        cache = [(empty, empty) for _ in model.decoder.block]
        for step in range(args.past):
            _, cache = decoder_step(model, torch.tensor([[2 + step]]), cache, cross, pad)
        for hyps in [int(h) for h in args.hyps.split(",")]:
            hyp_cache = [(k.expand(hyps, -1, -1, -1).contiguous(), v.expand(hyps, -1, -1, -1).contiguous()) for k, v in cache]
            tokens = (torch.arange(hyps) % 100 + 2)[:, None]
            # The encoder side (batch 1) broadcasts over the hypotheses, as in genir.
            result["decoder_step_%d" % hyps] = timed(lambda: decoder_step(model, tokens, hyp_cache, cross, pad), args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
