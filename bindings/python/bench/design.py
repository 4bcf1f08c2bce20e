"""The design's algorithm in pure Python: a lock, time.time(), the same bit layout.

This is the baseline of the benchmark: what the user's design costs when written as designed.
It follows the design exactly, including raising when the clock moves backwards."""

import threading
import time


class DesignGenerator:
    """IDGenerator(datacenter_id, machine_id, epoch) as the design wrote it, in pure Python."""

    def __init__(self, datacenter_id, machine_id, epoch, *, datacenter_bits=5, machine_bits=5, sequence_bits=12):
        self.max_datacenter_id = (1 << datacenter_bits) - 1
        self.max_machine_id = (1 << machine_bits) - 1
        self.max_sequence = (1 << sequence_bits) - 1
        if not 0 <= datacenter_id <= self.max_datacenter_id:
            raise ValueError(f"Datacenter ID must be between 0 and {self.max_datacenter_id}")
        if not 0 <= machine_id <= self.max_machine_id:
            raise ValueError(f"Machine ID must be between 0 and {self.max_machine_id}")
        self.datacenter_id = datacenter_id
        self.machine_id = machine_id
        self.epoch = epoch
        self.machine_shift = sequence_bits
        self.datacenter_shift = sequence_bits + machine_bits
        self.timestamp_shift = sequence_bits + machine_bits + datacenter_bits
        self.sequence = 0
        self.last_timestamp = -1
        self.lock = threading.Lock()

    def _timestamp(self):
        return int(time.time() * 1000)

    def generate_id(self):
        with self.lock:
            timestamp = self._timestamp()
            if timestamp < self.last_timestamp:
                raise Exception("Clock moved backwards. Refusing to generate id")
            if timestamp == self.last_timestamp:
                self.sequence = (self.sequence + 1) & self.max_sequence
                if self.sequence == 0:
                    while timestamp <= self.last_timestamp:
                        timestamp = self._timestamp()
            else:
                self.sequence = 0
            self.last_timestamp = timestamp
            return (
                ((timestamp - self.epoch) << self.timestamp_shift)
                | (self.datacenter_id << self.datacenter_shift)
                | (self.machine_id << self.machine_shift)
                | self.sequence
            )
