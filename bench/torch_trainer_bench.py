#!/usr/bin/python3
"""PyTorch peer for bench/trainer_bench.cc: training throughput of the same MLP.

784 -> 1000 x 5 -> 10, tanh, softmax + NLL, plain SGD (no momentum), float32,
one thread. Prints one line per batch size: examples/s and GFLOP/s, where one
example costs 6 * (number of weights) flops (forward 2, backward 4), both per
second of CPU time of this process (robust to a loaded machine, like Google
Benchmark's default) and per second of wall time.
Usage: bench/torch_trainer_bench.py [--batches 10,32,128] [--seconds 3] [--repeats 3]
"""
import argparse
import time

import torch


def build(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", default="10,32,128")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    sizes = [784, 1000, 1000, 1000, 1000, 1000, 10]
    weights = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    flops_per_example = 6.0 * weights
    print(f"torch {torch.__version__} threads={torch.get_num_threads()} "
          f"blas={torch.__config__.show().count('BLAS_INFO=generic') and 'generic(libblas.so.3)' or 'other'}")
    for batch in [int(b) for b in args.batches.split(",")]:
        model = build(sizes)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        # A fixed pool of inputs in [-1, 1], as a Shapeset-like stream would give.
        pool = torch.rand(64, batch, 784) * 2 - 1
        labels = torch.randint(0, 10, (64, batch))

        def step(i):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(pool[i % 64]), labels[i % 64])
            loss.backward()
            opt.step()

        for i in range(10):  # warm-up
            step(i)
        best_cpu = best_wall = 0.0
        for _ in range(args.repeats):
            steps = 0
            start, start_cpu = time.perf_counter(), time.process_time()
            while time.perf_counter() - start < args.seconds:
                step(steps)
                steps += 1
            best_wall = max(best_wall, steps * batch / (time.perf_counter() - start))
            best_cpu = max(best_cpu, steps * batch / (time.process_time() - start_cpu))
        print(f"torch batch={batch:4d} cpu: examples/s={best_cpu:9.1f} "
              f"GFLOP/s={best_cpu * flops_per_example / 1e9:6.1f}   "
              f"wall: examples/s={best_wall:9.1f} GFLOP/s={best_wall * flops_per_example / 1e9:6.1f}",
              flush=True)


if __name__ == "__main__":
    main()
