"""Real servers on loopback for tests and benchmarks: a scripted model upstream, Daphne."""
