"""Synthetic univariate series, streamed: a corpus to pre-train one TimeMAE encoder for everyone's data.

No large, varied collection of real series is free to ship, and a small data set has too little in it to pre-train on.
MantisV2 (Feofanov et al., 2025) showed that an encoder pre-trained on synthetic series alone (CauKer: Gaussian-process
samples from a bank of composed kernels, mixed through random structural causal models) reads real data as well as one
pre-trained on millions of real series. This module generates such a corpus on the fly, with a few more families of
shapes that real sensors show (sinusoid mixtures, autoregressive noise, random walks, square and sawtooth waves,
piecewise trends, spike trains), each at a random scale and offset, some stretched from a short series the way a model
that resizes its inputs stretches a short one.

Series `i` of a stream is a pure function of `(seed, stream, i)`: a stream can start anywhere (a resumed pre-training
continues where it stopped without regenerating what it already read) and any process or data-loader worker can
generate any part of it. Nothing is written to disk, and memory stays flat: the only state is a small bank of kernel
Cholesky factors, redrawn every `kernel_bank_block` series.
"""

from dataclasses import asdict, dataclass, field

import datasets
import numpy as np
from scipy import signal
from threadpoolctl import threadpool_limits

SYNTHETIC_DATASET_NAME = "synthetic"
# The families of shapes and their default shares of the corpus.
DEFAULT_FAMILY_WEIGHTS = {
    "gaussian_process": 0.30,
    "causal_mixture": 0.20,
    "sinusoids": 0.10,
    "autoregressive": 0.10,
    "random_walk": 0.08,
    "square_sawtooth": 0.07,
    "piecewise_trend": 0.08,
    "spikes": 0.07,
}
BASE_KERNELS = ("rbf", "periodic", "linear", "rational_quadratic", "white_noise")
# Separate random streams of one seed: pre-training windows and validation windows never coincide.
STREAMS = {"train": 0, "validation": 1}


@dataclass
class SyntheticSeriesConfig:
    """
    What the synthetic corpus holds.

    Args:
        length: steps of every series (the model's `context_length`; 512 as Mantis).
        seed: the corpus' seed; with the stream and a series' index it fixes the series.
        family_weights: share of each family of shapes (normalised; see `DEFAULT_FAMILY_WEIGHTS`).
        kernel_bank_size: composed kernels in the Gaussian-process bank at any time.
        kernel_bank_block: series drawn from one bank before the next bank is drawn.
        stretch_probability: share of series sampled at 8 to `length` points and linearly interpolated back to
            `length` (what a short real series looks like after the model resized it).
        mixture_probability: share of series that are the sum of two families.
    """

    length: int = 512
    seed: int = 0
    family_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FAMILY_WEIGHTS))
    kernel_bank_size: int = 32
    kernel_bank_block: int = 4096
    stretch_probability: float = 0.3
    mixture_probability: float = 0.25

    def __post_init__(self):
        if not isinstance(self.length, int) or self.length < 8:
            raise ValueError(f"`length` must be an integer of at least 8 steps, got {self.length!r}.")
        unknown = sorted(set(self.family_weights) - set(DEFAULT_FAMILY_WEIGHTS))
        if unknown:
            raise ValueError(
                f"Unknown families {unknown} in `family_weights`: choose among {sorted(DEFAULT_FAMILY_WEIGHTS)}."
            )
        weights = np.array(list(self.family_weights.values()), dtype=float)
        if not len(weights) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"`family_weights` must be non-negative with a positive sum, got {self.family_weights}.")
        for name in ("stretch_probability", "mixture_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"`{name}` must lie in [0, 1], got {getattr(self, name)}.")
        for name in ("kernel_bank_size", "kernel_bank_block"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {getattr(self, name)}.")


class SyntheticSeriesGenerator:
    """
    Generates series `index` of a stream: `generator(index)` is a float32 array of `config.length` steps, the same
    on every machine and process for the same config, stream and index.
    """

    def __init__(self, config: SyntheticSeriesConfig | None = None, stream: str = "train"):
        if stream not in STREAMS:
            raise ValueError(f"`stream` must be one of {sorted(STREAMS)}, got {stream!r}.")
        self.config = config or SyntheticSeriesConfig()
        self.stream = stream
        self.time = np.linspace(0.0, 1.0, self.config.length)
        self.distances = self.time[:, None] - self.time[None, :]
        self.families = list(self.config.family_weights)
        weights = np.array([self.config.family_weights[name] for name in self.families], dtype=float)
        self.family_probabilities = weights / weights.sum()
        self._bank_block = None
        self._bank = None

    def __call__(self, index: int) -> np.ndarray:
        rng = np.random.default_rng([self.config.seed, STREAMS[self.stream], index])
        series = self._family_sample(self._pick_family(rng), index, rng)
        if rng.random() < self.config.mixture_probability:
            other = self._family_sample(self._pick_family(rng), index, rng)
            series = standardized(series) + rng.uniform(0.1, 1.0) * standardized(other)
        if rng.random() < self.config.stretch_probability:
            series = self._stretched(series, rng)
        scale = 10.0 ** rng.uniform(-2.0, 3.0)
        offset = scale * rng.normal(0.0, 1.0) * 10.0 ** rng.uniform(-1.0, 1.0)
        series = standardized(series) * scale + offset
        return series.astype(np.float32)

    def _pick_family(self, rng: np.random.Generator) -> str:
        return self.families[rng.choice(len(self.families), p=self.family_probabilities)]

    def _family_sample(self, family: str, index: int, rng: np.random.Generator) -> np.ndarray:
        return getattr(self, f"_{family}")(index, rng)

    # -- the families --------------------------------------------------------------------------------------------

    def _gaussian_process(self, index: int, rng: np.random.Generator) -> np.ndarray:
        bank = self._kernel_bank(index)
        return bank[rng.integers(len(bank))] @ rng.standard_normal(self.config.length)

    def _causal_mixture(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """CauKer's mixing: Gaussian-process roots, each further node a random activation of a weighted sum of its
        parents plus noise; the series is the last node."""
        num_nodes = int(rng.integers(3, 7))
        nodes = []
        for node in range(num_nodes):
            parents = [p for p in range(node) if rng.random() < 0.5]
            if not parents:
                nodes.append(standardized(self._gaussian_process(index, rng)))
                continue
            mixed = sum(rng.normal(0.0, 1.0) * nodes[p] for p in parents) + rng.normal(0.0, 0.5)
            activated = ACTIVATIONS[rng.integers(len(ACTIVATIONS))](mixed)
            nodes.append(standardized(activated + rng.uniform(0.0, 0.2) * rng.standard_normal(self.config.length)))
        return nodes[-1]

    def _sinusoids(self, index: int, rng: np.random.Generator) -> np.ndarray:
        count = int(rng.integers(1, 6))
        cycles = 10.0 ** rng.uniform(np.log10(0.5), np.log10(self.config.length / 4), size=count)
        amplitudes = 10.0 ** rng.uniform(-1.0, 0.0, size=count)
        phases = rng.uniform(0.0, 2 * np.pi, size=count)
        waves = amplitudes[:, None] * np.sin(2 * np.pi * cycles[:, None] * self.time[None, :] + phases[:, None])
        return waves.sum(axis=0) + self._noise(rng)

    def _autoregressive(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """A stable AR(2) process: its characteristic roots have modulus < 1."""
        modulus, angle = rng.uniform(0.3, 0.99), rng.uniform(0.0, np.pi)
        coefficients = [1.0, -2.0 * modulus * np.cos(angle), modulus**2]
        burn_in = 100
        noise = rng.standard_normal(self.config.length + burn_in)
        return signal.lfilter([1.0], coefficients, noise)[burn_in:]

    def _random_walk(self, index: int, rng: np.random.Generator) -> np.ndarray:
        steps = rng.standard_normal(self.config.length) + rng.normal(0.0, 0.2)
        return np.cumsum(steps)

    def _square_sawtooth(self, index: int, rng: np.random.Generator) -> np.ndarray:
        phase = 2 * np.pi * rng.uniform(1.0, 30.0) * self.time + rng.uniform(0.0, 2 * np.pi)
        if rng.random() < 0.5:
            wave = signal.square(phase, duty=rng.uniform(0.1, 0.9))
        else:
            wave = signal.sawtooth(phase, width=rng.uniform(0.0, 1.0))
        return wave + self._noise(rng)

    def _piecewise_trend(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """Continuous piecewise-linear trend, sometimes with level shifts at the change points."""
        count = int(rng.integers(1, 7))
        knots = np.sort(rng.uniform(0.0, 1.0, size=count))
        slopes = rng.normal(0.0, 1.0, size=count + 1)
        trend = slopes[0] * self.time
        for knot, slope_change in zip(knots, np.diff(slopes)):
            trend = trend + slope_change * np.clip(self.time - knot, 0.0, None)
        if rng.random() < 0.3:
            shifts = rng.normal(0.0, 0.5, size=count)
            trend = trend + (shifts[None, :] * (self.time[:, None] >= knots[None, :])).sum(axis=1)
        return trend + self._noise(rng)

    def _spikes(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """Sparse events, each a decaying pulse, on a noisy baseline."""
        length = self.config.length
        events = np.zeros(length)
        count = max(1, rng.poisson(rng.uniform(1.0, 20.0)))
        events[rng.integers(0, length, size=count)] = rng.lognormal(0.0, 0.5, size=count) * rng.choice([-1, 1])
        decay = rng.uniform(1.0, 20.0)
        pulse = np.exp(-np.arange(int(5 * decay) + 1) / decay)
        return np.convolve(events, pulse)[:length] + self._noise(rng)

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _noise(self, rng: np.random.Generator) -> np.ndarray:
        return 10.0 ** rng.uniform(-3.0, -0.5) * rng.standard_normal(self.config.length)

    def _stretched(self, series: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The series seen at 8 to `length` points, then linearly interpolated back to `length` steps."""
        points = int(np.exp(rng.uniform(np.log(8), np.log(self.config.length))))
        coarse_time = np.linspace(0.0, 1.0, points)
        return np.interp(self.time, coarse_time, np.interp(coarse_time, self.time, series))

    def _kernel_bank(self, index: int) -> list[np.ndarray]:
        """The Cholesky factors of the composed kernels that series `index` draws from (one bank per block)."""
        block = index // self.config.kernel_bank_block
        if block != self._bank_block:
            rng = np.random.default_rng([self.config.seed, STREAMS[self.stream], block, 1])
            # One BLAS thread: beside a training process, numpy's default threads made a redraw 3-13x slower
            # (benchmarks/results/synthetic_throughput.json), and one thread gives the same factors everywhere.
            with threadpool_limits(limits=1, user_api="blas"):
                self._bank = [self._cholesky(self._composed_kernel(rng)) for _ in range(self.config.kernel_bank_size)]
            self._bank_block = block
        return self._bank

    def _composed_kernel(self, rng: np.random.Generator) -> np.ndarray:
        """One to three base kernels, each with random hyper-parameters, combined by sums and products."""
        kernel = self._base_kernel(rng)
        for _ in range(int(rng.integers(0, 3))):
            other = self._base_kernel(rng)
            kernel = kernel + other if rng.random() < 0.5 else kernel * other
        return kernel

    def _base_kernel(self, rng: np.random.Generator) -> np.ndarray:
        name = BASE_KERNELS[rng.integers(len(BASE_KERNELS))]
        distances = self.distances
        variance = 10.0 ** rng.uniform(-1.0, 0.5)
        if name == "rbf":
            lengthscale = 10.0 ** rng.uniform(-2.5, 0.0)
            return variance * np.exp(-0.5 * (distances / lengthscale) ** 2)
        if name == "periodic":
            period = 10.0 ** rng.uniform(np.log10(4 / self.config.length), np.log10(0.5))
            lengthscale = rng.uniform(0.5, 2.0)
            return variance * np.exp(-2.0 * (np.sin(np.pi * np.abs(distances) / period) / lengthscale) ** 2)
        if name == "linear":
            centre = rng.uniform(0.0, 1.0)
            shifted = self.time - centre
            return variance * (0.1 + shifted[:, None] * shifted[None, :])
        if name == "rational_quadratic":
            lengthscale, alpha = 10.0 ** rng.uniform(-2.0, 0.0), 10.0 ** rng.uniform(-1.0, 1.0)
            return variance * (1.0 + distances**2 / (2.0 * alpha * lengthscale**2)) ** -alpha
        return (10.0 ** rng.uniform(-2.0, -0.5)) * np.eye(self.config.length)

    @staticmethod
    def _cholesky(kernel: np.ndarray) -> np.ndarray:
        """Lower Cholesky factor, with the smallest diagonal jitter that makes the kernel numerically positive."""
        scale = float(np.mean(np.diag(kernel))) or 1.0
        for jitter in (1e-6, 1e-4, 1e-2, 1e-1):
            try:
                return np.linalg.cholesky(kernel + jitter * scale * np.eye(len(kernel))).astype(np.float32)
            except np.linalg.LinAlgError:
                continue
        return np.sqrt(scale) * np.eye(len(kernel), dtype=np.float32)  # white noise: never reached in practice


def standardized(series: np.ndarray) -> np.ndarray:
    """Zero mean, unit standard deviation; a constant series becomes zeros; non-finite values become zeros."""
    series = np.nan_to_num(np.asarray(series, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    centred = series - series.mean()
    std = centred.std()
    return centred / std if std > 1e-12 else centred


ACTIVATIONS = (
    lambda x: x,
    np.tanh,
    lambda x: np.maximum(x, 0.0),
    lambda x: 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))),
    np.sin,
    np.abs,
    lambda x: np.sign(x) * np.square(x),
)


def synthetic_series_features(length: int) -> datasets.Features:
    """The corpus' `datasets` features: `past_values` (length, 1) float32, as every univariate data set here."""
    return datasets.Features({"past_values": datasets.Array2D(shape=(length, 1), dtype="float32")})


def _generate_examples(config: dict, stream: str, start_index: int):
    generator = SyntheticSeriesGenerator(SyntheticSeriesConfig(**config), stream)
    index = start_index
    while True:
        yield {"past_values": generator(index)[:, None]}
        index += 1


def synthetic_series_stream(
    config: SyntheticSeriesConfig | None = None, start_index: int = 0
) -> datasets.IterableDataset:
    """
    An endless `datasets.IterableDataset` of the training stream, series `start_index`, `start_index + 1`, ... with
    one column `past_values` (length, 1).

    It is one shard, read in index order: under `Trainer` with several processes, the main process reads each global
    batch and sends every process its part (accelerate's default for streams), so processes train on different
    series; `dataloader_num_workers=1` moves the generating into a process of its own. (Split by
    `split_dataset_by_node` instead, each process generates the whole stream and keeps every n-th series.)
    """
    config = config or SyntheticSeriesConfig()
    return datasets.IterableDataset.from_generator(
        _generate_examples,
        features=synthetic_series_features(config.length),
        gen_kwargs={"config": asdict(config), "stream": "train", "start_index": start_index},
    )


def synthetic_series_dataset(
    num_series: int, config: SyntheticSeriesConfig | None = None, stream: str = "validation"
) -> datasets.Dataset:
    """The first `num_series` series of `stream` ("validation" by default: never in the training stream), in memory."""
    config = config or SyntheticSeriesConfig()
    generator = SyntheticSeriesGenerator(config, stream)
    windows = np.stack([generator(index) for index in range(num_series)])[:, :, None]
    return datasets.Dataset.from_dict({"past_values": windows}, features=synthetic_series_features(config.length))


__all__ = [
    "SYNTHETIC_DATASET_NAME",
    "SyntheticSeriesConfig",
    "SyntheticSeriesGenerator",
    "synthetic_series_dataset",
    "synthetic_series_stream",
]
