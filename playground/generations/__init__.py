"""A generation: from gen.start to gen.done (service), run (runner), framed (relay), prompted, limited."""
