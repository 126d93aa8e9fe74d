"""Hand-computed values and properties of group advantages and the policy-loss variants."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from llmgym.trainers.grpo.advantages import group_advantages, group_ids_to_index
from llmgym.trainers.grpo.losses import BatchNormaliser, policy_loss
from llmgym.trainers.grpo.variants import LOSS_VARIANTS

# --- advantages ---------------------------------------------------------------------------


def test_group_advantages_match_hand_computed_example():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.0])
    index = group_ids_to_index(["a", "a", "a", "a", "b", "b", "c", "c"])
    out = group_advantages(rewards, index, scale_by_std=True, eps=0.0)
    # group a: mean 0.5, sample std sqrt(4 * 0.25 / 3); group c: mean 0.25, std sqrt(2 * 0.0625)
    a = 0.5 / math.sqrt(1 / 3)
    c = 0.25 / math.sqrt(0.125)
    expected = [a, -a, -a, a, 0.0, 0.0, c, -c]
    assert out.advantages.tolist() == pytest.approx(expected, abs=1e-6)
    assert out.keep.tolist() == [True] * 4 + [False, False] + [True, True]


def test_dr_grpo_advantages_are_centred_not_scaled_and_filtering_can_be_off():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 0.3])
    index = group_ids_to_index([7, 7, 7, 7, 8])  # group 8 has one episode: no spread
    out = group_advantages(rewards, index, scale_by_std=False, filter_zero_variance=False)
    assert out.advantages.tolist() == pytest.approx([0.75, -0.25, -0.25, -0.25, 0.0])
    assert out.keep.all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("value", [0.1, 0.7, 0.3, 1 / 3])
@pytest.mark.parametrize("size", [3, 5, 7, 8])
def test_equal_non_dyadic_rewards_are_exactly_zero_variance(dtype, value, size):
    # the mean of equal non-dyadic rewards is not exactly that value: a std-based test saw
    # a ~1e-17 std, kept the group and gave it ~1e-11 advantages
    rewards = torch.tensor([value] * size + [0.0, 1.0], dtype=dtype)
    index = group_ids_to_index(["same"] * size + ["mixed", "mixed"])
    for scale_by_std in (True, False):
        out = group_advantages(rewards, index, scale_by_std=scale_by_std)
        assert out.keep.tolist() == [False] * size + [True, True]
        assert out.advantages[:size].tolist() == [0.0] * size
        assert out.advantages[size:].abs().min() > 0.1


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    repeats=st.integers(1, 6),
)
def test_a_group_is_kept_iff_its_rewards_differ(values, repeats):
    rewards = torch.tensor(values * repeats, dtype=torch.float64)
    out = group_advantages(rewards, torch.zeros(len(rewards), dtype=torch.long))
    assert bool(out.keep.all()) == (len(set(values)) > 1)
    if not out.keep.any():
        assert out.advantages.abs().max() == 0.0


def test_group_advantages_reject_mismatched_shapes():
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        group_advantages(torch.zeros(3), torch.zeros(4, dtype=torch.long))


# --- losses: hand-computed values ---------------------------------------------------------

# Two trajectories: the first has two loss tokens with ratios 1.5 and 0.9 and advantage +1,
# the second one loss token with ratio 0.7 and advantage -1; the last column is padding.
RATIOS = [[1.5, 0.9, 1.0], [0.7, 1.0, 1.0]]
MASK = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
ADV = torch.tensor([1.0, -1.0])


def hand_batch():
    old = torch.full((2, 3), -2.0)
    new = (old + torch.log(torch.tensor(RATIOS))).requires_grad_(True)
    return new, old


@pytest.mark.parametrize(
    ("name", "clip", "expected"),
    [
        # token losses: -min(1.5, 1.2) = -1.2, -0.9; seq 2: -min(-0.7, -0.8) = 0.8
        ("grpo", None, ((-1.2 - 0.9) / 2 + 0.8) / 2),
        # clip-higher 0.28 lets the first token reach 1.28; mean over all 3 tokens
        ("dapo", None, (-1.28 - 0.9 + 0.8) / 3),
        # constant normaliser: 2 sequences x max_tokens 4
        ("dr_grpo", None, (-1.2 - 0.9 + 0.8) / (2 * 4)),
        # sequence ratio sqrt(1.5 * 0.9) inside a wide clip; seq 2 as before
        ("gspo", (0.2, 0.2), (-math.sqrt(1.35) + 0.8) / 2),
        # GSPO's own tiny clip range: both sequences clipped
        ("gspo", None, (-(1 + 4e-4) + (1 - 3e-4)) / 2),
    ],
)
def test_each_variant_matches_hand_computed_value(name, clip, expected):
    new, old = hand_batch()
    norm = BatchNormaliser.from_mask(MASK, max_tokens=4)
    lo, hi = clip if clip else (None, None)
    out = policy_loss(new, old, ADV, MASK, norm, LOSS_VARIANTS[name], clip_low=lo, clip_high=hi)
    assert out.loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert out.tokens == 3


def test_clip_fractions_and_kl_penalty_by_hand():
    new, old = hand_batch()
    norm = BatchNormaliser.from_mask(MASK, max_tokens=4)
    ref = new.detach() - 0.5  # log(ref / policy) = -0.5 on every token
    out = policy_loss(
        new, old, ADV, MASK, norm, LOSS_VARIANTS["dapo"], kl_beta=0.1, ref_logprobs=ref
    )
    k3 = math.exp(-0.5) + 0.5 - 1.0
    assert out.loss.item() == pytest.approx((-1.28 - 0.9 + 0.8) / 3 + 0.1 * k3, rel=1e-5)
    assert out.kl_sum == pytest.approx(3 * k3, rel=1e-5)
    assert (out.clipped_high, out.clipped_low) == (1.0, 1.0)  # 1.5 > 1.28 (A>0); 0.7 < 0.8 (A<0)
    assert out.ratio_max == pytest.approx(1.5)


def test_kl_without_reference_is_a_clear_error():
    new, old = hand_batch()
    norm = BatchNormaliser.from_mask(MASK, max_tokens=4)
    with pytest.raises(ValueError, match="ref_logprobs"):
        policy_loss(new, old, ADV, MASK, norm, LOSS_VARIANTS["grpo"], kl_beta=0.1)


# --- losses: properties -------------------------------------------------------------------


@st.composite
def batches(draw):
    b = draw(st.integers(1, 7))
    t = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(b, t, generator=g, dtype=torch.float64) * 3
    new = old + (torch.rand(b, t, generator=g, dtype=torch.float64) - 0.5) * 0.8
    ref = old + (torch.rand(b, t, generator=g, dtype=torch.float64) - 0.5) * 0.4
    mask = (torch.rand(b, t, generator=g) < 0.7).double()
    adv = torch.randn(b, generator=g, dtype=torch.float64)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(b - 1, 1)), max_size=b))) - {b})
    return new, old, ref, mask, adv, cuts


@settings(max_examples=60, deadline=None)
@given(batch=batches(), name=st.sampled_from(sorted(LOSS_VARIANTS)), kl=st.sampled_from([0, 0.2]))
def test_loss_and_gradient_invariant_to_micro_batching(batch, name, kl):
    new, old, ref, mask, adv, cuts = batch
    variant, norm = LOSS_VARIANTS[name], BatchNormaliser.from_mask(mask, max_tokens=9)
    kw = {"kl_beta": kl, "clip_low": 0.2, "clip_high": 0.25}

    whole = new.clone().requires_grad_(True)
    loss = policy_loss(whole, old, adv, mask, norm, variant, ref_logprobs=ref, **kw).loss
    loss.backward()

    # gradient accumulation: one backward per micro-batch into the same leaf
    acc = new.clone().requires_grad_(True)
    total = 0.0
    for lo, hi in zip([0, *cuts], [*cuts, len(new)], strict=True):
        part = policy_loss(
            acc[lo:hi], old[lo:hi], adv[lo:hi], mask[lo:hi], norm, variant,
            ref_logprobs=ref[lo:hi], **kw,
        ).loss  # fmt: skip
        part.backward()
        total += part.item()

    assert total == pytest.approx(loss.item(), abs=1e-12)
    torch.testing.assert_close(acc.grad, whole.grad, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSS_VARIANTS))
def test_masked_tokens_get_zero_gradient_even_with_nan_sampler_logprobs(name):
    g = torch.Generator().manual_seed(0)
    old = -torch.rand(3, 6, generator=g)
    mask = torch.tensor([[0, 0, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0.0]])
    old = torch.where(mask > 0, old, torch.full_like(old, float("nan")))  # prompt tokens
    new = (-torch.rand(3, 6, generator=g)).requires_grad_(True)
    ref = -torch.rand(3, 6, generator=g)
    norm = BatchNormaliser.from_mask(mask, max_tokens=6)
    out = policy_loss(
        new, old, torch.tensor([1.0, -0.5, 2.0]), mask, norm, LOSS_VARIANTS[name],
        kl_beta=0.1, ref_logprobs=ref,
    )  # fmt: skip
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert (new.grad[mask == 0] == 0).all()
    assert (new.grad[mask == 1] != 0).all()
