"""Trajectory-level GRPO: config, group advantages, the loss table, the training step and loop."""
