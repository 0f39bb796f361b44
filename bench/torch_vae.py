"""The PyTorch reference for `npm run bench`: the same 784-512-32 MLP VAE (ReLU, Bernoulli
likelihood, Glorot-uniform weights, zero biases), batch 128, Adam(lr=1e-3), one reparameterized
sample, loss = -ELBO averaged over the batch; the step also computes the gradient norm and reads
the loss back, as the TF.js trainer does. Prints one JSON line.

    python3 bench/torch_vae.py --steps 60 [--warmup 3] [--batch 128] [--threads N] [--arch mlp|conv]

--arch conv: the product's conv VAE (ConvVae) instead.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvVae(nn.Module):
    """The product's conv VAE on 28x28x1 (src-main/models/networks.ts): conv 32 k4 s2 'same' -> conv 64
    k4 s2 -> dense 512 -> dense 2z; decoder dense 512 -> dense 7*7*64 -> deconv 32 k4 s2 -> deconv 1 k4
    s2 (logits); ReLU; TF 'same' padding for k4 s2 is 1 on each side here."""

    def __init__(self, h=512, z=32):
        super().__init__()
        self.conv0 = nn.Conv2d(1, 32, 4, 2, 1)
        self.conv1 = nn.Conv2d(32, 64, 4, 2, 1)
        self.enc_dense = nn.Linear(7 * 7 * 64, h)
        self.enc_out = nn.Linear(h, 2 * z)
        self.dec_dense = nn.Linear(z, h)
        self.dec_project = nn.Linear(h, 7 * 7 * 64)
        self.deconv0 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.deconv1 = nn.ConvTranspose2d(32, 1, 4, 2, 1)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        b = x.shape[0]
        h = F.relu(self.conv1(F.relu(self.conv0(x.view(b, 1, 28, 28)))))
        head = self.enc_out(F.relu(self.enc_dense(h.reshape(b, -1))))
        mu, log_var = head.chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        g = F.relu(self.dec_project(F.relu(self.dec_dense(z)))).view(b, 64, 7, 7)
        logits = self.deconv1(F.relu(self.deconv0(g))).reshape(b, -1)
        return elbo_terms(x, logits, mu, log_var)


def elbo_terms(x, logits, mu, log_var):
    log_lik = (x * logits - F.softplus(logits)).sum(-1)
    kl_per_dim = 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)
    recon = -log_lik.mean()
    kl = kl_per_dim.mean(0).sum()
    return recon + kl, recon, kl


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
        return elbo_terms(x, logits, mu, log_var)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where PyTorch was built with it")
    parser.add_argument("--arch", choices=["mlp", "conv"], default="mlp")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    model = (ConvVae() if args.arch == "conv" else Vae()).to(device)
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
        "architecture": args.arch,
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
