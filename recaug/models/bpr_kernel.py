"""BPR's training step on CPU as one compiled loop: the batch's gradients and Adam on the rows it touches.

Same algorithm as the torch path (:mod:`recaug.core.torch_utils`'s ``RowAdam``: Adam, the batch's rows updated,
the moves dense Adam makes to idle rows applied in closed form when a row is next touched or at ``flush``), so
the trajectory is dense Adam's up to eps in the coasting moves. Why compiled: a torch step is two dozen small
tensor operations (unique, gathers, catch-up, scatter, Adam, writes), each paying dispatch and allocation; at 1M
interactions that was 2.7 ms per step of 2,048 (1.05 CPU-s per epoch, 3.2x ``implicit``'s BPR), where this loop
does the same arithmetic once per touched value.

What made it 2-2.5x faster again (1M: 0.86 -> 0.32 CPU-s per epoch; 3M: 4.6 -> 2.0; ``benchmarks/speed.py
--bpr``): numpy's error model (numba's default checks every division for zero, which kept the per-row square roots
and divisions scalar; now they vectorise), software prefetch of the rows a few triples and rows ahead (each row is
four cache lines in each of four arrays, and beyond a few MB of tables every touch was a cache miss), each row
caught up at its first touch in the batch, next to its use, and the batch's gradients summed in a buffer with a row
per distinct row of the batch (its slot) instead of two more table-sized arrays (3M: 2.2 -> 1.7 CPU-s per epoch).
Since then each row's state lives in one place: a row of ``state`` holds the row's factors, its first and its
second moment side by side (3 x 64 float32, 768 contiguous bytes instead of three 256-byte pieces in three
arrays, in one 2-D array whose rows numba knows to be contiguous, so the row loops stay vectorised), so a touched
row is one run of cache lines that the hardware prefetcher follows and one DRAM page. Same operations, same bytes;
CPU-s per epoch, old -> new side by side at load 2: long-tail 1M (30k users x 20k items) 0.68-0.70 -> 0.36-0.39,
1M 0.33 -> 0.21, 3M 1.72-1.80 -> 1.06. The factor tables themselves are written back at ``flush``. State rows
are ordered by training frequency (``counts``; a relabelling, so the tables are the same bytes): long-tail 1M
0.372-0.397 -> 0.352-0.365 CPU-s per epoch side by side at load 0.7-1.4, no change at 1M and 3M (noise).

Each function is compiled once per process (numba's on-disk cache makes later processes start warm); every loop
is sequential, so a seed gives the same bytes wherever it runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# fastmath (below): the 64-wide dot products and row updates vectorise; the loops stay sequential and the compiled
# code is the same in every process of a machine, so results remain the same bytes however the fits are spread.
# error_model="numpy": a division by zero gives inf/nan instead of raising, so divisions vectorise (none can be
# zero here: eps is added to every denominator).
kernel = njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
AHEAD = 8  # triples (and rows) between a prefetch and its use: about a cache miss's latency of work


@intrinsic
def prefetch(typingctx, array, row, column):
    """Ask the CPU to start loading the cache line holding ``array[row, column]`` (a 2-D array). A hint only: it
    changes no value."""

    def codegen(context, builder, signature, args):
        from llvmlite import ir

        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(context, builder, array_type, view, [args[1], args[2]], wraparound=False)
        byte, int32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, int32, int32, int32]), "llvm.prefetch.p0i8"
        )
        # read, keep in every cache level, data cache
        builder.call(function, [builder.bitcast(address, byte), int32(0), int32(3), int32(1)])
        return context.get_dummy_value()

    return types.void(array, row, column), codegen


@kernel
def prefetch_state(state, row):
    """Prefetch one row of a state array (factors and both moments), line by line (16 float32 per 64-byte line)."""
    for k in range(0, state.shape[1], 16):
        prefetch(state, row, k)  # type: ignore[call-arg]  # typingctx is numba's own


@kernel
def catch_up(row, state, last, until, coast, powers, lr, eps):
    """Bring ``row`` from its last applied step to ``until`` as dense Adam moves an idle row (``powers[gap]`` =
    (q^gap, beta1^gap, beta2^gap)). ``state[row]`` is (factors, first moment, second moment), d values each."""
    start = last[row]
    if start >= until:
        return
    gap = until - start
    factor = coast[start] - powers[gap, 0] * coast[until]
    scale = np.float32(-lr * factor)
    decay1 = np.float32(powers[gap, 1])
    decay2 = np.float32(powers[gap, 2])
    d = state.shape[1] // 3
    for k in range(d):
        m = state[row, d + k]
        v = state[row, 2 * d + k]
        state[row, k] += scale * m / (np.sqrt(v) + np.float32(eps))
        state[row, d + k] = m * decay1
        state[row, 2 * d + k] = v * decay2
    last[row] = until


@kernel
def adam_row(row, state, grad, last, step, lr_t, beta1, beta2, correction2, eps):
    """One Adam step for ``row`` with its summed gradient ``grad`` (its row of the batch's buffer, then zeroed)."""
    b1 = np.float32(beta1)
    b2 = np.float32(beta2)
    c2 = np.float32(correction2)
    d = state.shape[1] // 3
    for k in range(d):
        g = grad[k]
        m = b1 * state[row, d + k] + (np.float32(1.0) - b1) * g
        v = b2 * state[row, 2 * d + k] + (np.float32(1.0) - b2) * g * g
        state[row, d + k] = m
        state[row, 2 * d + k] = v
        state[row, k] -= np.float32(lr_t) * m / (np.sqrt(v / c2) + np.float32(eps))
        grad[k] = 0.0
    last[row] = step


@kernel
def train_epoch(
    users,
    positives,
    negatives,
    batch_size,
    states,
    grads,
    lasts,
    marks,
    slots,
    rows,
    step,
    coast,
    powers,
    lr,
    reg,
    beta1,
    beta2,
    eps,
):
    """Every batch of one epoch; returns the step count after it. ``states`` etc. are (users, items) pairs;
    ``grads`` hold the batch's summed gradients, a row per distinct row of the batch (``slots``: row -> its row)."""
    user_state, item_state = states
    user_grad, item_grad = grads
    d = user_state.shape[1] // 3
    n = len(users)
    for start in range(0, n, batch_size):
        end = min(start + batch_size, n)
        decay = np.float32(2.0 * reg / (end - start))
        scale = np.float32(-1.0 / (end - start))
        count_u = 0
        count_i = 0
        # 1. Per triple: its rows caught up to this step at their first touch in the batch (the tables are not
        # written before Adam, so this equals catching every row up first), then its gradients of
        # -mean(log sigmoid(u . (i - j))) + reg * squared norms / B, summed per row.
        for s in range(start, end):
            if s + AHEAD < end:
                prefetch_state(user_state, users[s + AHEAD])
                prefetch_state(item_state, positives[s + AHEAD])
                prefetch_state(item_state, negatives[s + AHEAD])
            u = users[s]
            i = positives[s]
            j = negatives[s]
            if marks[0][u] != step:
                marks[0][u] = step
                catch_up(u, user_state, lasts[0], step, coast, powers, lr, eps)
                rows[0][count_u] = u
                slots[0][u] = count_u
                count_u += 1
            for item in (i, j):
                if marks[1][item] != step:
                    marks[1][item] = step
                    catch_up(item, item_state, lasts[1], step, coast, powers, lr, eps)
                    rows[1][count_i] = item
                    slots[1][item] = count_i
                    count_i += 1
            su = slots[0][u]
            si = slots[1][i]
            sj = slots[1][j]
            x = np.float32(0.0)
            for k in range(d):
                x += user_state[u, k] * (item_state[i, k] - item_state[j, k])
            coef = scale / (np.float32(1.0) + np.exp(x))  # -sigmoid(-x) / B
            for k in range(d):
                eu = user_state[u, k]
                ei = item_state[i, k]
                ej = item_state[j, k]
                user_grad[su, k] += coef * (ei - ej) + decay * eu
                item_grad[si, k] += coef * eu + decay * ei
                item_grad[sj, k] += decay * ej - coef * eu
        # 2. Adam on the touched rows.
        step += 1
        correction1 = 1.0 - beta1**step
        correction2 = 1.0 - beta2**step
        lr_t = lr / correction1
        for r in range(count_u):
            if r + AHEAD < count_u:
                prefetch_state(user_state, rows[0][r + AHEAD])
            adam_row(rows[0][r], user_state, user_grad[r], lasts[0], step, lr_t, beta1, beta2, correction2, eps)
        for r in range(count_i):
            if r + AHEAD < count_i:
                prefetch_state(item_state, rows[1][r + AHEAD])
            adam_row(rows[1][r], item_state, item_grad[r], lasts[1], step, lr_t, beta1, beta2, correction2, eps)
    return step


@kernel
def flush_state(state, table, order, last, step, coast, powers, lr, eps):
    """Catch every row of one state array up to ``step`` and write its factors to ``table`` (state row ``r`` is
    table row ``order[r]``)."""
    d = table.shape[1]
    for row in range(state.shape[0]):
        catch_up(row, state, last, step, coast, powers, lr, eps)
        target = order[row]
        for k in range(d):
            table[target, k] = state[row, k]


@njit(cache=True, nogil=True)
def has_pair(indptr, indices, users, items):
    """Is each (user, item) stored in the CSR matrix (``indices`` sorted per row)? A binary search per pair."""
    found = np.zeros(len(users), dtype=np.bool_)
    for s in range(len(users)):
        u = users[s]
        lo = indptr[u]
        hi = indptr[u + 1]
        item = items[s]
        while lo < hi:
            mid = (lo + hi) // 2
            if indices[mid] < item:
                lo = mid + 1
            else:
                hi = mid
        found[s] = lo < indptr[u + 1] and indices[lo] == item
    return found


@njit(cache=True, nogil=True)
def pair_bits(indptr, indices, n_items):
    """A bit per (user, item) cell, set where the CSR matrix stores the pair (bit ``user * n_items + item``)."""
    n_users = len(indptr) - 1
    bits = np.zeros((n_users * n_items + 7) // 8, dtype=np.uint8)
    for u in range(n_users):
        for p in range(indptr[u], indptr[u + 1]):
            cell = u * n_items + indices[p]
            bits[cell >> 3] |= np.uint8(1 << (cell & 7))
    return bits


@njit(cache=True, nogil=True)
def has_pair_bits(bits, n_items, users, items):
    """Is each (user, item) set in :func:`pair_bits`'s array? One memory access per pair."""
    found = np.zeros(len(users), dtype=np.bool_)
    for s in range(len(users)):
        cell = users[s] * n_items + items[s]
        found[s] = (bits[cell >> 3] >> (cell & 7)) & 1
    return found


class CompiledBPRTrainer:
    """Adam state for a user and an item table (float32 numpy arrays, written in place at :meth:`flush`) and the
    compiled epoch. Training reads and writes ``states``: per row, the factors and both moments side by side.

    ``coast`` is :meth:`recaug.core.torch_utils.RowAdam.coast_sums`'s table, so both paths coast alike.
    """

    def __init__(
        self,
        users: np.ndarray,
        items: np.ndarray,
        lr: float,
        reg: float,
        betas: tuple[float, float] = (0.9, 0.999),
        counts: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.tables = (users, items)
        # State rows by descending ``counts`` (training interactions per user / item): the Zipf head's rows share
        # pages and cache; ``ranks`` maps a table row to its state row, ``orders`` back (applied at ``flush``).
        sizes = (len(users), len(items))
        self.orders = tuple(
            np.arange(size, dtype=np.int64) if counts is None else np.argsort(-counts[k], kind="stable")
            for k, size in enumerate(sizes)
        )
        self.ranks = tuple(np.argsort(order, kind="stable") for order in self.orders)
        self.states = tuple(
            self.interleave(table[order]) for table, order in zip(self.tables, self.orders, strict=True)
        )
        self.slots = (np.zeros(len(users), dtype=np.int64), np.zeros(len(items), dtype=np.int64))
        self.lasts = (np.zeros(len(users), dtype=np.int64), np.zeros(len(items), dtype=np.int64))
        self.marks = (np.full(len(users), -1, dtype=np.int64), np.full(len(items), -1, dtype=np.int64))
        self.lr, self.reg, self.betas, self.eps = lr, reg, betas, 1e-8
        self.steps = 0
        self._coast = np.zeros(0)
        self._powers = np.zeros((0, 3))

    @staticmethod
    def interleave(table: np.ndarray) -> np.ndarray:
        """A (rows x 3d) state: the table's factors, then zero first and second moments, in each row."""
        state = np.zeros((table.shape[0], 3 * table.shape[1]), dtype=table.dtype)
        state[:, : table.shape[1]] = table
        return state

    def coast(self, until: int) -> np.ndarray:
        """The coasting sums up to step ``until`` (grown by doubling, like ``RowAdam``'s)."""
        from recaug.core.torch_utils import coast_sums

        if len(self._coast) <= until:
            self._coast = coast_sums(self.betas, max(until + 1, 2 * len(self._coast), 1024))
        return self._coast

    def powers(self, size: int) -> np.ndarray:
        """(q^gap, beta1^gap, beta2^gap) for gap < ``size``: three pows per touched row were a third of a step."""
        if len(self._powers) < size:
            beta1, beta2 = self.betas
            gaps = np.arange(max(size, 2 * len(self._powers)), dtype=np.float64)[:, None]
            self._powers = np.ascontiguousarray(np.array([beta1 / np.sqrt(beta2), beta1, beta2]) ** gaps)
        return self._powers

    def epoch(self, users: np.ndarray, positives: np.ndarray, negatives: np.ndarray, batch_size: int) -> None:
        """Train on one epoch's triples, ``batch_size`` at a time, in order."""
        n_batches = -(-len(users) // batch_size)
        coast = self.coast(self.steps + n_batches + 1)
        # A batch touches at most batch_size users and 2 x batch_size items: one buffer row each.
        most = (min(batch_size, len(self.tables[0])), min(2 * batch_size, len(self.tables[1])))
        rows = (np.empty(most[0], np.int64), np.empty(most[1], np.int64))
        grads = tuple(np.zeros((n, table.shape[1]), table.dtype) for n, table in zip(most, self.tables, strict=True))
        beta1, beta2 = self.betas
        user_rank, item_rank = self.ranks
        self.steps = train_epoch(
            user_rank[users],
            item_rank[positives],
            item_rank[negatives],
            batch_size,
            self.states,
            grads,
            self.lasts,
            self.marks,
            self.slots,
            rows,
            self.steps,
            coast,
            self.powers(len(coast)),
            self.lr,
            self.reg,
            beta1,
            beta2,
            self.eps,
        )

    def flush(self) -> None:
        """Bring every row up to the current step and write the factors to the tables (before they are read)."""
        coast = self.coast(self.steps + 1)
        powers = self.powers(len(coast))
        for k in range(2):
            state, table, order, last = self.states[k], self.tables[k], self.orders[k], self.lasts[k]
            flush_state(state, table, order, last, self.steps, coast, powers, self.lr, self.eps)


def warm_up() -> None:
    """Load (or compile) every kernel now, with tiny inputs: a process pool forks after this, so its workers start
    with the machine code instead of each loading it (seconds on a busy machine)."""
    trainer = CompiledBPRTrainer(np.zeros((2, 2), np.float32), np.zeros((3, 2), np.float32), 0.001, 1e-5)
    trainer.epoch(np.array([0, 1]), np.array([0, 1]), np.array([2, 2]), 2)
    trainer.flush()
    has_pair(np.array([0, 1, 1]), np.array([0]), np.array([0, 1]), np.array([0, 2]))
    has_pair_bits(pair_bits(np.array([0, 1, 1]), np.array([0]), 2), 2, np.array([0, 1]), np.array([0, 1]))
