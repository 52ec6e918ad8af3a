"""OBS on the simulator's port: moto's S3 backend behind a gateway that checks signatures."""
