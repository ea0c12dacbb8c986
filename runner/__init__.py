"""tinyperf.runner"""
