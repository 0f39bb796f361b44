"""The PyTorch side of `npm run bench:science`: the workbench's MLP VAE (ReLU, Glorot-uniform
weights, zero biases, Bernoulli likelihood, one reparameterized sample, or the IWAE_k objective)
trained the same way (Adam, batch, epochs, dynamic binarization per batch or grey levels with
BCE as in pytorch/examples vae/main.py) on the very images the workbench run used, which the
bench writes to files: the training images as bytes and the test set as float32 exactly as the
workbench evaluates it. Reports the test ELBO (pytorch/examples' "test loss" is -ELBO), KL,
active units and IWAE_k on the first N test images. Prints one JSON line.

    python3 bench/torch_science.py --train FILE --train-count N --test FILE --test-count M \
        [--binarize] [--epochs 10] [--batch 128] [--lr 1e-3] [--hidden 400] [--latent 20] \
        [--objective elbo|iwae] [--samples 5] [--iwae-k 5000] [--iwae-examples 1000] [--threads 1]
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch_vae  # bench/, the script's own folder, is first on sys.path
import torch.nn.functional as F


class Vae(torch_vae.Vae):
    """bench/torch_vae.py's MLP VAE (same layers, Glorot weights, zero biases) with the estimators this bench reports."""

    def encode(self, x):
        return self.enc2(F.relu(self.enc1(x))).chunk(2, dim=-1)

    def log_lik(self, x, z):
        logits = self.dec2(F.relu(self.dec1(z)))
        return (x * logits - F.softplus(logits)).sum(-1)  # log Bernoulli(x; sigmoid(logits)), BCE's negative

    def log_weights(self, x, k):
        """log p(x|z) + log p(z) - log q(z|x) for k samples per example: [k, batch]."""
        mu, log_var = self.encode(x)
        std = torch.exp(0.5 * log_var)
        eps = torch.randn((k,) + mu.shape)
        z = mu + std * eps
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + math.log(2 * math.pi) + log_var).sum(-1)
        return self.log_lik(x.expand(k, -1, -1), z) + log_pz - log_qz

    def elbo_terms(self, x):
        mu, log_var = self.encode(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        recon = -self.log_lik(x, z)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(-1)
        return recon, kl, mu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--train-count", type=int, required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--test-count", type=int, required=True)
    p.add_argument("--binarize", action="store_true", help="dynamic binarization of every training batch")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--objective", choices=["elbo", "iwae"], default="elbo")
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--iwae-k", type=int, default=5000)
    p.add_argument("--iwae-examples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d = 784
    train = torch.from_numpy(np.fromfile(a.train, dtype=np.uint8, count=a.train_count * d).reshape(a.train_count, d).astype(np.float32) / 255.0)
    test = torch.from_numpy(np.fromfile(a.test, dtype=np.float32, count=a.test_count * d).reshape(a.test_count, d))
    model = Vae(d, a.hidden, a.latent)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    started = time.perf_counter()
    for _ in range(a.epochs):
        order = torch.randperm(a.train_count)
        for b in range(0, a.train_count, a.batch):
            x = train[order[b : b + a.batch]]
            if a.binarize:
                x = torch.bernoulli(x)
            opt.zero_grad(set_to_none=True)
            if a.objective == "iwae":
                lw = model.log_weights(x, a.samples)
                loss = -(torch.logsumexp(lw, 0) - math.log(a.samples)).mean()
            else:
                recon, kl, _ = model.elbo_terms(x)
                loss = (recon + kl).mean()  # the mean over the batch: Adam makes it equivalent to pytorch/examples' sum
            loss.backward()
            opt.step()
    train_seconds = time.perf_counter() - started
    with torch.no_grad():
        recon, kl, mu = model.elbo_terms(test)
        elbo = -(recon + kl)
        active = int((mu.var(0, unbiased=False) > 0.01).sum())  # Cov_x(E_q[z_i]) > 0.01 (Burda et al.)
        n = min(a.iwae_examples, a.test_count)
        iwae = []
        chunk = max(1, 2_000_000 // (d * 50))
        for s in range(0, n, 50):
            x = test[s : min(n, s + 50)]
            lse = None
            for c in range(0, a.iwae_k, chunk):
                part = torch.logsumexp(model.log_weights(x, min(chunk, a.iwae_k - c)), 0)
                lse = part if lse is None else torch.logaddexp(lse, part)
            iwae.append(lse - math.log(a.iwae_k))
        iwae = torch.cat(iwae)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "testElbo": float(elbo.mean()),
        "testElboIwaeSubset": float(elbo[:n].mean()),
        "testKl": float(kl.mean()),
        "activeUnits": active,
        "iwae": float(iwae.mean()),
        "iwaeK": a.iwae_k,
        "iwaeExamples": n,
        "trainSeconds": train_seconds,
        "wallSeconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
