#!/usr/bin/python3
# The PyTorch peer of the training-step benchmarks: the seed MLP (784→256 relu→128 relu→10
# softmax) and the conv nets of bench/src/conv.ts, SGD, categorical cross-entropy, on the same
# batches as the tfjs variants. It runs as a
# server so the Node side can interleave its rounds with the tfjs ones: one JSON request per line
# on stdin, one JSON reply per line on stdout.
#   {"cmd": "info"}                          → versions, threads, BLAS
#   {"cmd": "data", "path": p, "n": n}       → load n examples (784 f32 pixels, then 10 f32 one-hot)
#   {"cmd": "steps", "batch": b, "count": k} → times k training steps, per-step ms
#       optional "net": "mlp" (default) | "lesson13" | "midsize", "lr" (default 0.1)
#   {"cmd": "matmul", "n": n, "reps": r}     → GFLOP/s of an n×n·n×n matmul (this machine's peak)
#   {"cmd": "lesson", "dir": d, "trainCount": n, "testCount": m, "batch": b, "steps": k,
#    "evalEvery": e, "adam": {...}, "seed": s}     → lesson 12 in PyTorch: Adam, per-epoch shuffled full
#                                               batches, test accuracy every e steps and at the last
# Run with Debian's /usr/bin/python3 and OMP_WAIT_POLICY=PASSIVE (idle OpenMP threads would spin).
import gzip
import json
import os
import struct
import sys
import time

try:
    import torch
except Exception as e:  # noqa: BLE001 - any import failure means "no peer"
    print(json.dumps({"error": f"import torch failed: {e}"}), flush=True)
    sys.exit(0)

torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "2")))
torch.manual_seed(1)


def blas_library():
    # Which libblas.so.3 the process actually mapped (Debian's alternatives decide).
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line}
        return sorted(libs)
    except OSError:
        return []


class Peer:
    def __init__(self):
        self.xs = None
        self.ys = None
        self.models = {}

    def model(self, net, batch, lr):
        key = (net, batch)
        if key not in self.models:
            nn = torch.nn
            if net == "mlp":
                m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
            elif net == "lesson13":
                m = nn.Sequential(
                    nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(400, 10),
                )
            elif net == "midsize":
                m = nn.Sequential(
                    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(1024, 512), nn.ReLU(), nn.Linear(512, 10),
                )
            else:
                raise ValueError(f"unknown net {net}")
            opt = torch.optim.SGD(m.parameters(), lr=lr)
            self.models[key] = (m, opt, 0)
        return self.models[key]

    def steps(self, batch, count, net="mlp", lr=0.1):
        m, opt, cursor = self.model(net, batch, lr)
        # The conv nets take images, NCHW.
        xs = self.xs if net == "mlp" else self.xs.view(-1, 1, 28, 28)
        n = self.xs.shape[0]
        times = []
        loss_value = None
        for _ in range(count):
            if cursor + batch > n:
                cursor = 0
            x = xs[cursor:cursor + batch]
            y = self.ys[cursor:cursor + batch]
            cursor += batch
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            logits = m(x)
            # softmax + categorical cross-entropy on one-hot targets, as tfjs computes it
            loss = -(y * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
            loss.backward()
            opt.step()
            loss_value = loss.item()  # read back, as every tfjs variant reads its loss
            times.append((time.perf_counter() - t0) * 1000.0)
        self.models[(net, batch)] = (m, opt, cursor)
        return {"ms": times, "loss": loss_value}

    def matmul(self, n, reps):
        a = torch.rand(n, n)
        b = torch.rand(n, n)
        torch.mm(a, b)
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t0)
        return {"gflops": 2.0 * n * n * n / best / 1e9, "n": n}


def read_idx(path):
    # IDX: a big-endian header (magic, then one uint32 per dimension), then uint8 values.
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).view(*shape)


def idx_file(folder, prefix, kind):
    for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz", f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(f"{folder}: no {prefix} {kind} IDX file")


def load_split(folder, prefix, count):
    # As src/api/data.ts: the first `count` examples, pixels / 255, flattened; one-hot float targets.
    images = read_idx(idx_file(folder, prefix, "images"))[:count]
    labels = read_idx(idx_file(folder, prefix, "labels"))[:count].long()
    xs = images.reshape(images.shape[0], -1).float() / 255.0
    ys = torch.nn.functional.one_hot(labels, 10).float()
    return xs, ys


def lesson(req):
    torch.manual_seed(int(req.get("seed", 1)))
    xs, ys = load_split(req["dir"], "train", int(req["trainCount"]))
    txs, tys = load_split(req["dir"], "t10k", int(req["testCount"]))
    m = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    adam = req["adam"]  # the lesson's tfjs Adam settings (tfjs's default epsilon differs from torch's)
    opt = torch.optim.Adam(m.parameters(), lr=float(adam["learningRate"]),
                           betas=(float(adam.get("beta1", 0.9)), float(adam.get("beta2", 0.999))),
                           eps=float(adam.get("epsilon", 1e-7)))
    batch, steps, every = int(req["batch"]), int(req["steps"]), int(req["evalEvery"])
    n = xs.shape[0]
    per_epoch = n // batch
    order = torch.randperm(n)
    accuracy = None
    loss_value = None
    t0 = time.perf_counter()
    for step in range(steps):
        if step > 0 and step % per_epoch == 0:
            order = torch.randperm(n)
        idx = order[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
        x, y = xs[idx], ys[idx]
        opt.zero_grad(set_to_none=True)
        loss = -(y * torch.log_softmax(m(x), dim=1)).sum(dim=1).mean()
        loss.backward()
        opt.step()
        loss_value = loss.item()
        if step % every == 0 or step == steps - 1:
            with torch.no_grad():
                accuracy = (m(txs).argmax(dim=1) == tys.argmax(dim=1)).float().mean().item()
    return {"trainMs": (time.perf_counter() - t0) * 1000.0, "finalTestAccuracy": accuracy, "finalLoss": loss_value,
            "trainImages": n, "testImages": txs.shape[0], "steps": steps}


def main():
    peer = Peer()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        cmd = req.get("cmd")
        try:
            if cmd == "info":
                reply = {
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "blas": blas_library(),
                    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                }
            elif cmd == "data":
                raw = torch.from_file(req["path"], size=req["n"] * 794, dtype=torch.float32).view(req["n"], 794)
                peer.xs = raw[:, :784].contiguous()
                peer.ys = raw[:, 784:].contiguous()
                reply = {"ok": True, "n": req["n"]}
            elif cmd == "steps":
                reply = peer.steps(int(req["batch"]), int(req["count"]), req.get("net", "mlp"), float(req.get("lr", 0.1)))
            elif cmd == "lesson":
                reply = lesson(req)
            elif cmd == "matmul":
                reply = peer.matmul(int(req["n"]), int(req.get("reps", 5)))
            elif cmd == "quit":
                break
            else:
                reply = {"error": f"unknown command {cmd}"}
        except Exception as e:  # noqa: BLE001 - reported to the Node side
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
