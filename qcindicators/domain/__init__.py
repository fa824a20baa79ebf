"""Domain knowledge: DDD reference, drug names, 规格 strings."""
