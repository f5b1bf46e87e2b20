"""The benchmark's phases, one module each; each module's `run(args, mode, seed_info, results)`
measures its part and stores it in `results`."""
