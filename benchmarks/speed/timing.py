"""How the speed studies time things: the encoder sizes they compare, this machine's dense matmul ceiling, FLOPs
counted on the real call, and repeated wall-clock timings after a warm-up."""

import time

import torch
from torch.utils.flop_counter import FlopCounterMode

# The encoder sizes timed: TimeMAE's own (64 x 8), all-MiniLM-L6-v2's (384 x 6) and bert-base's (768 x 12).
ENCODER_SIZES = {
    "native": dict(hidden_size=64, num_hidden_layers=8, num_attention_heads=4, intermediate_size=256),
    "minilm-l6": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536),
    "bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}


def matmul_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Dense fp32 matmul throughput of this machine right now: the ceiling the model's GFLOP/s is compared with."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def count_flops(function) -> int:
    """FLOPs of one call of `function`, counted by torch on the real computation."""
    with FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops()


def timed(function, repeats: int, warmup: int, clock=time.perf_counter) -> list[float]:
    """Seconds of each of `repeats` calls (by `clock`), after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = clock()
        function()
        times.append(clock() - start)
    return times
