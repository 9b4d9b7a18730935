"""Small torch helpers shared by the torch models: device choice and deterministic seeding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np


def pick_device(device: str = "auto") -> Any:
    """CUDA when present (and asked for 'auto'), otherwise CPU."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def torch_generator(seed: int, device: Any) -> Any:
    """A seeded generator so two fits with one seed are identical."""
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


@contextmanager
def torch_threads(n: int = 1) -> Iterator[None]:
    """Train small-batch models with ``n`` intra-op threads, restoring the setting afterwards.

    Embedding models with batches of a few thousand rows gain nothing from more
    threads, and OpenMP spin-waiting makes them 10x slower when other processes
    (or the UMAP worker) share the cores. Measured: 10 BPR epochs on ML-100k took
    52 s with 2 threads under load vs 4 s with 1.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(n, previous)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def adam(parameters: list[Any], lr: float) -> Any:
    """Adam with the fused kernel: every step updates whole embedding tables, and fused is about 4x faster than
    the default multi-tensor loop on CPU (measured: 8 vs 34 ms per step for 70k x 64 embeddings)."""
    import torch

    return torch.optim.Adam(parameters, lr=lr, fused=True)


def write_rows(table: Any, rows: Any, values: Any) -> None:
    """``table[rows] = values`` for distinct ``rows``: numpy's row assignment on CPU (``index_copy_`` copies row by
    row there: 88 vs 234 us for 3,000 rows of 64 floats, measured), ``index_copy_`` elsewhere."""
    if table.device.type == "cpu":
        table.numpy()[rows.numpy()] = values.numpy()
    else:
        table.index_copy_(0, rows, values)


@dataclass
class TouchedRows:
    """The rows of one table read for a step (see :meth:`RowAdam.touch`, :meth:`DenseAdam.touch`)."""

    table: int  # which of the optimiser's tables
    unique: Any  # distinct row indices (DenseAdam: the rows as requested)
    inverse: Any  # position in ``unique`` of each requested row (None: ``unique`` is as requested)
    values: Any  # current values, moments: one row per entry of ``unique``
    first: Any
    second: Any

    def requested(self) -> Any:
        """The values of the rows as requested (repeats included)."""
        return self.values if self.inverse is None else self.values.index_select(0, self.inverse)


# Tables with at most this many rows in all (users + items) train with DenseAdam, larger ones with RowAdam.
DENSE_ADAM_MAX_ROWS = 32_768


def row_optimiser(tables: list[Any], lr: float) -> RowAdam | DenseAdam:
    """Adam for embedding tables with the cheaper bookkeeping for their size; both follow dense Adam's trajectory.

    Measured per BPR epoch (CPU-s, dense vs row): ML-100k (2.6k rows) 0.050 vs 0.064, 1M set (10k rows) 0.65 vs
    0.95, 5M (70k rows) 10.5 vs 6.9, 10M (125k rows) 36 vs 16; the crossover is near 30k rows at batch 2,048.
    """
    if sum(len(t) for t in tables) <= DENSE_ADAM_MAX_ROWS:
        return DenseAdam(tables, lr)
    return RowAdam(tables, lr)


class DenseAdam:
    """torch's fused Adam over whole tables behind :class:`RowAdam`'s touch / step / flush (for small tables)."""

    def __init__(self, tables: list[Any], lr: float):
        import torch

        self.tables = tables
        self.parameters = [torch.nn.Parameter(t) for t in tables]  # the same storage: steps update ``tables``
        self.optimiser = adam(self.parameters, lr)

    def touch(self, k: int, rows: Any) -> TouchedRows:
        """Table k's ``rows`` (repeats allowed) as they are now."""
        return TouchedRows(k, rows, None, self.tables[k].index_select(0, rows), None, None)

    def step(self, updates: list[tuple[TouchedRows, Any]]) -> None:
        """One Adam step over every table; rows absent from ``updates`` have a zero gradient, as in autograd."""
        import torch

        gradients = [torch.zeros_like(t) for t in self.tables]
        for rows, grads in updates:
            gradients[rows.table].index_add_(0, rows.unique, grads)
        for parameter, gradient in zip(self.parameters, gradients, strict=True):
            parameter.grad = gradient
        self.optimiser.step()

    def flush(self) -> None:
        """Nothing to bring up to date: every step updated every row."""


def coast_sums(betas: tuple[float, float], size: int) -> np.ndarray:
    """``H[t] = sum_{s >= 1} q^s g(t + s)`` for t < ``size`` (float64), ``q = beta1 / sqrt(beta2)`` and ``g`` Adam's
    bias corrections: the coasting factor of a row idle from step t0 for ``gap`` steps is
    ``H[t0] - q^gap H[t0 + gap]`` (see :class:`RowAdam`; the compiled BPR step reads the same table)."""
    from scipy.signal import lfilter

    beta1, beta2 = betas
    q = beta1 / np.sqrt(beta2)
    tail = int(np.log(1e-17) / np.log(q)) + 1  # terms beyond this are below float64 precision
    t = np.arange(1, size + tail + 1, dtype=np.float64)
    g = np.sqrt(1 - beta2**t) / (1 - beta1**t)
    # H[t] = q * (g(t + 1) + H[t + 1]): a first-order recursion run backwards from ~0 beyond the tail
    sums = lfilter([q], [1.0, -q], g[::-1])[::-1]
    return np.ascontiguousarray(sums[:size])


class RowAdam:
    """Adam over embedding tables that touches only the rows in the batch, yet follows dense Adam.

    Why: dense Adam updates every row of every table at every step, so a BPR step costs O(users + items) however
    small the batch (measured: Adam was 2.6 of a 5.2 ms step at 5M interactions, 70k x 64 tables; the step was
    9.2 ms at 10M, 125k rows). Here a step costs O(rows in the batch): 3.9-4.2 ms at 10M.

    Same trajectory as dense Adam: in dense Adam a row without gradient still moves (its first moment decays by
    beta1 and keeps pushing it, the second by beta2). Those moves depend only on the row's moments and the step
    numbers, so they are applied in closed form when the row is next touched ("catch-up") and by :meth:`flush`
    before the tables are read: a row idle since step ``t0`` moves by ``-lr * m / sqrt(v) * S`` with
    ``S = sum_s q^s g(t0 + s)``, ``q = beta1 / sqrt(beta2)`` and ``g`` the bias corrections (a precomputed table),
    then ``m *= beta1^gap``, ``v *= beta2^gap``. The only difference from dense Adam is eps in those coasting moves
    (1e-8 against sqrt(v) >= 1e-6 here). Plain "lazy" Adam (moments frozen while idle, as TensorFlow's LazyAdam or
    torch's SparseAdam) moved rarely seen rows about 10x less: at 5M interactions validation NDCG@10 was still
    rising after 13 epochs. torch's SparseAdam with sparse gradients was also slower than dense Adam on CPU (5.4
    vs 5.0 ms per step at 5M); this uses dense row ops (``index_select`` / ``index_copy_``; CPU advanced indexing
    and ``index_add_`` were 3-8x slower).
    """

    def __init__(self, tables: list[Any], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        import torch

        self.tables = tables
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.moments = [(torch.zeros_like(t), torch.zeros_like(t)) for t in tables]
        self.last = [torch.zeros(len(t), dtype=torch.int64, device=t.device) for t in tables]  # last step applied
        self.steps = 0
        self._coast = torch.zeros(0, dtype=torch.float64)

    def coast_sums(self, until: int) -> Any:
        """:func:`coast_sums` for t < ``until`` at least, on the tables' device (float64)."""
        import torch

        if len(self._coast) < until:
            size = max(until, 2 * len(self._coast), 1024)
            self._coast = torch.as_tensor(coast_sums(self.betas, size), device=self.tables[0].device)
        return self._coast

    def _catch_up(self, k: int, rows: Any, until: int) -> tuple[Any, Any, Any]:
        """Table k's distinct ``rows`` as (values, m, v) with their idle steps up to ``until`` applied (``last`` is
        updated; the caller stores the rows)."""
        import torch

        beta1, beta2 = self.betas
        first, second = self.moments[k]
        last = self.last[k].index_select(0, rows)
        gap = (until - last).to(torch.float64)
        coast = self.coast_sums(until + 1)
        factor = coast.index_select(0, last) - torch.pow(beta1 / np.sqrt(beta2), gap) * coast[until]
        m, v = first.index_select(0, rows), second.index_select(0, rows)
        values = self.tables[k].index_select(0, rows)
        scale = factor.to(values.dtype).mul_(-self.lr).unsqueeze(1)
        values.addcmul_(scale, m / v.sqrt().add_(self.eps))
        m.mul_(torch.pow(beta1, gap).to(m.dtype).unsqueeze(1))
        v.mul_(torch.pow(beta2, gap).to(v.dtype).unsqueeze(1))
        self.last[k].index_fill_(0, rows, until)
        return values, m, v

    def _store(self, k: int, rows: Any, values: Any, m: Any, v: Any) -> None:
        first, second = self.moments[k]
        write_rows(first, rows, m)
        write_rows(second, rows, v)
        write_rows(self.tables[k], rows, values)

    def touch(self, k: int, rows: Any) -> TouchedRows:
        """Table k's ``rows`` (repeats allowed) as dense Adam has them now, for this step's gradients and ``step``.

        Each distinct row is read once, brought up to date and kept here until :meth:`step` writes it back.
        """
        import torch

        unique, inverse = torch.unique(rows, return_inverse=True)
        values, m, v = self._catch_up(k, unique, self.steps)
        return TouchedRows(k, unique, inverse, values, m, v)

    def step(self, updates: list[tuple[TouchedRows, Any]]) -> None:
        """One Adam step: ``updates`` = (rows from :meth:`touch` this step, one gradient per requested row); the
        gradients of a repeated row are summed. Rows not touched are left for their next touch or :meth:`flush`."""
        import torch

        beta1, beta2 = self.betas
        self.steps += 1
        correction1, correction2 = 1 - beta1**self.steps, 1 - beta2**self.steps
        for rows, grads in updates:
            grad = torch.zeros_like(rows.values).scatter_add_(0, rows.inverse.unsqueeze(1).expand_as(grads), grads)
            m = rows.first.mul_(beta1).add_(grad, alpha=1 - beta1)
            v = rows.second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denominator = v.div(correction2).sqrt_().add_(self.eps)
            values = rows.values.addcdiv_(m, denominator, value=-self.lr / correction1)
            self._store(rows.table, rows.unique, values, m, v)
            self.last[rows.table].index_fill_(0, rows.unique, self.steps)

    def flush(self) -> None:
        """Bring every row up to the current step (as dense Adam would have it): call before reading the tables."""
        import torch

        for k in range(len(self.tables)):
            rows = torch.nonzero(self.last[k] < self.steps).squeeze(1)
            if len(rows):
                self._store(k, rows, *self._catch_up(k, rows, self.steps))
