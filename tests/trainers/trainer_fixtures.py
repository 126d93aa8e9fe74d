"""Test helpers: a tiny random Llama (no hub) and synthetic multi-turn trajectories for it."""

import torch

from llmgym.trajectory import Trajectory

VOCAB = 64


def tiny_llama(seed: int = 0, dtype=torch.float64):
    """A 2-layer random Llama small enough to train in milliseconds."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).to(dtype)


def fake_trajectories(
    n: int, seed: int = 0, turns: int = 2, shared_prefix: int = 0, shared_turns: int = 0
) -> list[Trajectory]:
    """Multi-turn token sequences: prompt/env deltas (mask 0) between sampled turns (mask 1).

    ``shared_prefix`` tokens (a system prompt, mask 0) start every trajectory. Trajectories
    ``2k`` and ``2k + 1`` form group ``g{k}``; with ``shared_turns`` they also play the same
    first turns (the same tokens, sampled ones included, with their own sampler logprobs), as
    the episodes of a GRPO group usually do before they part ways.
    """
    g = torch.Generator().manual_seed(seed)
    system = torch.randint(0, VOCAB, (shared_prefix,), generator=g).tolist()
    out = []
    for i in range(n):
        tokens, mask, logprobs = list(system), [0] * shared_prefix, [None] * shared_prefix
        group_turns = torch.Generator().manual_seed(seed * 1000 + i // 2)
        for turn in range(turns):
            source = group_turns if turn < shared_turns else g
            prompt = int(torch.randint(2, 6, (1,), generator=source))
            completion = int(torch.randint(1, 7, (1,), generator=source))
            tokens += torch.randint(0, VOCAB, (prompt + completion,), generator=source).tolist()
            mask += [0] * prompt + [1] * completion
            logprobs += [None] * prompt
            logprobs += (-torch.rand(completion, generator=g) * 4 - 2).tolist()
        out.append(
            Trajectory(
                env_id="test",
                task_id=f"t{i // 2}",
                group_id=f"g{i // 2}",
                tokens=tokens,
                loss_mask=mask,
                logprobs=logprobs,
                reward=float(torch.rand(1, generator=g)),
                truncated=i % 3 == 2,
            )
        )
    return out


def step_config(**overrides):
    """A GRPOConfig for the tiny model (SGD-friendly defaults)."""
    from llmgym.trainers.grpo.config import GRPOConfig

    return GRPOConfig(
        **{
            "micro_batch_size": 2,
            "max_trajectory_tokens": 64,
            "max_new_tokens": 16,
            "train_dtype": "float32",
            **overrides,
        }
    )


def data_parallel_worker(rank: int, world: int, store: str, out: str, loss: str) -> None:
    """One gloo rank: train on its shard of the batch and save the updated weights."""
    import torch.distributed as dist

    from llmgym.trainers.grpo.step import build_batch, train_step

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        model = tiny_llama()
        trajectories = fake_trajectories(8)
        advantages = torch.linspace(-1, 1, 8)
        shard = slice(rank * 8 // world, (rank + 1) * 8 // world)
        batch = build_batch(trajectories[shard], advantages[shard], max_length=64)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        stats = train_step(model, optimizer, batch, step_config(loss=loss, max_grad_norm=1e9))
        if rank == 0:
            torch.save({"state": model.state_dict(), "loss": stats.loss}, out)
        # Both ranks tear gloo down together: a rank that destroyed its group while the other
        # still saved was once killed by SIGABRT ("terminate called without an active
        # exception") in CI. Only on success: a rank that failed must not wait for its peer.
        dist.barrier()
    finally:
        dist.destroy_process_group()


class TorchSampler:
    """A real (slow, exact) engine: samples from its own copy of a model, seeded per request."""

    def __init__(self, model):
        import copy

        self.model = copy.deepcopy(model).eval()
        self.model_version = 0
        self.loads = 0

    async def generate(self, prompt_token_ids, params):
        from llmgym.engines.base import Completion

        g = torch.Generator().manual_seed(params.seed or 0)
        tokens, sampled, logprobs = list(prompt_token_ids), [], []
        with torch.no_grad():
            for _ in range(params.max_tokens):
                logits = self.model(input_ids=torch.tensor([tokens])).logits[0, -1]
                log_p = (logits / params.temperature).log_softmax(-1)
                token = int(torch.multinomial(log_p.exp(), 1, generator=g))
                sampled.append(token)
                logprobs.append(float(log_p[token]))
                tokens.append(token)
        return Completion(tuple(sampled), tuple(logprobs), "length")

    async def load_weights(self, weights, *, version):
        from llmgym.engines.base import as_weights

        self.model.load_state_dict(dict(as_weights(weights).state_dict()))  # copied in its dtype
        self.model_version = version
        self.loads += 1

    async def close(self):
        pass
