#!/usr/bin/env python3
"""PyTorch eager reference for `npm run bench:search`.

The same trie-constrained beam search as src/search/beam.ts, over the same weights: the
model is bench/torch_train.py's T5 (HF parameter names), loaded from genir's
model.safetensors, with an incremental decoder step that keeps a self-attention KV cache
and computes the cross-attention keys/values once per query. Scores are raw summed
log-probabilities; only trie children are candidates; finished docids (EOS) go to a top-k
list and never take a live beam slot; live hypotheses below the k-th finished score are
dropped.

    /usr/bin/python3 bench/torch_search.py --model DIR --docids docids.json --queries queries.json \
        --beam 10 --k 10 --threads 2 --warmup 5 --out result.json

docids.json: {"offsets": [...], "tokens": [...], "eos": 1}; queries.json: {"queries": [[ids], ...],
"check": {"query": [ids], "docs": [doc indices]}}. Writes one JSON object (timings, results,
teacher-forced scores of the check docids) to --out and prints it as the last stdout line.
"""

import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import T5, loaded_blas_libraries, relative_position_bucket  # noqa: E402


def read_safetensors(path):
    """name -> float32 tensor; the format is an 8-byte header length, a JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} has dtype {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        array = np.frombuffer(blob, dtype="<f4", count=(end - start) // 4, offset=base + start)
        tensors[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
    return tensors


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        hf = json.load(f)
    cfg = {key: hf[key] for key in ("d_model", "num_layers", "num_decoder_layers", "num_heads", "d_kv", "d_ff")}
    model = T5(cfg, hf["vocab_size"], 0.0, hf["relative_attention_num_buckets"], hf["relative_attention_max_distance"],
               tied=hf.get("tie_word_embeddings", False))
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model, hf


class Searcher:
    """Encoder once per query, cached decoder steps, constrained beam search."""

    def __init__(self, model, hf, offsets, tokens, eos):
        self.model = model
        self.eos = eos
        self.pad = hf.get("pad_token_id", 0)
        self.start = hf.get("decoder_start_token_id", 0)
        self.eps = hf.get("layer_norm_epsilon", 1e-6)
        self.tied = hf.get("tie_word_embeddings", False)
        self.d_model = hf["d_model"]
        self.build_trie(offsets, tokens)
        self.step_bias = {}

    def build_trie(self, offsets, tokens):
        """CSR trie: node n's children are edge_token/edge_child[child_start[n]:child_start[n+1]]."""
        children = [{}]
        leaf_doc = [-1]
        for doc in range(len(offsets) - 1):
            node = 0
            for token in tokens[offsets[doc]:offsets[doc + 1]]:
                nxt = children[node].get(token)
                if nxt is None:
                    nxt = len(children)
                    children[node][token] = nxt
                    children.append({})
                    leaf_doc.append(-1)
                node = nxt
            leaf_doc[node] = doc
        self.child_tokens = [np.array(sorted(c), dtype=np.int64) for c in children]
        self.child_nodes = [np.array([c[t] for t in sorted(c)], dtype=np.int64) for c in children]
        self.leaf_doc = leaf_doc

    def self_bias(self, position):
        bias = self.step_bias.get(position)
        if bias is None:
            m = self.model
            relative = torch.arange(position + 1)[None, :] - position
            buckets = relative_position_bucket(relative, False, m.num_buckets, m.max_distance)
            bias = m.decoder.position_table()(buckets).permute(2, 0, 1).unsqueeze(0)  # 1 x heads x 1 x (position+1)
            self.step_bias[position] = bias
        return bias

    def encode(self, source):
        m = self.model
        src = torch.tensor([list(source) + [self.eos]])
        s = src.shape[1]
        enc_bias = m.position_bias(m.encoder.position_table(), s, s, True)
        x = m.shared(src)
        for block in m.encoder.block:
            x = block(x, enc_bias)
        memory = m.encoder.final_layer_norm(x)
        cross = []
        for block in m.decoder.block:
            attention = block.layer[1].EncDecAttention
            cross.append((attention.split(attention.k(memory)), attention.split(attention.v(memory))))
        return cross

    def step(self, tokens, past, cross, position):
        """tokens [rows] → log-probs [rows, vocab] and the new cache (list of (k, v) per block)."""
        m = self.model
        y = m.shared(tokens)[:, None, :]
        bias = self.self_bias(position)
        present = []
        for i, block in enumerate(m.decoder.block):
            layer = block.layer[0]
            attention = layer.SelfAttention
            h = layer.layer_norm(y)
            q, k, v = attention.split(attention.q(h)), attention.split(attention.k(h)), attention.split(attention.v(h))
            if past is not None:
                k = torch.cat([past[i][0], k], dim=2)
                v = torch.cat([past[i][1], v], dim=2)
            present.append((k, v))
            weights = F.softmax(torch.matmul(q, k.transpose(-1, -2)) + bias, dim=-1)
            y = y + attention.o(torch.matmul(weights, v).transpose(1, 2).reshape(y.shape[0], 1, -1))
            layer = block.layer[1]
            attention = layer.EncDecAttention
            qc = attention.split(attention.q(layer.layer_norm(y)))
            ck, cv = cross[i]
            weights = F.softmax(torch.matmul(qc, ck.transpose(-1, -2)), dim=-1)
            y = y + attention.o(torch.matmul(weights, cv).transpose(1, 2).reshape(y.shape[0], 1, -1))
            y = block.layer[2](y)
        hidden = m.decoder.final_layer_norm(y)[:, 0, :]
        logits = torch.matmul(hidden * self.d_model ** -0.5, m.shared.weight.t()) if self.tied else m.lm_head(hidden)
        return F.log_softmax(logits, dim=-1), present

    @torch.no_grad()
    def search(self, source, beam, k):
        cross1 = self.encode(source)
        rows_node = [0]
        rows_score = [0.0]
        tokens = torch.tensor([self.start])
        past = None
        cross = cross1
        finished = []  # (score, doc), best first, at most k
        position = 0
        while rows_node:
            log_probs, present = self.step(tokens, past, cross, position)
            lp = log_probs.numpy()
            threshold = finished[-1][0] if len(finished) == k else -math.inf
            cand_score, cand_row, cand_token, cand_child = [], [], [], []
            for row, node in enumerate(rows_node):
                toks = self.child_tokens[node]
                scores = rows_score[row] + lp[row, toks].astype(np.float64)
                cand_score.append(scores)
                cand_row.append(np.full(len(toks), row))
                cand_token.append(toks)
                cand_child.append(self.child_nodes[node])
            scores = np.concatenate(cand_score)
            rows_of = np.concatenate(cand_row)
            toks = np.concatenate(cand_token)
            childs = np.concatenate(cand_child)
            ending = toks == self.eos
            for i in np.nonzero(ending & (scores >= threshold))[0]:
                finished.append((float(scores[i]), self.leaf_doc[childs[i]]))
            if len(finished) > k or ending.any():
                finished.sort(key=lambda e: (-e[0], e[1]))
                del finished[k:]
            threshold = finished[-1][0] if len(finished) == k else -math.inf
            live = np.nonzero(~ending & (scores >= threshold))[0]
            if len(live) > beam:
                # Stable on enumeration order for ties, as in genir.
                order = np.argsort(-scores[live], kind="stable")[:beam]
                live = live[order]
            else:
                live = live[np.argsort(-scores[live], kind="stable")]
            if len(live) == 0:
                break
            parents = torch.from_numpy(rows_of[live])
            past = [(kk.index_select(0, parents), vv.index_select(0, parents)) for kk, vv in present]
            if cross[0][0].shape[0] != len(live):
                expand = torch.zeros(len(live), dtype=torch.long)
                cross = [(ck.index_select(0, expand), cv.index_select(0, expand)) for ck, cv in cross1]
            rows_node = childs[live].tolist()
            rows_score = scores[live].tolist()
            tokens = torch.from_numpy(toks[live])
            position += 1
        return finished

    @torch.no_grad()
    def teacher_forced(self, source, docs, offsets, tokens):
        """Summed log-probability of each docid (EOS included) under teacher forcing."""
        out = []
        for doc in docs:
            target = tokens[offsets[doc]:offsets[doc + 1]]
            src = torch.tensor([list(source) + [self.eos]])
            dec_in = torch.tensor([[self.start] + target[:-1]])
            logits = self.model.logits(src, torch.ones_like(src), dec_in)
            lp = F.log_softmax(logits[0], dim=-1)
            out.append(float(lp[torch.arange(len(target)), torch.tensor(target)].sum()))
        return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--docids", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--beam", type=int, default=10)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    blas = loaded_blas_libraries()
    with open(args.docids) as f:
        docids = json.load(f)
    with open(args.queries) as f:
        spec = json.load(f)
    model, hf = load_model(args.model)
    searcher = Searcher(model, hf, docids["offsets"], docids["tokens"], docids["eos"])
    queries = spec["queries"]
    for source in queries[:args.warmup]:
        searcher.search(source, args.beam, args.k)
    times_ms = []
    results = []
    cpu_start = time.process_time()
    for source in queries:
        start = time.perf_counter()
        found = searcher.search(source, args.beam, args.k)
        times_ms.append((time.perf_counter() - start) * 1000)
        results.append([[doc, score] for score, doc in found])
    cpu_ms = (time.process_time() - cpu_start) * 1000
    check = spec["check"]
    result = {
        "torch_version": torch.__version__,
        "blas": [path.rsplit("/", 1)[-1] for path in blas],
        "threads": torch.get_num_threads(),
        "times_ms": times_ms,
        "cpu_ms": cpu_ms,
        "results": results,
        "check_scores": searcher.teacher_forced(check["query"], check["docs"], docids["offsets"], docids["tokens"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    with open(args.out, "w") as f:
        json.dump(result, f)
    print(json.dumps({key: value for key, value in result.items() if key not in ("times_ms", "results")}))


if __name__ == "__main__":
    main()
