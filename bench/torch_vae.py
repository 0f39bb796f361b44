"""The PyTorch reference for `npm run bench`: the same 784-512-32 MLP VAE (ReLU, Bernoulli
likelihood, Glorot-uniform weights, zero biases), batch 128, Adam(lr=1e-3), one reparameterized
sample, loss = -ELBO averaged over the batch; the step also computes the gradient norm and reads
the loss back, as the TF.js trainer does. Prints one JSON line.

    python3 bench/torch_vae.py --steps 60 [--warmup 3] [--batch 128] [--threads N]
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Vae(nn.Module):
    def __init__(self, d=784, h=512, z=32):
        super().__init__()
        self.enc1 = nn.Linear(d, h)
        self.enc2 = nn.Linear(h, 2 * z)
        self.dec1 = nn.Linear(z, h)
        self.dec2 = nn.Linear(h, d)
        for m in (self.enc1, self.enc2, self.dec1, self.dec2):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        self.z = z

    def forward(self, x):
        mu, log_var = self.enc2(F.relu(self.enc1(x))).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        logits = self.dec2(F.relu(self.dec1(z)))
        log_lik = (x * logits - F.softplus(logits)).sum(-1)
        kl_per_dim = 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)
        recon = -log_lik.mean()
        kl = kl_per_dim.mean(0).sum()
        return recon + kl, recon, kl


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where PyTorch was built with it")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    model = Vae().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [(torch.rand(args.batch, 784) < 0.13).float().to(device) for _ in range(8)]
    times = []
    losses = []
    for step in range(args.warmup + args.steps):
        started = time.perf_counter()
        x = batches[step % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss, _, _ = model(x)
        loss.backward()
        grad_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
        opt.step()
        values = torch.stack([loss.detach(), grad_norm]).tolist()
        ms = (time.perf_counter() - started) * 1000
        losses.append(values[0])
        if step >= args.warmup:
            times.append(ms)
    ordered = sorted(times)
    median = ordered[len(ordered) // 2]
    print(json.dumps({
        "backend": "pytorch" if args.device == "cpu" else f"pytorch-{args.device}",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "batchSize": args.batch,
        "samplesPerSec": args.batch * 1000 / median,
        "meanSamplesPerSec": args.batch * 1000 * len(times) / sum(times),
        "medianStepMs": median,
        "losses": losses,
        "maxRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
