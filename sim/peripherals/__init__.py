"""tinyperf.sim.peripherals"""
