"""tinyperf.firmware"""
