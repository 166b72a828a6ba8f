"""Adaptation Advisor: recommends how to close an LLM's gap."""
