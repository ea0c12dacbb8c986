"""Quantization arithmetic done once at compile time, exactly as TensorFlow Lite Micro's Prepare does it.

Every function mirrors a named TFLite / TFLM routine (tensorflow/lite/kernels/internal/quantization_util.cc,
kernel_util.cc, micro/kernels/*_common.cc) including where the C++ computes in float32 rather than double:
bit-exactness with the interpreter depends on those details. Python floats are IEEE doubles; float32 steps
go through numpy.float32.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def tflite_round(x: float) -> float:
    """std::round: nearest integer, halves away from zero (x - floor(x) is exact for doubles)."""
    if x < 0:
        return -tflite_round(-x)
    f = math.floor(x)
    return float(f + 1) if x - f >= 0.5 else float(f)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31).

    Returns (multiplier int32, shift) with shift > 0 meaning a left shift. Tiny values flush to (0, 0).
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(tflite_round(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def f32(x: float) -> float:
    """Round a double to float32 and back (a C `float` value)."""
    return float(np.float32(x))


def quantize_value(f: float, scale: float, zero_point: int) -> int:
    """kernel_util.cc Quantize(): zero_point + (int)round(f / scale), the division in float32."""
    tmp = tflite_round(f32(np.float32(f) / np.float32(scale)))
    return zero_point + int(tmp)


# tflite ActivationFunctionType values
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3


def activation_range(act: int, scale: float, zero_point: int,
                     qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 output tensor."""
    if act == ACT_NONE:
        return qmin, qmax
    if act == ACT_RELU:
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if act == ACT_RELU6:
        return (max(qmin, quantize_value(0.0, scale, zero_point)),
                min(qmax, quantize_value(6.0, scale, zero_point)))
    if act == ACT_RELU_N1_TO_1:
        return (max(qmin, quantize_value(-1.0, scale, zero_point)),
                min(qmax, quantize_value(1.0, scale, zero_point)))
    raise ValueError(f"activation {act}")


def per_channel_multipliers(input_scale: float, filter_scales, output_scale: float) -> list[tuple[int, int]]:
    """PopulateConvolutionQuantizationParams (conv, depthwise, per-channel FC): all in double."""
    return [quantize_multiplier(float(input_scale) * float(s) / float(output_scale)) for s in filter_scales]


def per_tensor_fc_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler: the input*filter scale product is a float32 multiply."""
    product = f32(np.float32(input_scale) * np.float32(filter_scale))
    return quantize_multiplier(product / float(output_scale))


def add_params(scale1: float, scale2: float, scale_out: float) -> dict:
    """CalculateOpDataAdd for int8: left_shift 20, input and output multipliers < 1 (shift <= 0)."""
    left_shift = 20
    twice_max = 2.0 * float(max(np.float32(scale1), np.float32(scale2)))
    m1, s1 = quantize_multiplier(float(scale1) / twice_max)
    m2, s2 = quantize_multiplier(float(scale2) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * float(scale_out)))
    for s in (s1, s2, so):
        if s > 0:
            raise ValueError("ADD multiplier >= 1")
    return dict(left_shift=left_shift, input1_multiplier=m1, input1_shift=s1,
                input2_multiplier=m2, input2_shift=s2, output_multiplier=mo, output_shift=so)


def softmax_params(beta: float, input_scale: float) -> dict:
    """PreprocessSoftmaxScaling + CalculateInputRadius with kScaledDiffIntegerBits = 5 (int8 -> int8)."""
    integer_bits = 5
    real = min(float(beta) * float(input_scale) * (1 << (31 - integer_bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise ValueError("softmax input multiplier < 1")
    max_input_rescaled = 1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift)
    diff_min = -1 * int(math.floor(max_input_rescaled))
    return dict(input_multiplier=multiplier, input_left_shift=left_shift, diff_min=diff_min)


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """ComputePadding (top/left padding; bottom/right is implied by the output size)."""
    effective = (filter_size - 1) * dilation + 1
    pad = ((out_size - 1) * stride + effective - in_size) // 2
    return max(pad, 0)


def compute_out_size(padding_same: bool, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    """ComputeOutSize: SAME ceil(in/stride), VALID (in - effective + stride) / stride."""
    effective = (filter_size - 1) * dilation + 1
    if padding_same:
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul on Python ints (int32 semantics)."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    t = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    q = abs(t) >> 31
    return q if t >= 0 else -q          # C division truncates toward zero


def rdbpot(x: int, exponent: int) -> int:
    """RoundingDivideByPOT: x / 2^exponent, halves away from zero."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def add_input_lut(zero_point: int, multiplier: int, shift: int, left_shift: int = 20) -> list[int]:
    """ADD's per-input rescale for every int8 value -128..127 (index value + 128), as TFLM computes it:
    RoundingDivideByPOT(SRDHM((x - zp) << left_shift, multiplier), -shift)."""
    return [rdbpot(srdhm((v - zero_point) << left_shift, multiplier), -shift) for v in range(-128, 128)]


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite MultiplyByQuantizedMultiplier (double rounding) on Python ints with int32 wrap of x << left."""
    left, right = max(shift, 0), max(-shift, 0)
    xl = ((x << left) + (1 << 31)) % (1 << 32) - (1 << 31)
    return rdbpot(srdhm(xl, multiplier), right)
