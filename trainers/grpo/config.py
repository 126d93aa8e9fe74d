"""Typed configuration of a GRPO run: every field documented, loadable from YAML and flags.

``GRPOConfig`` is a pydantic model that forbids unknown keys, so a typo in a YAML file or an
out-of-range value stops the run before any model loads, with the field, the bad value and
what was expected. Field docstrings are the documentation (``llmgym train --help`` shows them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from llmgym.trainers.grpo.variants import LOSS_VARIANTS, LossVariant


class ConfigError(ValueError):
    """A config file or flag with a bad value; the message names the field and the fix."""


ENGINE_SET_BY = {
    "model": "the model field",
    "max_model_len": "max_trajectory_tokens",
    "seed": "the seed field",
    "num_threads": "torch_threads",
    "tokenizer": "the model field (its own tokenizer)",
    "logprobs_mode": "the trainer (its ratio needs the sampled distribution's logprobs)",
}
"""Engine arguments a GRPO run sets from its own fields (engine_options must not)."""


class GRPOConfig(BaseModel):
    """Everything that defines a GRPO run (defaults: a short CPU run on the default model)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    # --- what to train, where -------------------------------------------------------------
    env_id: str = "llmgym/TripBooking-v0"
    """Registered environment id to train on."""
    env_options: dict[str, Any] = Field(default_factory=lambda: {"difficulty": "easy"})
    """Extra reset options for training tasks (e.g. difficulty); the split is always 'train'."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """``gym.make`` keyword arguments for training and evaluation episodes (e.g. max_turns)."""
    model: str | None = None
    """Model folder or hub id; None is the bundled default (SmolLM2-135M-Instruct)."""
    engine: Literal["auto", "vllm", "hf"] = "auto"
    """Generation engine: vllm, hf (transformers) or auto (vllm when installed)."""
    engine_options: dict[str, Any] = Field(default_factory=dict)
    """More keyword arguments for the engine: vLLM's ``AsyncEngineArgs`` fields (e.g.
    ``{"gpu_memory_utilization": 0.5}`` on a GPU shared with training, or
    ``{"kv_cache_memory_bytes": 4294967296}``) and ``enforce_eager``, or the transformers
    engine's ``max_batch_size``. The model, context length, seed and threads come from
    their own fields."""
    out: Path = Path("runs/grpo")
    """Output folder: metrics.jsonl, checkpoints, reward_curve.png, tensorboard/."""
    seed: int = 0
    """Seed of task sampling, model init of LoRA weights and dropout."""
    steps: int = Field(20, ge=1)
    """Number of optimisation steps (one batch of groups each)."""

    # --- rollouts -------------------------------------------------------------------------
    groups_per_step: int = Field(4, ge=1)
    """Tasks per step; each task is played group_size times with the same seed."""
    group_size: int = Field(8, ge=2)
    """Episodes per group (G); advantages compare episodes within a group."""
    max_new_tokens: int = Field(96, ge=1)
    """Token budget of one assistant turn."""
    max_trajectory_tokens: int = Field(1024, ge=16)
    """Longest trajectory (prompt + all turns) the trainer accepts; longer ones are truncated."""
    temperature: float = Field(1.0, gt=0)
    """Sampling temperature of training rollouts; the loss scores tokens at the same
    temperature, so the ratio is against the distribution actually sampled from."""
    top_p: float = Field(1.0, gt=0, le=1)
    """Nucleus sampling threshold of training rollouts."""
    concurrency: int = Field(32, ge=1)
    """Episodes played at once by the collector."""
    env_timeout_s: float | None = Field(600.0, gt=0)
    """Limit on one episode's environment time (reset and steps, in all); an episode past it
    is recorded as timed out and dropped. None: no limit."""
    episode_timeout_s: float | None = Field(None, gt=0)
    """Wall-clock limit of one episode, generation included (None: none). Off by default:
    most of an episode's wall time is waiting for the engine it shares, so it fails episodes
    for the machine's load (``llmgym.rollout.RolloutConfig``)."""
    max_staleness: int = Field(0, ge=0, le=1)
    """1 = async: step k+1 is generated (with weights k) while step k trains; 0 = synchronous."""

    # --- the loss -------------------------------------------------------------------------
    loss: Literal["grpo", "dapo", "dr_grpo", "gspo"] = "dapo"
    """Loss variant (see losses.LOSS_VARIANTS): ratio level, aggregation, default clip."""
    scale_advantages_by_std: bool | None = None
    """Divide advantages by the group std (GRPO); None = the variant's default."""
    clip_low: float | None = Field(None, gt=0, lt=1)
    """Lower clip epsilon; None = the variant's default."""
    clip_high: float | None = Field(None, gt=0)
    """Upper clip epsilon (clip-higher); None = the variant's default."""
    kl_beta: float = Field(0.0, ge=0)
    """Weight of the KL penalty to the initial policy (0 = no reference model kept)."""
    filter_zero_variance: bool = True
    """Drop groups whose episodes all got the same reward (no signal)."""
    resample_groups: int = Field(0, ge=0)
    """Dynamic sampling (DAPO): when fewer than ``groups_per_step`` of a step's groups have
    reward variance, draw up to this many more groups (new tasks) and train on the first
    ``groups_per_step`` that have it. Costs generation, saves steps that would train on
    nothing. 0: off."""
    mask_truncated: bool = False
    """Exclude truncated episodes (budget ran out) from the loss."""

    # --- optimisation ---------------------------------------------------------------------
    learning_rate: float = Field(1e-5, gt=0)
    """AdamW learning rate (LoRA usually wants about 10x more than full fine-tuning)."""
    weight_decay: float = Field(0.0, ge=0)
    """AdamW weight decay."""
    max_grad_norm: float = Field(1.0, gt=0)
    """Gradient norm clip."""
    micro_batch_size: int = Field(4, ge=1)
    """Trajectories per forward/backward pass; does not change the update, only memory."""
    lora_rank: int = Field(0, ge=0)
    """LoRA rank (peft); 0 = full fine-tuning."""
    lora_alpha: int = Field(32, gt=0)
    """LoRA scaling numerator."""
    trainable_layers: int = Field(0, ge=0)
    """Train only the top this many decoder layers (and the final norm; LoRA: adapt only
    them); 0 = every layer. Frozen layers run forward only, so the update costs less: on the
    default 30-layer model, 8 layers halve its FLOPs."""
    train_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """Autocast dtype of the training forward/backward; weights and AdamW stay float32.
    auto: bfloat16 where the hardware multiplies it natively, else float32 (a CPU with
    AVX2 only runs bfloat16 matmuls ~90x slower: ``llmgym.engines.base.fast_dtype``)."""
    gradient_checkpointing: bool = False
    """Recompute activations in backward: less memory, about 30% more time."""
    share_prefix: bool = True
    """Run the tokens that trajectories start with in common (the system prompt; the first
    turns a group's episodes played alike) through the network once, not once per
    trajectory: same gradient, less compute (bench/bench_train_step.py). Not used with
    gradient checkpointing."""
    torch_threads: int | None = Field(None, ge=1)
    """Threads of the training process; None leaves torch's default."""

    # --- bookkeeping ----------------------------------------------------------------------
    eval_every: int = Field(10, ge=0)
    """Evaluate on the held-out split every this many steps (0 = never)."""
    eval_episodes: int = Field(32, ge=1)
    """Held-out test tasks per evaluation (greedy decoding)."""
    eval_at_start: bool = True
    """Also evaluate the starting policy, as step 0 (off: its score is already known, e.g.
    a second run from the same warm-start)."""
    checkpoint_every: int = Field(10, ge=0)
    """Save a resumable checkpoint every this many steps (0 = only at the end)."""
    tensorboard: bool = False
    """Also write TensorBoard logs to out/tensorboard (needs the tensorboard package)."""

    @property
    def variant(self) -> LossVariant:
        """The loss table row of ``loss``."""
        return LOSS_VARIANTS[self.loss]

    @property
    def autocast_dtype(self) -> Any:
        """torch dtype for autocast, or None for plain float32."""
        import torch

        from llmgym.engines.base import resolve_dtype

        device = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.bfloat16 if resolve_dtype(self.train_dtype, device) == "bfloat16" else None

    @property
    def scale_by_std(self) -> bool:
        """Whether advantages are divided by the group std."""
        if self.scale_advantages_by_std is None:
            return self.variant.scale_by_std
        return self.scale_advantages_by_std

    @field_validator("env_id")
    @classmethod
    def _check_env_id(cls, env_id: str) -> str:
        from llmgym.registration import env_id_problem

        if problem := env_id_problem(env_id):
            raise ValueError(problem)
        return env_id

    @field_validator("env_options", "env_kwargs")
    @classmethod
    def _check_against_env(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """A difficulty the env lacks, or keyword arguments it refuses (a valid env_id)."""
        from llmgym.registration import difficulty_problem, env_kwargs_problem

        if "env_id" not in info.data:  # the env_id's own error is reported
            return value
        env_id = info.data["env_id"]
        if info.field_name == "env_options":
            problem = difficulty_problem(env_id, value.get("difficulty"))
        else:
            problem = env_kwargs_problem(env_id, value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("engine_options")
    @classmethod
    def _check_engine_options(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        from llmgym.engines import engine_options_problem

        if "engine" not in info.data:  # the engine's own error is reported
            return value
        if problem := engine_options_problem(info.data["engine"], value, ENGINE_SET_BY):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> GRPOConfig:
        if self.max_new_tokens >= self.max_trajectory_tokens:
            raise ValueError(
                f"max_new_tokens ({self.max_new_tokens}) must be below max_trajectory_tokens "
                f"({self.max_trajectory_tokens}); raise max_trajectory_tokens"
            )
        if "split" in self.env_options:
            raise ValueError("env_options must not set 'split': training always uses 'train'")
        return self


def load_config(path: str | Path | None = None, **overrides: Any) -> GRPOConfig:
    """Config from an optional YAML file, then flag overrides (None values are ignored)."""
    data: dict[str, Any] = {}
    if path is not None:
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist; pass a YAML file path")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"config file {str(path)!r} must hold a mapping of field: value, "
                f"got {type(loaded).__name__}"
            )
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validate_config(data, source=str(path) if path else "flags")


def validate_config(data: dict[str, Any], source: str = "config") -> GRPOConfig:
    """``GRPOConfig(**data)`` with errors rewritten as one readable ``ConfigError``."""
    try:
        return GRPOConfig(**data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "config"
            if err["type"] == "extra_forbidden":
                known = ", ".join(sorted(GRPOConfig.model_fields))
                lines.append(f"  {field}: unknown field; known fields: {known}")
            elif (msg := err["msg"].removeprefix("Value error, ")).startswith("got "):
                lines.append(f"  {field}: {msg}")  # the validator's own "got X, expected Y"
            else:
                lines.append(f"  {field}: got {err.get('input')!r}: {err['msg']}")
        raise ConfigError(f"invalid GRPO config ({source}):\n" + "\n".join(lines)) from None
