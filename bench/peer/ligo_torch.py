#!/usr/bin/env python3
"""LiGO growth of a GPT-2, written plainly in PyTorch: the peer that bench/real.ts runs beside ligo.

The paper's operator as ligo's `--operator dense` builds it: a dense residual-stream matrix per side
(shared by every layer), per large layer a heads matrix per side for q, k and v (kron with the
identity on head_dim) and a dense FFN matrix per side, and a depth matrix per parameter kind. Each
step materializes every grown weight (depth mix, then B_out W B_in^T), runs the grown GPT-2 on a
batch, backpropagates with autograd (no recomputation) and takes an AdamW step on the operator.
Weights and tokens are random: speed and memory do not depend on them.

Prints one JSON line: step seconds, peak RSS, operator parameters and the sgemm rate measured here.
Needs Debian's python3-torch (apt-get install python3-torch); not a dependency of ligo.

--device cuda (default cpu) runs it on a GPU: the weights and the operator are made on the CPU
exactly as there, then moved to the device, as is each batch; the GPU is synchronized before each
clock reading, and the sgemm rate is measured at 4096 (float32: TF32 stays off, torch's default).
Without a CUDA device it exits 3 with one line on stderr.
"""
import argparse
import json
import math
import os
import resource
import time

import torch
import torch.nn.functional as F


def synchronize(device):
    """Waits for the GPU's queued work, so that a clock reading counts it (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def sgemm_rate(n=1024, repeats=4, device=torch.device("cpu")):
    a, b = torch.randn(n, n).to(device), torch.randn(n, n).to(device)
    if device.type == "cuda":
        torch.mm(a, b)  # the first product on a GPU also starts cuBLAS
    best = math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def small_model(cfg):
    d, layers, vocab, positions = cfg["n_embd"], cfg["n_layer"], cfg["vocab_size"], cfg["n_positions"]
    normal = lambda *shape: torch.randn(*shape) * 0.02
    per_layer = {
        "ln_1.weight": lambda: torch.ones(d), "ln_1.bias": lambda: torch.zeros(d),
        "attn.c_attn.weight": lambda: normal(d, 3 * d), "attn.c_attn.bias": lambda: torch.zeros(3 * d),
        "attn.c_proj.weight": lambda: normal(d, d), "attn.c_proj.bias": lambda: torch.zeros(d),
        "ln_2.weight": lambda: torch.ones(d), "ln_2.bias": lambda: torch.zeros(d),
        "mlp.c_fc.weight": lambda: normal(d, 4 * d), "mlp.c_fc.bias": lambda: torch.zeros(4 * d),
        "mlp.c_proj.weight": lambda: normal(4 * d, d), "mlp.c_proj.bias": lambda: torch.zeros(d),
    }
    stacked = {name: torch.stack([make() for _ in range(layers)]) for name, make in per_layer.items()}
    return {"wte": normal(vocab, d), "wpe": normal(positions, d), "ln_f.weight": torch.ones(d), "ln_f.bias": torch.zeros(d)}, stacked


class DenseLigo(torch.nn.Module):
    """The width and depth operators, every one a trained dense matrix (heads ones kron'd with I)."""

    def __init__(self, d, D, heads_small, heads_large, layers_small, layers_large, kinds):
        super().__init__()
        p = lambda *shape: torch.nn.Parameter(torch.randn(*shape) * 0.01)
        self.hd = d // heads_small
        self.width = torch.nn.ParameterDict({"out": p(D, d), "in": p(D, d)})
        self.heads = torch.nn.ParameterList([p(heads_large, heads_small) for _ in range(layers_large * 3 * 2)])
        self.ffn = torch.nn.ParameterList([p(4 * D, 4 * d) for _ in range(layers_large * 2)])
        self.depth = torch.nn.ParameterDict({k.replace(".", "_"): p(layers_large, layers_small) for k in kinds})

    def head(self, layer, which, side):
        m = self.heads[(layer * 3 + which) * 2 + side]
        return torch.kron(m, torch.eye(self.hd, device=m.device))

    def grow_layer(self, stacked, l):
        mix = {k: torch.einsum("j,j...->...", self.depth[k.replace(".", "_")][l], v) for k, v in stacked.items()}
        w_in, w_out = self.width["in"], self.width["out"]
        qkv_out = [self.head(l, i, 0) for i in range(3)]
        attn_w = torch.cat([w_in @ part @ b.T for part, b in zip(mix["attn.c_attn.weight"].split(mix["attn.c_attn.weight"].shape[1] // 3, 1), qkv_out)], 1)
        attn_b = torch.cat([b @ part for part, b in zip(mix["attn.c_attn.bias"].split(mix["attn.c_attn.bias"].shape[0] // 3), qkv_out)])
        f_out, f_in = self.ffn[2 * l], self.ffn[2 * l + 1]
        return {
            "ln_1.weight": w_out @ mix["ln_1.weight"], "ln_1.bias": w_out @ mix["ln_1.bias"],
            "attn.c_attn.weight": attn_w, "attn.c_attn.bias": attn_b,
            "attn.c_proj.weight": self.head(l, 2, 1) @ mix["attn.c_proj.weight"] @ w_out.T, "attn.c_proj.bias": w_out @ mix["attn.c_proj.bias"],
            "ln_2.weight": w_out @ mix["ln_2.weight"], "ln_2.bias": w_out @ mix["ln_2.bias"],
            "mlp.c_fc.weight": w_in @ mix["mlp.c_fc.weight"] @ f_out.T, "mlp.c_fc.bias": f_out @ mix["mlp.c_fc.bias"],
            "mlp.c_proj.weight": f_in @ mix["mlp.c_proj.weight"] @ w_out.T, "mlp.c_proj.bias": w_out @ mix["mlp.c_proj.bias"],
        }


def gpt2_loss(glob, layer_weights, ids, heads):
    B, T = ids.shape
    x = glob["wte"][ids] + glob["wpe"][:T]
    mask = torch.full((T, T), float("-inf"), device=ids.device).triu(1)
    for w in layer_weights():
        C = x.shape[-1]
        h = F.layer_norm(x, (C,), w["ln_1.weight"], w["ln_1.bias"])
        q, k, v = (h @ w["attn.c_attn.weight"] + w["attn.c_attn.bias"]).split(C, -1)
        q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(C // heads) + mask, -1)
        x = x + (att @ v).transpose(1, 2).reshape(B, T, C) @ w["attn.c_proj.weight"] + w["attn.c_proj.bias"]
        h = F.layer_norm(x, (C,), w["ln_2.weight"], w["ln_2.bias"])
        x = x + F.gelu(h @ w["mlp.c_fc.weight"] + w["mlp.c_fc.bias"], approximate="tanh") @ w["mlp.c_proj.weight"] + w["mlp.c_proj.bias"]
    x = F.layer_norm(x, (x.shape[-1],), glob["ln_f.weight"], glob["ln_f.bias"])
    logits = x @ glob["wte"].T
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="the source GPT-2 config.json as JSON")
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--width", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=1)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    a = ap.parse_args()
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"ligo_torch.py: torch {torch.__version__} has no CUDA device (built for CUDA {torch.version.cuda})", file=os.sys.stderr)
        raise SystemExit(3)
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    cfg = json.loads(a.source)
    d, D = cfg["n_embd"], a.width
    heads_small = cfg["n_head"]
    heads_large = D // (d // heads_small)
    glob_small, stacked = small_model(cfg)
    glob_small = {k: v.to(device) for k, v in glob_small.items()}
    stacked = {k: v.to(device) for k, v in stacked.items()}
    op = DenseLigo(d, D, heads_small, heads_large, cfg["n_layer"], a.layers, stacked.keys()).to(device)
    opt = torch.optim.AdamW(op.parameters(), lr=a.lr, weight_decay=0)
    rate = sgemm_rate(4096, device=device) if device.type == "cuda" else sgemm_rate()
    steps = []
    for _ in range(a.steps):
        synchronize(device)
        start = time.perf_counter()
        ids = torch.randint(0, cfg["vocab_size"], (a.batch_size, a.seq_len)).to(device)
        glob = {"wte": glob_small["wte"] @ op.width["in"].T, "wpe": glob_small["wpe"] @ op.width["out"].T,
                "ln_f.weight": op.width["out"] @ glob_small["ln_f.weight"], "ln_f.bias": op.width["out"] @ glob_small["ln_f.bias"]}
        loss = gpt2_loss(glob, lambda: (op.grow_layer(stacked, l) for l in range(a.layers)), ids, heads_large)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(op.parameters(), 1.0)
        opt.step()
        synchronize(device)
        steps.append(time.perf_counter() - start)
        print(f"  peer step {len(steps)}/{a.steps}: {steps[-1]:.1f} s, loss {loss.item():.3f}", file=os.sys.stderr, flush=True)
    print(json.dumps({
        "stepSeconds": steps,
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "operatorParameters": sum(p.numel() for p in op.parameters()),
        "sgemmFlops": rate,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "batchSize": a.batch_size,
        "seqLen": a.seq_len,
        **({"gpu": torch.cuda.get_device_name(device), "maxGpuBytes": torch.cuda.max_memory_allocated(device), "tf32": getattr(torch.backends.cuda.matmul, "allow_tf32", None)} if device.type == "cuda" else {}),
    }))


if __name__ == "__main__":
    main()
