/// Line protocol (InfluxDB 1.x): parsing from bytes and serializing points.
