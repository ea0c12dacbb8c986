"""Backends the runner drives a device under test through: in-process simulated board, serial port."""
