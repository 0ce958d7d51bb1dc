"""A generation from gen.start to gen.done: started (service), run (runner), framed (relay)."""
