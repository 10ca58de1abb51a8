#!/usr/bin/env python3
"""Reference values for genir's T5 tests, computed by the PyTorch model of torch_train.py.

Reads a genir checkpoint directory (model.safetensors + config.json) and a batch JSON
{input_ids, attention_mask, decoder_input_ids, labels} (row-major nested lists), runs the
model without dropout and prints {"loss": mean token cross-entropy, "sequence_log_prob": [...]}.
    /usr/bin/python3 bench/torch_golden.py CHECKPOINT_DIR BATCH_JSON
"""

import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import T5  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    data = raw[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        begin, end = info["data_offsets"]
        values = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        tensors[name] = values.reshape(info["shape"])
    return tensors


def main():
    checkpoint, batch_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(checkpoint, "config.json")) as f:
        config = json.load(f)
    cfg = {key: config[key] for key in ("d_model", "num_layers", "num_decoder_layers", "num_heads", "d_kv", "d_ff")}
    model = T5(cfg, config["vocab_size"], 0.0, config["relative_attention_num_buckets"],
               config["relative_attention_max_distance"], tied=config["tie_word_embeddings"])
    for norm in model.modules():
        if hasattr(norm, "eps"):
            norm.eps = config["layer_norm_epsilon"]
    model.load_state_dict(read_safetensors(os.path.join(checkpoint, "model.safetensors")), strict=True)
    model.eval()
    with open(batch_path) as f:
        batch = json.load(f)
    src = torch.tensor(batch["input_ids"])
    mask = torch.tensor(batch["attention_mask"])
    dec_in = torch.tensor(batch["decoder_input_ids"])
    labels = torch.tensor(batch["labels"])
    with torch.no_grad():
        logits = model.logits(src, mask, dec_in)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
        log_probs = F.log_softmax(logits, dim=-1)
        picked = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        sequence = (picked * (labels != -100)).sum(-1)
    logits = model.logits(src, mask, dec_in)
    F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100).backward()
    grad_norm = {name: p.grad.norm().item() for name, p in model.named_parameters()}
    print(json.dumps({"loss": loss.item(), "sequence_log_prob": sequence.tolist(), "grad_norm": grad_norm}))


if __name__ == "__main__":
    main()
