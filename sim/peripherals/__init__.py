"""Peripheral models of the simulated STM32L4R5 (one module per hardware block). Importing this package
registers every model in `MODELS` under the names the board descriptions use (platforms/*.yaml)."""

from . import crc, dbgmcu, exti, flash, gpio, pwr, rcc, syscfg, tim, usart  # noqa: F401
from .base import MODELS, BoardContext, Peripheral, Reg, register_model

__all__ = ["MODELS", "BoardContext", "Peripheral", "Reg", "register_model"]
