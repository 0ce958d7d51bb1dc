"""The playground socket: the consumer (one per open playground), its route, its flood throttle."""
