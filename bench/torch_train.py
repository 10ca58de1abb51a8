#!/usr/bin/env python3
"""PyTorch reference for `npm run bench:train`.

A T5-style encoder-decoder written directly in torch (no `transformers`), with the
same shapes and the same arithmetic as genir's model: pre-norm RMSNorm, no biases,
bucketed relative position bias computed once per stack and shared by its layers,
gated-GELU (tanh approximation) feed-forward, unscaled dot-product attention (T5
folds the 1/sqrt(d) into the initialisation), dropout, untied output head. One
training step is forward, cross-entropy over the target tokens, backward, global
grad-norm clipping and an AdamW update.

Run with Debian's python3-torch and OpenBLAS:
    /usr/bin/python3 bench/torch_train.py --config small --batch 32 --src-len 64 --tgt-len 8
The last stdout line is one JSON object with the measurement.
"""

import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    # Kept in step with src/model/config.ts.
    "tiny": dict(d_model=64, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=16, d_ff=256),
    "small": dict(d_model=256, num_layers=4, num_decoder_layers=4, num_heads=4, d_kv=64, d_ff=1024),
    "base": dict(d_model=768, num_layers=12, num_decoder_layers=12, num_heads=12, d_kv=64, d_ff=2048),
}


def loaded_blas_libraries():
    """Shared libraries in this process whose name mentions BLAS or LAPACK."""
    names = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if path.startswith("/") and ("blas" in path.lower() or "lapack" in path.lower()):
                names.add(path)
    return sorted(names)


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """T5's bucketing: exact buckets for small offsets, log-spaced up to max_distance."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).long() * num_buckets
        relative_position = relative_position.abs()
    else:
        relative_position = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    is_small = relative_position < max_exact
    large = max_exact + (
        torch.log(relative_position.float().clamp(min=1) / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(is_small, relative_position, large)


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


# Module names follow Hugging Face's T5 so that state_dict() keys are the HF parameter names
# genir uses (encoder.block.0.layer.0.SelfAttention.q.weight, ...).

class Attention(nn.Module):
    def __init__(self, cfg, dropout, position_table=False):
        super().__init__()
        inner = cfg["num_heads"] * cfg["d_kv"]
        self.h, self.dk = cfg["num_heads"], cfg["d_kv"]
        self.q = nn.Linear(cfg["d_model"], inner, bias=False)
        self.k = nn.Linear(cfg["d_model"], inner, bias=False)
        self.v = nn.Linear(cfg["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, cfg["d_model"], bias=False)
        if position_table:
            self.relative_attention_bias = nn.Embedding(cfg["num_buckets"], cfg["num_heads"])
        self.dropout = dropout

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.h, self.dk).transpose(1, 2)

    def forward(self, x, kv, bias):
        q, k, v = self.split(self.q(x)), self.split(self.k(kv)), self.split(self.v(kv))
        scores = torch.matmul(q, k.transpose(-1, -2)) + bias
        weights = F.dropout(F.softmax(scores, dim=-1), self.dropout, self.training)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
        return self.o(out)


class DenseGatedGelu(nn.Module):
    def __init__(self, cfg, dropout):
        super().__init__()
        self.wi_0 = nn.Linear(cfg["d_model"], cfg["d_ff"], bias=False)
        self.wi_1 = nn.Linear(cfg["d_model"], cfg["d_ff"], bias=False)
        self.wo = nn.Linear(cfg["d_ff"], cfg["d_model"], bias=False)
        self.dropout = dropout

    def forward(self, x):
        hidden = F.gelu(self.wi_0(x), approximate="tanh") * self.wi_1(x)
        return self.wo(F.dropout(hidden, self.dropout, self.training))


class AttentionLayer(nn.Module):
    def __init__(self, cfg, dropout, cross, position_table):
        super().__init__()
        attention = Attention(cfg, dropout, position_table)
        self.attention_name = "EncDecAttention" if cross else "SelfAttention"
        setattr(self, self.attention_name, attention)
        self.layer_norm = RMSNorm(cfg["d_model"])
        self.dropout = dropout

    def forward(self, x, bias, memory=None):
        h = self.layer_norm(x)
        attention = getattr(self, self.attention_name)
        return x + F.dropout(attention(h, h if memory is None else memory, bias), self.dropout, self.training)


class FeedForwardLayer(nn.Module):
    def __init__(self, cfg, dropout):
        super().__init__()
        self.DenseReluDense = DenseGatedGelu(cfg, dropout)
        self.layer_norm = RMSNorm(cfg["d_model"])
        self.dropout = dropout

    def forward(self, x):
        return x + F.dropout(self.DenseReluDense(self.layer_norm(x)), self.dropout, self.training)


class Block(nn.Module):
    def __init__(self, cfg, dropout, decoder, first):
        super().__init__()
        layers = [AttentionLayer(cfg, dropout, False, first)]
        if decoder:
            layers.append(AttentionLayer(cfg, dropout, True, False))
        layers.append(FeedForwardLayer(cfg, dropout))
        self.layer = nn.ModuleList(layers)

    def forward(self, x, self_bias, memory=None, cross_bias=None):
        x = self.layer[0](x, self_bias)
        if memory is not None:
            x = self.layer[1](x, cross_bias, memory)
        return self.layer[-1](x)


class Stack(nn.Module):
    def __init__(self, cfg, dropout, decoder, layers):
        super().__init__()
        self.block = nn.ModuleList(Block(cfg, dropout, decoder, i == 0) for i in range(layers))
        self.final_layer_norm = RMSNorm(cfg["d_model"])

    def position_table(self):
        return self.block[0].layer[0].SelfAttention.relative_attention_bias


class T5(nn.Module):
    def __init__(self, cfg, vocab, dropout, num_buckets=32, max_distance=128, tied=False):
        super().__init__()
        cfg = dict(cfg, num_buckets=num_buckets)
        self.cfg, self.dropout, self.tied = cfg, dropout, tied
        self.num_buckets, self.max_distance = num_buckets, max_distance
        d = cfg["d_model"]
        self.shared = nn.Embedding(vocab, d)
        self.encoder = Stack(cfg, dropout, False, cfg["num_layers"])
        self.decoder = Stack(cfg, dropout, True, cfg["num_decoder_layers"])
        if not tied:
            self.lm_head = nn.Linear(d, vocab, bias=False)
        # HF T5's initialisation (as src/model/config.ts): the query's std includes d_kv^-1/2
        # because attention logits are not scaled.
        inner = cfg["num_heads"] * cfg["d_kv"]
        stds = {".q.": (d * cfg["d_kv"]) ** -0.5, ".k.": d ** -0.5, ".v.": d ** -0.5, ".o.": inner ** -0.5,
                "wi_0": d ** -0.5, "wi_1": d ** -0.5, "wo": cfg["d_ff"] ** -0.5,
                "shared": 1.0, "relative_attention_bias": d ** -0.5, "lm_head": d ** -0.5}
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() < 2:
                    continue
                std = next(value for key, value in stds.items() if key in name)
                p.normal_(0.0, std)

    def position_bias(self, table, q_len, k_len, bidirectional):
        context = torch.arange(q_len)[:, None]
        memory = torch.arange(k_len)[None, :]
        buckets = relative_position_bucket(memory - context, bidirectional, self.num_buckets, self.max_distance)
        return table(buckets).permute(2, 0, 1).unsqueeze(0)  # 1 x heads x q x k

    def logits(self, src, src_mask, dec_in):
        drop = lambda t: F.dropout(t, self.dropout, self.training)
        s, t = src.shape[1], dec_in.shape[1]
        pad = (1.0 - src_mask[:, None, None, :].float()) * -1e9
        enc_bias = self.position_bias(self.encoder.position_table(), s, s, True) + pad
        x = drop(self.shared(src))
        for block in self.encoder.block:
            x = block(x, enc_bias)
        memory = drop(self.encoder.final_layer_norm(x))
        causal = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        dec_bias = self.position_bias(self.decoder.position_table(), t, t, False) + causal
        y = drop(self.shared(dec_in))
        for block in self.decoder.block:
            y = block(y, dec_bias, memory, pad)
        hidden = drop(self.decoder.final_layer_norm(y))
        if self.tied:
            # As HF T5 with tie_word_embeddings: rescale before projecting on the embedding.
            return torch.matmul(hidden * self.cfg["d_model"] ** -0.5, self.shared.weight.t())
        return self.lm_head(hidden)

    def forward(self, src, src_mask, dec_in, labels):
        logits = self.logits(src, src_mask, dec_in)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="small", choices=sorted(CONFIGS))
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--src-len", type=int, default=64)
    parser.add_argument("--tgt-len", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--allow-reference-blas", action="store_true",
                        help="run even when OpenBLAS is not the BLAS loaded (numbers will be far slower)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    blas = loaded_blas_libraries()
    openblas = any("openblas" in path for path in blas)
    if not openblas and not args.allow_reference_blas:
        sys.stderr.write(
            "torch_train.py: OpenBLAS is not loaded (found: %s); install libopenblas0-pthread "
            "or pass --allow-reference-blas\n" % (", ".join(blas) or "none"))
        sys.exit(3)

    model = T5(CONFIGS[args.config], args.vocab, args.dropout)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    generator = torch.Generator().manual_seed(args.seed)
    # Token 0 is pad and 1 is eos, as in genir; real tokens are drawn from the rest.
    src = torch.randint(2, args.vocab, (args.batch, args.src_len), generator=generator)
    src_mask = torch.ones(args.batch, args.src_len, dtype=torch.long)
    labels = torch.randint(2, args.vocab, (args.batch, args.tgt_len), generator=generator)
    dec_in = torch.cat([torch.zeros(args.batch, 1, dtype=torch.long), labels[:, :-1]], dim=1)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(src, src_mask, dec_in, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    loss = float("nan")
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
    ordered = sorted(times)
    median = (ordered[(len(times) - 1) // 2] + ordered[len(times) // 2]) / 2
    mean = sum(times) / len(times)
    result = {
        "torch_version": torch.__version__,
        "blas": [path.rsplit("/", 1)[-1] for path in blas],
        "openblas": openblas,
        "threads": torch.get_num_threads(),
        "params": params,
        "steps": args.steps,
        "step_times_s": times,
        "median_step_s": median,
        "mean_step_s": mean,
        "examples_per_s": args.batch / median,
        "final_loss": loss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
