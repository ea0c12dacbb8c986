"""Model compiler: .tflite flatbuffer to C (weights as const arrays, static arena plan, model_invoke())."""
