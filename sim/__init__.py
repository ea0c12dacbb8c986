"""tinyperf.sim"""
