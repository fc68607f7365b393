#!/usr/bin/python3
"""The PyTorch side of bench/train_bench.sh: the model a DeepSeek-V3 config.json describes
(MLA with q_lora, RMSNorm, interleaved RoPE, dense SwiGLU first layers, DeepSeekMoE with a
sigmoid router, selection bias, group-limited top-k and shared experts), written the way
DeepSeek's reference model.py writes it, trained in float32 with AdamW and gradient
clipping on windows of the same uint32 token file. Prints one JSON object: the median
tokens/s over the timed steps. Only a timing peer: Mariana's correctness is checked
against DeepSeek's own reference (shared/golden) in the test suite."""
import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate(x, cos, sin):  # interleaved pairs (x[2i], x[2i+1]); x [B, S, heads, d]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, self.nh = c["hidden_size"], c["num_attention_heads"]
        self.dn, self.dr, self.dv, self.R = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"], c["kv_lora_rank"]
        qk = self.dn + self.dr
        self.q_a = nn.Linear(H, c["q_lora_rank"], bias=False)
        self.q_norm = RMSNorm(c["q_lora_rank"], c["rms_norm_eps"])
        self.q_b = nn.Linear(c["q_lora_rank"], self.nh * qk, bias=False)
        self.kv_a = nn.Linear(H, self.R + self.dr, bias=False)
        self.kv_norm = RMSNorm(self.R, c["rms_norm_eps"])
        self.kv_b = nn.Linear(self.R, self.nh * (self.dn + self.dv), bias=False)
        self.o = nn.Linear(self.nh * self.dv, H, bias=False)
        self.scale = qk ** -0.5

    def forward(self, x, cos, sin, mask):
        B, S, _ = x.shape
        q = self.q_b(self.q_norm(self.q_a(x))).view(B, S, self.nh, self.dn + self.dr)
        q_nope, q_pe = q.split([self.dn, self.dr], dim=-1)
        latent, k_pe = self.kv_a(x).split([self.R, self.dr], dim=-1)
        kv = self.kv_b(self.kv_norm(latent)).view(B, S, self.nh, self.dn + self.dv)
        k_nope, v = kv.split([self.dn, self.dv], dim=-1)
        q = torch.cat([q_nope, rotate(q_pe, cos, sin)], dim=-1)
        k_pe = rotate(k_pe.view(B, S, 1, self.dr), cos, sin).expand(B, S, self.nh, self.dr)
        k = torch.cat([k_nope, k_pe], dim=-1)
        scores = torch.einsum("bshd,bthd->bhst", q, k) * self.scale + mask
        out = torch.einsum("bhst,bthd->bshd", scores.softmax(dim=-1), v)
        return self.o(out.flatten(2))


class MLP(nn.Module):
    def __init__(self, H, inter):
        super().__init__()
        self.gate = nn.Linear(H, inter, bias=False)
        self.up = nn.Linear(H, inter, bias=False)
        self.down = nn.Linear(inter, H, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, self.E, self.K = c["hidden_size"], c["n_routed_experts"], c["num_experts_per_tok"]
        self.groups, self.topk_groups = c["n_group"], c["topk_group"]
        self.scaling = c["routed_scaling_factor"]
        self.gate = nn.Parameter(torch.empty(self.E, H).uniform_(-H ** -0.5, H ** -0.5))
        self.register_buffer("bias", torch.zeros(self.E))
        self.experts = nn.ModuleList(MLP(H, c["moe_intermediate_size"]) for _ in range(self.E))
        self.shared = MLP(H, c["n_shared_experts"] * c["moe_intermediate_size"])

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        scores = torch.sigmoid(x @ self.gate.t())
        choice = (scores + self.bias).detach()
        if self.groups > 1:
            grouped = choice.view(-1, self.groups, self.E // self.groups)
            best = grouped.topk(2, dim=-1).values.sum(-1).topk(self.topk_groups, dim=-1).indices
            keep = torch.zeros_like(grouped[..., 0], dtype=torch.bool).scatter_(1, best, True)
            choice = grouped.masked_fill(~keep.unsqueeze(-1), float("-inf")).flatten(1)
        idx = choice.topk(self.K, dim=-1).indices
        weights = scores.gather(1, idx)
        weights = weights / weights.sum(-1, keepdim=True) * self.scaling
        y = torch.zeros_like(x)
        for e in range(self.E):
            token, slot = torch.where(idx == e)
            if token.numel():
                y = y.index_add(0, token, self.experts[e](x[token]) * weights[token, slot, None])
        return (y + self.shared(x)).view(shape)


class Block(nn.Module):
    def __init__(self, c, layer):
        super().__init__()
        self.attn_norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.attn = MLA(c)
        self.ffn_norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        dense = layer < c["first_k_dense_replace"]
        self.ffn = MLP(c["hidden_size"], c["intermediate_size"]) if dense else MoE(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask)
        return x + self.ffn(self.ffn_norm(x))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Block(c, i) for i in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        for p in self.parameters():
            if p.dim() == 2 and p is not self.head.weight:
                nn.init.normal_(p, std=c.get("initializer_range", 0.02))
        nn.init.normal_(self.head.weight, std=c.get("initializer_range", 0.02))
        dr = c["qk_rope_head_dim"]
        self.inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, dr, 2).float() / dr))

    def forward(self, tokens, targets):
        S = tokens.shape[1]
        angles = torch.outer(torch.arange(S).float(), self.inv_freq)[None, :, None, :]
        mask = torch.full((S, S), float("-inf")).triu(1)
        h = self.embed(tokens)
        for layer in self.layers:
            h = layer(h, angles.cos(), angles.sin(), mask)
        logits = self.head(self.norm(h))
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = json.load(open(args.config))
    model = Model(c)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
    ids = torch.from_numpy(np.fromfile(args.data, dtype="<u4").astype(np.int64))
    rng = np.random.default_rng(0)
    times = []
    for step in range(args.steps):
        starts = rng.integers(0, len(ids) - args.seq_len - 1, size=args.batch)
        window = torch.stack([ids[s:s + args.seq_len + 1] for s in starts])
        t0 = time.perf_counter()
        loss = model(window[:, :-1], window[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        assert math.isfinite(loss.item())
    timed = times[1:] if len(times) > 1 else times
    print(json.dumps({"threads": args.threads, "tokens_per_s": args.batch * args.seq_len / statistics.median(timed),
                      "best_tokens_per_s": args.batch * args.seq_len / min(timed),
                      "loss": loss.item(), "torch": torch.__version__,
                      "parameters": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
