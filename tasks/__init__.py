"""Fixed, hashed task splits (installed as ``llmgym.task_data``)."""
