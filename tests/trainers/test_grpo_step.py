"""The training step on a real tiny Llama: logprobs, micro-batching, LoRA, checkpointing, DDP."""

import copy
import dataclasses

import pytest
import torch
from trainer_fixtures import (
    data_parallel_worker,
    fake_trajectories,
    step_config,
    tiny_llama,
)

from llmgym.trainers.checkpoint import (
    CheckpointState,
    load_checkpoint,
    save_checkpoint,
    saved_step,
)
from llmgym.trainers.grpo.step import build_batch, train_step
from llmgym.trainers.policy import (
    PrefixGroup,
    backward_micro_batches,
    plan_shared_prefixes,
    prepare_model,
)
from llmgym.trainers.policy import token_logprobs as compute_logprobs
from llmgym.trainers.weights import PolicyWeights, export_weights, merged_state_dict


def sgd_update(model, batch, **config):
    """Apply one plain-SGD step (lr 1, no clipping) so the weight change IS the gradient."""
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    return train_step(model, optimizer, batch, step_config(max_grad_norm=1e9, **config))


def assert_same_weights(a, b, atol=1e-10):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=atol, msg=name)


def test_token_logprobs_match_log_softmax_and_ignore_padding():
    model = tiny_llama()
    tokens = torch.tensor([[5, 9, 3, 7, 1], [4, 2, 8, 0, 0]])
    attention = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    logprobs, entropy = compute_logprobs(model, tokens, attention, with_entropy=True)
    single, _ = compute_logprobs(model, tokens[1:, :3], attention[1:, :3])
    torch.testing.assert_close(logprobs[1, :3], single[0])  # right padding changes nothing
    with torch.no_grad():
        log_p = model(input_ids=tokens[:1]).logits.log_softmax(-1)[0]  # (T, V)
    expected = [0.0] + [float(log_p[t - 1, tokens[0, t]]) for t in range(1, 5)]
    assert logprobs[0].tolist() == pytest.approx(expected, abs=1e-10)
    assert (entropy[:, 1:] > 0).all() and (entropy[:, 1:] <= torch.log(torch.tensor(64.0))).all()


def test_ratio_starts_at_one_when_rollouts_sample_at_a_temperature():
    """The sampler's logprobs are those of softmax(logits / T): the loss must score the same way."""
    model = tiny_llama()
    batch = build_batch(fake_trajectories(4), torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=64)
    scored = batch.loss_mask > 0
    tempered, _ = compute_logprobs(model, batch.tokens, batch.attention_mask, positions=scored,
                                   temperature=0.5)  # fmt: skip
    with torch.no_grad():
        log_p = (model(input_ids=batch.tokens[:1]).logits[0] / 0.5).log_softmax(-1)
    t = int(scored[0].nonzero()[0])
    assert float(tempered[0, t]) == pytest.approx(
        float(log_p[t - 1, batch.tokens[0, t]]), abs=1e-10
    )
    sampled = dataclasses.replace(batch, old_logprobs=tempered.detach())  # on-policy at T = 0.5
    matched = sgd_update(model, sampled, temperature=0.5)
    assert matched.ratio_mean == pytest.approx(1.0) and matched.ratio_max == pytest.approx(1.0)
    assert matched.clip_low_frac == matched.clip_high_frac == 0.0
    mismatched = sgd_update(tiny_llama(), sampled, temperature=1.0)  # scored at T = 1: off
    assert mismatched.ratio_max > 1.1


@pytest.mark.parametrize("loss", ["grpo", "dapo", "dr_grpo", "gspo"])
def test_update_is_identical_whole_or_micro_batched(loss):
    trajectories = fake_trajectories(6)
    batch = build_batch(trajectories, torch.linspace(-1, 1, 6), max_length=64)
    whole, micro = tiny_llama(), tiny_llama()
    a = sgd_update(whole, batch, loss=loss, micro_batch_size=6, clip_high=0.3)
    b = sgd_update(micro, batch, loss=loss, micro_batch_size=4, clip_high=0.3)
    assert a.loss == pytest.approx(b.loss, abs=1e-12)
    assert a.tokens == b.tokens == sum(t.num_sampled_tokens for t in trajectories)
    assert_same_weights(whole, micro)
    assert not torch.equal(whole.lm_head.weight, tiny_llama().lm_head.weight)  # it did move


@pytest.mark.parametrize(("loss", "lora_rank"), [("dapo", 0), ("gspo", 0), ("dapo", 4)])
def test_shared_prefixes_give_the_update_of_whole_rows(loss, lora_rank):
    # Three groups of two: all share a 4-token system prompt, each pair also its first two
    # turns, scored tokens included. The rows are shuffled so that pairs are not side by side.
    trajectories = fake_trajectories(6, shared_prefix=4, turns=4, shared_turns=2)
    order = [0, 2, 4, 1, 3, 5]
    batch = build_batch([trajectories[i] for i in order], torch.linspace(-1, 1, 6), max_length=96)
    groups = plan_shared_prefixes(batch.tokens, batch.attention_mask, min_length=4, overhead=0)
    assert sorted(sorted(g.rows) for g in groups) == [[0, 3], [1, 4], [2, 5]]
    assert all(g.length > 4 and batch.loss_mask[g.rows[0], : g.length].any() for g in groups)
    shared = prepare_model(tiny_llama(), lora_rank=lora_rank)
    whole = prepare_model(tiny_llama(), lora_rank=lora_rank)
    for _ in range(2):  # LoRA: the second step trains A through the first step's B
        a = sgd_update(shared, batch, loss=loss, micro_batch_size=1)
        b = sgd_update(whole, batch, loss=loss, micro_batch_size=4, share_prefix=False)
        assert a.loss == pytest.approx(b.loss, rel=1e-7) and a.entropy == pytest.approx(b.entropy)
        assert a.ratio_max == pytest.approx(b.ratio_max) and a.tokens == b.tokens
    # The same sums, regrouped: equal up to rounding (Llama's RMSNorm computes in float32).
    # Dropping a prefix's backward would be off by orders of magnitude more.
    assert_same_weights(shared, whole, atol=1e-6)


def test_plan_shares_the_longest_prefixes_that_save_tokens():
    rows = [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [9, 9, 9, 9, 9, 9, 9, 9],  # shares nothing
        [1, 2, 3, 4, 5, 6, 7, 9],
        [1, 2, 3, 4, 0, 0, 0, 0],
        [1, 2, 3, 4, 5, 6, 0, 0],  # 6 real tokens: must keep one after its prefix
    ]
    tokens = torch.tensor(rows)
    attention = torch.ones_like(tokens)
    attention[4, 6:] = 0
    plan = plan_shared_prefixes(tokens, attention, min_length=2, overhead=0)
    # Tokens run: [3, 4, 0, 2] sharing 4 = 4 + (8 + 6 + 8 + 8 - 4 * 4) = 18 beats [4, 0, 2]
    # sharing 5 (row 4 is 6 long) with row 3 whole = 5 + (1 + 3 + 3) + 8 = 20, and [3, 4] with
    # [0, 2] = (4 + 4 + 2) + (7 + 1 + 1) = 19; row 1 runs whole.
    assert plan == [PrefixGroup(rows=[3, 4, 0, 2], length=4), PrefixGroup(rows=[1], length=0)]
    assert plan_shared_prefixes(tokens, attention, min_length=5, overhead=0) == [
        PrefixGroup(rows=[4, 0, 2], length=5),
        PrefixGroup(rows=[1, 3], length=0),
    ]
    # An extra pass that costs more than it saves is not made; one row has nothing to share.
    assert plan_shared_prefixes(tokens, attention, min_length=2, overhead=100) == [
        PrefixGroup(rows=[0, 1, 2, 3, 4], length=0)
    ]
    assert plan_shared_prefixes(tokens[:1], attention[:1]) == [PrefixGroup(rows=[0], length=0)]


def test_no_prefix_is_shared_under_gradient_checkpointing():
    batch = build_batch(fake_trajectories(4, shared_prefix=24), torch.ones(4), max_length=64)
    args = (batch.tokens, batch.attention_mask)

    def planned(model):
        seen = []

        def loss_of(rows, prefix):
            seen.append((rows, prefix))
            return sum(p.sum() for p in model.parameters()) * 0.0

        backward_micro_batches(model, *args, loss_of, micro_batch_size=2)
        return seen

    shared = planned(tiny_llama())
    assert [rows for rows, _ in shared] and all(p is not None for _, p in shared)
    plain = planned(prepare_model(tiny_llama(), gradient_checkpointing=True))
    assert plain == [([0, 1], None), ([2, 3], None)]
    _, prefix = shared[0]
    with pytest.raises(ValueError, match="start with the shared prefix"):
        compute_logprobs(tiny_llama(), batch.tokens[:1, :10], batch.attention_mask[:1, :10],
                         prefix=prefix)  # fmt: skip


def test_the_micro_batch_pass_cannot_be_cut_short():
    """The backward of every micro-batch and of each shared prefix runs inside one call: a
    caller cannot skip a micro-batch or leave a prefix without its backward (the iterator this
    replaced ran the prefix's backward only when asked for the next micro-batch, so a caller
    that broke out early got a silently wrong gradient on the shared tokens). A loss that
    cannot carry a gradient is refused with a clear error."""
    batch = build_batch(fake_trajectories(4, shared_prefix=24), torch.ones(4), max_length=64)
    model = tiny_llama()
    for bad in (0.5, torch.tensor(0.5), torch.ones(2, requires_grad=True)):
        with pytest.raises(ValueError, match="scalar tensor with grad"):
            backward_micro_batches(
                model, batch.tokens, batch.attention_mask, lambda rows, prefix, bad=bad: bad,
                micro_batch_size=2,
            )  # fmt: skip
    calls = []

    def stop_early(rows, prefix):
        calls.append(rows)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # an error stops the pass: no optimizer step follows
        backward_micro_batches(
            model, batch.tokens, batch.attention_mask, stop_early, micro_batch_size=2
        )
    assert len(calls) == 1


def test_masked_truncated_episodes_and_prompt_tokens_do_not_train():
    trajectories = fake_trajectories(3)  # the third one is truncated
    batch = build_batch(trajectories, torch.tensor([1.0, -1.0, 1.0]), max_length=64)
    masked = build_batch(
        trajectories, torch.tensor([1.0, -1.0, 1.0]), max_length=64, mask_truncated=True
    )
    assert masked.loss_mask[2].sum() == 0 and batch.loss_mask[2].sum() > 0
    # Changing prompt tokens' "sampler logprobs" (not sampled, mask 0) must not change the update.
    noisy = build_batch(trajectories, torch.tensor([1.0, -1.0, 1.0]), max_length=64)
    noisy.old_logprobs[noisy.loss_mask == 0] = -1e6
    a, b = tiny_llama(), tiny_llama()
    sgd_update(a, batch)
    sgd_update(b, noisy)
    assert_same_weights(a, b)


def test_gradient_checkpointing_gives_the_same_update():
    batch = build_batch(fake_trajectories(4), torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=64)
    plain = prepare_model(tiny_llama())
    ckpt = prepare_model(tiny_llama(), gradient_checkpointing=True)
    sgd_update(plain, batch)
    sgd_update(ckpt, batch)
    assert_same_weights(plain, ckpt)


def test_lora_trains_adapters_only_and_exports_merged_weights(tmp_path):
    from transformers import AutoModelForCausalLM

    base = tiny_llama()
    model = prepare_model(copy.deepcopy(base), lora_rank=4, lora_alpha=8)
    batch = build_batch(fake_trajectories(4), torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=64)
    # LoRA's B matrices start at zero, so step 1 moves only B; step 2 then changes the output.
    for _ in range(2):
        stats = sgd_update(model, batch, lora_rank=4, kl_beta=0.1)
    assert stats.kl > 0  # the reference is the adapter-free model
    merged = merged_state_dict(model)
    assert set(merged) == set(base.state_dict())
    assert not torch.equal(merged["model.layers.0.self_attn.q_proj.weight"],
                           base.state_dict()["model.layers.0.self_attn.q_proj.weight"])  # fmt: skip
    assert torch.equal(merged["model.embed_tokens.weight"], base.state_dict()["model.embed_tokens.weight"])  # fmt: skip
    folder = export_weights(model, tmp_path / "export")
    reloaded = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float64)
    tokens = torch.tensor([[3, 1, 4, 1, 5, 9]])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(tokens).logits, model(input_ids=tokens).logits)


def test_kl_is_zero_at_the_first_step_with_a_frozen_reference():
    model = tiny_llama()
    ref = copy.deepcopy(model).eval()
    batch = build_batch(fake_trajectories(4), torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=64)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    config = step_config(kl_beta=0.5)
    first = train_step(model, optimizer, batch, config, ref_model=ref)
    second = train_step(model, optimizer, batch, config, ref_model=ref)
    assert first.kl == pytest.approx(0.0, abs=1e-12) and second.kl > 0


@pytest.mark.parametrize("lora_rank", [0, 4])
def test_checkpoint_resume_continues_exactly(tmp_path, lora_rank):
    def run(model, optimizer, steps):
        for _ in steps:  # the batch draws from the global RNG, as sampling would
            adv = torch.randn(4, dtype=torch.float64)
            batch = build_batch(fake_trajectories(4, seed=int(adv.abs().sum() * 1e6)), adv, max_length=64)  # fmt: skip
            train_step(model, optimizer, batch, step_config(lora_rank=lora_rank))

    def fresh():
        model = prepare_model(tiny_llama(), lora_rank=lora_rank)
        params = [p for p in model.parameters() if p.requires_grad]
        return model, torch.optim.AdamW(params, lr=1e-2)

    torch.manual_seed(123)
    straight, opt = fresh()
    run(straight, opt, range(3))

    torch.manual_seed(123)
    first, opt = fresh()
    run(first, opt, range(2))
    save_checkpoint(tmp_path / "ckpt", first, opt, CheckpointState(step=2, extra={"best": 0.5}))
    torch.manual_seed(999)  # a new process would start from another RNG state
    resumed, opt = fresh()
    state = load_checkpoint(tmp_path / "ckpt", resumed, opt)
    assert (state.step, state.extra) == (2, {"best": 0.5})
    assert saved_step(tmp_path / "ckpt") == 2 and saved_step(tmp_path / "none") == 0  # the bar's
    run(resumed, opt, range(1))
    assert_same_weights(straight, resumed, atol=0)


def test_loading_a_missing_checkpoint_says_what_to_pass(tmp_path):
    model = tiny_llama()
    with pytest.raises(FileNotFoundError, match="not a checkpoint"):
        load_checkpoint(tmp_path, model, torch.optim.SGD(model.parameters(), lr=1))


@pytest.mark.parametrize("loss", ["dapo", pytest.param("gspo", marks=pytest.mark.slow)])
def test_two_gloo_processes_give_the_same_update_as_one(tmp_path, loss):
    import torch.multiprocessing as mp

    out = tmp_path / "rank0.pt"
    mp.spawn(
        data_parallel_worker,
        args=(2, str(tmp_path / "store"), str(out), loss),
        nprocs=2,
        join=True,
    )
    single = tiny_llama()
    batch = build_batch(fake_trajectories(8), torch.linspace(-1, 1, 8), max_length=64)
    stats = sgd_update(single, batch, loss=loss)
    distributed = torch.load(out, weights_only=True)
    assert distributed["loss"] == pytest.approx(stats.loss, abs=1e-12)
    for name, value in single.state_dict().items():
        torch.testing.assert_close(distributed["state"][name], value, rtol=0, atol=1e-10)


def test_bfloat16_autocast_step_approximates_the_float32_step():
    batch = build_batch(fake_trajectories(4), torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=64)
    exact = sgd_update(tiny_llama(dtype=torch.float32), batch)
    mixed = sgd_update(tiny_llama(dtype=torch.float32), batch, train_dtype="bfloat16")
    assert mixed.loss == pytest.approx(exact.loss, rel=0.05, abs=1e-3)
    assert mixed.grad_norm == pytest.approx(exact.grad_norm, rel=0.05)


@pytest.mark.parametrize("share_prefix", [False, True])
def test_top_layers_get_the_full_update_of_their_own_weights(share_prefix):
    """trainable_layers=1 trains the top layer and the final norm exactly as a full update
    would, and leaves the embeddings (the tied head) and the layer below untouched."""
    trajectories = fake_trajectories(4, shared_prefix=4, turns=3, shared_turns=1)
    batch = build_batch(trajectories, torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=96)
    full, top = prepare_model(tiny_llama()), prepare_model(tiny_llama(), trainable_layers=1)
    trained = {n for n, p in top.named_parameters() if p.requires_grad}
    assert trained and all(n.startswith(("model.layers.1.", "model.norm.")) for n in trained)
    a = sgd_update(full, batch, micro_batch_size=2, share_prefix=share_prefix)
    b = sgd_update(top, batch, micro_batch_size=2, share_prefix=share_prefix)
    assert a.loss == pytest.approx(b.loss, abs=1e-12)  # the same forward
    start, moved_full, moved_top = tiny_llama().state_dict(), full.state_dict(), top.state_dict()
    for name, before in start.items():
        if name in trained:  # SGD lr 1, no clipping: the change is the gradient, the same one
            torch.testing.assert_close(moved_top[name], moved_full[name], rtol=0, atol=1e-10)
            assert not torch.equal(moved_top[name], before), name
        else:
            assert torch.equal(moved_top[name], before), name
    assert not torch.equal(
        moved_full["model.embed_tokens.weight"], start["model.embed_tokens.weight"]
    )


def test_trainable_layers_with_lora_adapts_only_the_top_layers():
    model = prepare_model(tiny_llama(), lora_rank=4, trainable_layers=1)
    trained = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trained and all(".layers.1." in n and "lora_" in n for n in trained)


@pytest.mark.parametrize(
    "prepare", [{}, {"trainable_layers": 1}, {"lora_rank": 4, "trainable_layers": 1}]
)
def test_a_partial_weight_sync_sends_every_tensor_training_changed(prepare):
    """``PolicyWeights(trained_only=True)`` may leave tensors out only if training cannot
    change them: after two steps, every merged tensor that differs from the start is sent."""
    start = tiny_llama().state_dict()
    model = prepare_model(tiny_llama(), **prepare)
    batch = build_batch(fake_trajectories(4), torch.tensor([1.0, -1.0, 0.5, -0.5]), max_length=64)
    for _ in range(2):  # LoRA's B starts at zero: the merged weights move from step 2
        sgd_update(model, batch, lora_rank=prepare.get("lora_rank", 0))
    weights = PolicyWeights(model, "unused", trained_only=True)
    sent, merged = weights.state_dict(), merged_state_dict(model)
    changed = {name for name, value in merged.items() if not torch.equal(value, start[name])}
    assert changed and changed <= set(sent)
    for name, value in sent.items():
        assert torch.equal(value, merged[name]), name
    if prepare:  # frozen layers: only the top layer (and the final norm) travel
        assert weights.partial and set(sent) < set(merged)
        assert all(n.startswith(("model.layers.1.", "model.norm.")) for n in sent)
    else:  # a full fine-tune sends everything, as a full sync would
        assert not weights.partial and set(sent) == set(merged)
    assert not PolicyWeights(model, "unused").partial


def test_more_trainable_layers_than_the_model_has_is_refused():
    with pytest.raises(ValueError, match="trainable_layers=3 but the model has 2 decoder layers"):
        prepare_model(tiny_llama(), trainable_layers=3)
